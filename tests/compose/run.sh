#!/usr/bin/env bash
# `make compose-test`: compose.yaml run for real. A container engine (the one that answers, else Debian's
# dockerd started here), Compose v2, the base images (pulled, else made here as test stand-ins), then the
# tests of this directory; everything it started is stopped on the way out, whatever happened.
# Slow parts are cached in ~/.cache/owstream-test/compose (the engine's data root: images and build cache).
# `run.sh --prepare` stops after the engine and the base images (what `make test` does beside pytest, so that
# a cold machine's debootstrap and builds do not add to the suite's time); the engine is stopped either way.
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=tests/compose
began=$(date +%s)

cleanup() {
    local status=$?
    if [ "${OWSTREAM_COMPOSE_ENGINE:-}" = own ]; then
        # The classic builder leaves each build's first stage as an untagged image: those of the last week
        # stay (the cache of the next build), older ones go.
        docker image prune -f --filter until=168h >/dev/null || true
        "$HERE/engine.sh" stop
    fi
    echo "compose-test: $(( $(date +%s) - began )) s in all"
    exit "$status"
}
trap cleanup EXIT

eval "$("$HERE/engine.sh" start)"
"$HERE/standins/build.sh"
echo "compose-test: engine and base images ready in $(( $(date +%s) - began )) s"
[ "${1:-}" = --prepare ] && exit 0
.venv/bin/pytest -p no:cacheprovider -o addopts="-ra --strict-markers" "$HERE" "$@"
