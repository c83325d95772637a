"""Results files (owstream/cli/results.py): what ``owstream bench --record``, ``--json`` and ``make reliability``
keep carries the commit it ran on, the host (CPU model, cores) and the date, next to the figures."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from owstream.cli.results import CHECKOUT, Run

HEAD = subprocess.run(
    ["git", "-C", str(CHECKOUT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
).stdout.strip()


def test_a_results_file_names_its_commit_host_and_date(tmp_path: Path) -> None:
    run = Run("bench", ["owstream", "bench", "--quick"])
    path = run.record({"latency": {"p50_ms": 40.0}}, directory=tmp_path, tag="quick", quick=True)
    assert re.fullmatch(rf"bench-\d{{8}}T\d{{4}}Z-{HEAD[:7]}-quick\.json", path.name)
    document = json.loads(path.read_text())
    assert document["commit"]["sha"] == HEAD
    assert document["host"]["cores"] == os.cpu_count() and document["host"]["cpu"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["began"])
    assert document["command"] == "owstream bench --quick" and document["quick"] is True
    assert document["figures"] == {"latency": {"p50_ms": 40.0}}


def test_bench_json_carries_the_provenance(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, "-m", "owstream.cli", "bench", "--quick", "--only", "ratelimit", "--json", str(out)],
        capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    document = json.loads(out.read_text())
    assert document["commit"]["sha"] == HEAD and document["host"]["cores"] == os.cpu_count()
    assert set(document["figures"]) == {"ratelimit"} and document["only"] == ["ratelimit"]
