"""``make reliability``: ``python -m reliability [--quick] [--only TEXT] [--json FILE] [--record]`` (with tests/
on the path).

Prints the table and exits 1 when a row has anything lost, duplicated, missing or off contract, a kill that
missed its window, or a service that did not recover by itself. ``--record`` (what ``make reliability`` passes)
keeps the rows, their notes and the table, with the commit, host and date, in ``docs/results/``."""

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

from owstream.cli.results import Run
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
    parser.add_argument("--record", action="store_true", help="keep the results (commit, host, date) in docs/results/")
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
    run = Run("reliability", ["make reliability", *(argv if argv is not None else sys.argv[1:])])
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
    figures = {"table": render(rows), "not_clean": len(failed), "rows": [asdict(r) for r in rows]}
    if args.json is not None:
        args.json.write_text(json.dumps(run.document(figures, quick=args.quick), indent=2) + "\n")
    if args.record and rows:
        tag = "-".join(["quick"] * args.quick + ([args.profile] if args.profile != "both" else []))
        print(f"results: {run.record(figures, tag=tag + ('-only' if args.only else ''), quick=args.quick)}")
    return 1 if failed or not rows else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
