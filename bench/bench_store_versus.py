"""The store benchmark of an older commit and of this checkout, side by side in one run (issue 10: the
restructured store keeps its worst-case speed within 10 % of the old one's).

The old commit is unpacked (``git archive``) into a temporary directory with its own virtualenv (installed
from its own ``constraints.txt``), then both ``bench/bench_store.py`` scripts run alternately, ``--rounds``
times each, on the same snapshots (every snapshot a new session: the worst case). Prints each side's median
snapshots/s (wall and per CPU second) and the ratio now/before; on this shared 2-core VM the CPU-second
figure is the steadier one.

    .venv/bin/python bench/bench_store_versus.py [--ref bb705bc] [-n 20000] [--rounds 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BEFORE_HOUSE = "bb705bc"  # main before issue 10's restructure


def _unpack(ref: str, into: Path) -> Path:
    """The tree of ``ref`` with a virtualenv of its dependencies; returns its python."""
    tree = into / "before"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    # the old tree read its recorded responses from a shared/overfast folder beside its own root: that folder is
    # made here, inside the temporary directory, pointing at this clone's tests/fixtures (nothing outside is read)
    old_place = Path(into, "shared", "overfast")
    old_place.parent.mkdir()
    old_place.symlink_to(ROOT / "tests" / "fixtures" / "overfast", target_is_directory=True)
    venv = into / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-c", str(tree / "constraints.txt"), str(tree)], check=True)
    return venv / "bin" / "python"


def _once(python: Path, script: Path, n: int) -> dict[str, Any]:
    out = subprocess.run([str(python), str(script), "-n", str(n)], check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(out.stdout.splitlines()[0])
    return figures


def run(ref: str = BEFORE_HOUSE, n: int = 20_000, rounds: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-store-versus-") as tmp:
        old_python = _unpack(ref, Path(tmp))
        sides = {"before": (old_python, Path(tmp) / "before" / "bench" / "bench_store.py"),
                 "now": (Path(sys.executable), ROOT / "bench" / "bench_store.py")}  # fmt: skip
        runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
        for _ in range(rounds):
            for side, (python, script) in sides.items():
                runs[side].append(_once(python, script, n))
    med = {
        side: {key: statistics.median(r[key] for r in rs) for key in ("snapshots_per_s", "snapshots_per_cpu_s")}
        for side, rs in runs.items()
    }
    return {
        "ref": ref,
        "snapshots": n,
        "rounds": rounds,
        "before_per_s": round(med["before"]["snapshots_per_s"]),
        "now_per_s": round(med["now"]["snapshots_per_s"]),
        "before_per_cpu_s": round(med["before"]["snapshots_per_cpu_s"]),
        "now_per_cpu_s": round(med["now"]["snapshots_per_cpu_s"]),
        "now_vs_before_wall": round(med["now"]["snapshots_per_s"] / med["before"]["snapshots_per_s"], 2),
        "now_vs_before_cpu": round(med["now"]["snapshots_per_cpu_s"] / med["before"]["snapshots_per_cpu_s"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", default=BEFORE_HOUSE)
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run(args.ref, args.n, args.rounds)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
