"""Results files: what ``owstream bench --record`` and ``make reliability`` measured, with where and when, in
``docs/results/`` (a source checkout), so that every figure the README and docs/ quote names the run it came
from. A file holds the figures and their provenance: the commit (and whether the work tree differed from it),
the host (CPU model, cores, memory, kernel, load average when the run began and ended), the UTC start and end,
and the command. The commit is read when the run begins: the code that ran."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[3]  # the repository, in a source checkout
RESULTS_DIR = CHECKOUT / "docs" / "results"


def _git(*args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(CHECKOUT), *args], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def commit() -> dict[str, Any]:
    """The checked-out commit, and whether tracked files differ from it (results files aside)."""
    changed = [
        line[3:]
        for line in _git("status", "--porcelain", "--untracked-files=no").splitlines()
        if not line[3:].startswith("docs/results/")
    ]
    return {"sha": _git("rev-parse", "HEAD") or "unknown", "changed_files": changed}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def host() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def utc(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


class Run:
    """One measured run: ``Run("bench", argv)`` when it begins, :meth:`record` with its figures at the end."""

    def __init__(self, kind: str, argv: list[str] | None = None) -> None:
        self.kind = kind
        self.argv = list(sys.argv if argv is None else argv)
        self.began = time.time()
        self.load_at_start = os.getloadavg()
        self.commit = commit()  # the code that runs: what the tree holds when the run begins

    def document(self, figures: Any, **extra: Any) -> dict[str, Any]:
        ended = time.time()
        return {
            "kind": self.kind,
            "command": " ".join(self.argv),
            "began": utc(self.began),
            "ended": utc(ended),
            "minutes": round((ended - self.began) / 60, 1),
            "commit": self.commit,
            "host": host() | {"load_average_at_start": self.load_at_start, "load_average_at_end": os.getloadavg()},
            **extra,
            "figures": figures,
        }

    def record(self, figures: Any, *, directory: Path = RESULTS_DIR, tag: str = "", **extra: Any) -> Path:
        """Write the results file ``<kind>-<UTC start>-<commit>[-tag].json`` into ``directory``; its path."""
        document = self.document(figures, **extra)
        stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime(self.began))
        name = "-".join(part for part in (self.kind, stamp, document["commit"]["sha"][:7], tag) if part)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.json"
        path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
        return path
