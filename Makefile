# owstream: the two commands of the README are `make run` and `make test`; both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run demo test test-fast compose-test reliability lint format bench screenshots install system-deps java clean

## run: bring the product up (local Kafka, services, dashboard); the offline demo when OverFast is unreachable
run: install
	@if $(BIN)/python -m owstream.runtime.reachability; then \
		$(BIN)/owstream up; \
	else \
		echo "The public OverFast API cannot be reached from here: starting the offline demo (owstream up --demo)."; \
		$(BIN)/owstream up --demo; \
	fi

demo: install
	$(BIN)/owstream up --demo

## test: everything, on a real Kafka broker, real HTTP servers and a real browser, then compose.yaml for real
## (the engine and base images for compose are made beside pytest: a cold machine builds them meanwhile)
test: install system-deps
	@log=$$(mktemp); bash tests/compose/run.sh --prepare >"$$log" 2>&1 & prep=$$!; \
	$(BIN)/pytest; status=$$?; \
	wait $$prep; prepared=$$?; cat "$$log"; rm -f "$$log"; \
	[ $$status = 0 ] || exit $$status; \
	[ $$prepared = 0 ] || echo "compose-test: making the engine and base images beside pytest failed (above): compose-test tries again"; \
	$(MAKE) --no-print-directory compose-test

## compose-test: compose.yaml up, checked and taken down on a container engine (started here if none runs;
## base images made locally if no registry answers): tests/compose/run.sh
compose-test: install system-deps
	bash tests/compose/run.sh

test-fast: install
	$(BIN)/pytest -m "not browser"

## reliability: kill -9, broker and store outages, upstream faults and poison on real processes and brokers
## (1 node + SQLite, 3 nodes + PostgreSQL with 2 fetchers and 2 processors); prints the table (docs/reliability.md)
## and keeps it, with the commit, host and date, in docs/results/
reliability: install system-deps
	cd tests && ../$(BIN)/python -m reliability --record $(RELIABILITY_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: install
	$(BIN)/owstream bench --record $(BENCH_ARGS)

## screenshots: refresh docs/screenshots/ (every page at 1440 and 390 px, taken by the browser tests that
## measure them: tests/e2e/test_pages.py)
screenshots: install system-deps
	$(BIN)/pytest tests/e2e/test_pages.py

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11+ is needed"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed"; exit 1; }
	@command -v java >/dev/null || $(MAKE) --no-print-directory java
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

java:
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq openjdk-17-jre-headless

## system-deps: Debian's chromium for the browser tests (never a downloaded browser), a PostgreSQL server
## so the store tests also run on PostgreSQL (they start their own cluster on 127.0.0.1), and kcat, the
## outside view of the topics (any Kafka tool must read them)
system-deps:
	@missing=""; \
	test -x $(CHROMIUM) || missing="$$missing chromium"; \
	command -v kcat >/dev/null || missing="$$missing kcat"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
