"""``make reliability``: ``python -m reliability [--quick] [--only TEXT] [--json FILE]`` (with tests/ on the path).

Prints the table and exits 1 when a row has anything lost, duplicated or missing, or a service that did not
recover by itself."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from reliability import scenarios
from reliability.runner import render, run_all
from reliability.stack import Profile

SINGLE = Profile("single", brokers=1, postgres=False, fetchers=1, processors=1)
CLUSTER = Profile("cluster", brokers=3, postgres=True, fetchers=2, processors=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only the fast part (what `make test` runs)")
    parser.add_argument("--only", default="", help="only the faults whose name contains this")
    parser.add_argument("--profile", choices=["single", "cluster", "both"], default="both")
    parser.add_argument("--json", type=Path, help="also write the rows and their notes to this file")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs, data)")
    args = parser.parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):  # stopped from outside: the finally blocks stop what we started
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("owstream", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    def chosen(rows: list[scenarios.Scenario]) -> list[scenarios.Scenario]:
        return [s for s in rows if args.only.lower() in s.name.lower()]

    plan = []
    if args.quick:
        plan.append((SINGLE, chosen(scenarios.fast())))
    else:
        if args.profile in ("single", "both"):
            plan.append((SINGLE, chosen(scenarios.full(SINGLE.brokers))))
        if args.profile in ("cluster", "both"):
            plan.append((CLUSTER, chosen(scenarios.full(CLUSTER.brokers))))
    root = Path(tempfile.mkdtemp(prefix="owstream-reliability-"))
    began = time.monotonic()
    try:
        rows = run_all(root, [(p, s) for p, s in plan if s])
    finally:
        if args.keep:
            print(f"run directory kept: {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    minutes = (time.monotonic() - began) / 60
    print()
    print(render(rows))
    print()
    for row in rows:
        for note in row.notes:
            print(f"- {row.fault} [{row.profile}]: {note}")
    failed = [row for row in rows if not row.ok]
    command = "make reliability" + (" (quick)" if args.quick else "")
    print(f"\n{command}: {len(rows)} rows in {minutes:.1f} min; {len(failed)} not clean" if rows else "no rows")
    if args.json is not None:
        args.json.write_text(json.dumps({"minutes": minutes, "rows": [asdict(r) for r in rows]}, indent=2))
    return 1 if failed or not rows else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
