"""What README.md and docs/ say, held to the code and to the results files: the demo's players, and every
figure's source (each results file a page names exists, and names the commit, host and date it ran on)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from owstream.simulator import Simulator, player_ids

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_says_how_many_players_the_demo_has() -> None:
    said = re.search(r"simulator with (\d+)\s+synthetic players", README)
    assert said is not None
    assert int(said.group(1)) == len(player_ids())  # what `up --demo` puts on the watchlist
    assert len(Simulator().private_player_ids()) == 1 and "one of them private" in README


RESULTS = ROOT / "docs" / "results"
# bench- and reliability- files are written by `owstream bench --record` and `make reliability`; population-
# files by the population benchmark (docs/scaling.md quotes its figures from one).
NAMED = re.compile(r"results/((?:bench|reliability|population)-[\w.-]+\.json)")
QUOTING = ["README.md", "docs/benchmarks.md", "docs/reliability.md", "docs/broker.md", "docs/scaling.md",
           "docs/deploy.md", "docs/architecture.md"]  # fmt: skip


def _named(page: str) -> set[str]:
    return set(NAMED.findall((ROOT / page).read_text(encoding="utf-8")))


def test_every_page_that_quotes_measurements_names_the_results_files_they_come_from() -> None:
    for page in QUOTING:
        assert _named(page), f"{page} names no results file"


def test_every_results_file_a_page_names_exists() -> None:
    named = {name for page in [*QUOTING, "docs/topics.md"] for name in _named(page)}
    assert named
    missing = sorted(name for name in named if not (RESULTS / name).is_file())
    assert not missing, f"named in the docs, not in docs/results/: {missing}"


def test_every_bench_and_reliability_results_file_names_its_commit_host_and_date() -> None:
    files = sorted(RESULTS.glob("bench-*.json")) + sorted(RESULTS.glob("reliability-*.json"))
    assert files
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert re.fullmatch(r"[0-9a-f]{40}", document["commit"]["sha"]), path.name
        assert path.name.split("-")[2].startswith(document["commit"]["sha"][:7]), path.name
        assert document["host"]["cpu"] and document["host"]["cores"] >= 1, path.name
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["began"]), path.name
        assert document["figures"], path.name


def test_the_reliability_page_quotes_the_table_of_the_run_it_names() -> None:
    page = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    last_run = page.split("## The last full run", 1)[1].split("\n## ", 1)[0]
    named = NAMED.findall(last_run)
    assert len(set(named)) == 1, "the last full run names one results file"
    document = json.loads((RESULTS / named[0]).read_text(encoding="utf-8"))
    assert document["figures"]["table"] in last_run
