"""``owstream bench``: runs the benchmark scripts of ``bench/`` (a source checkout) and prints their figures.

Performance is measured here, never asserted in tests. Each script also runs on its own
(``python bench/bench_X.py --help``).
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from owstream.errors import OwstreamError

BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"

# name -> (script of bench/, what it measures, the call for a full run, the call for --quick)
Call = Callable[[Any], dict[str, Any]]
Suite = dict[str, tuple[str, str, Call, Call]]
SUITE: Suite = {
    "latency": (
        "latency",
        "request -> stored at 5 req/s, instant upstream, vs Kafka's own produce -> consume on the same broker",
        lambda m: m.run(5.0, 60.0),
        lambda m: m.run(5.0, 10.0),
    ),
    "commands": (
        "commands",
        "command start to finish (median), vs `python -c pass`",
        lambda m: m.run(5),
        lambda m: m.run(2),
    ),
    "pages": (
        "pages",
        "each dashboard page in chromium, navigation to content, vs a bare Streamlit page",
        lambda m: m.run(3),
        lambda m: m.run(1),
    ),
    "stack-memory": (
        "stack_memory",
        "PSS of the whole `up --demo` stack with every page opened and 5 req/s, one process vs one per service",
        lambda m: m.both(90.0),
        lambda m: m.run(30.0),
    ),
    "processor": (
        "processor",
        "processor through a real Kafka broker, every snapshot a new session, vs a bare consumer and the plain loop",
        lambda m: m.run(20_000),
        lambda m: m.run(2_000),
    ),
    "store-versus": (
        "store_versus",
        "the store's worst case before issue 10 (bb705bc) and now, alternating, medians",
        lambda m: m.run(n=20_000, rounds=3),
        lambda m: m.run(n=2_000, rounds=1),
    ),
    "store": (
        "store",
        "decode + store, SQLite, batches of 500, every snapshot a new session (worst case)",
        lambda m: m.run(20_000),
        lambda m: m.run(2_000),
    ),
    "store-mixed": (
        "store",
        "decode + store, one snapshot in four a new session",
        lambda m: m.run(20_000, changed=0.25),
        lambda m: m.run(2_000, changed=0.25),
    ),
    "broker-memory": (
        "broker_memory",
        "the broker JVM's PSS idle and under 20,000 13 KB messages + transactions, before vs now (docs/broker.md)",
        lambda m: m.run(20_000, ["before", "chosen"]),  # every figure of each variant: results files keep them
        lambda m: m.run(2_000, ["chosen"]),
    ),
    "ratelimit": (
        "ratelimit",
        "client rate limit vs a server that answers 429 above N=30 req/s",
        lambda m: m.run(30, 30.0),
        lambda m: m.run(30, 5.0),
    ),
    "dashboard": (
        "dashboard",
        "each dashboard page's data, 200 players x 1,000 snapshots",
        lambda m: m.run(200, 1000),
        lambda m: m.run(20, 100),
    ),
    "demo": (
        "demo",
        "requests at 5/s to the `up --demo` stack (its own 20 calls/s), plain and forced, and each fetch's OverFast "
        "calls per endpoint, vs Kafka's own latency on the same broker",
        lambda m: m.run(5.0, 60.0),
        lambda m: m.run(5.0, 10.0),
    ),
    "population": (
        "population",
        "tracked players who play as people do (a tenth a day), through the real pipeline on a simulated clock: "
        "calls, fetch-results and store bytes per player per day, sessions seen and when, before and after issue 23",
        lambda m: m.run(players=100, days=1.5),
        lambda m: m.run(players=30, days=1.0),
    ),
    "result-bytes": (
        "result_bytes",
        "bytes on fetch-results of a refresh before (summed, every time) and now: changed, unchanged (summary only)",
        lambda m: m.run(),
        lambda m: m.run(),
    ),
}


def run_suite(*, quick: bool = False, only: list[str] | None = None, console: Console | None = None) -> dict[str, Any]:
    console = console or Console()
    if not BENCH_DIR.is_dir():
        raise OwstreamError(f"the benchmark suite runs from a source checkout ({BENCH_DIR} does not exist)")
    unknown = sorted(set(only or ()) - set(SUITE))
    if unknown:
        raise OwstreamError(f"no benchmark {', '.join(unknown)} (there are: {', '.join(SUITE)})")
    sys.path.insert(0, str(BENCH_DIR))
    figures: dict[str, Any] = {}
    for name, (script, what, full, short) in SUITE.items():
        if only and name not in only:
            continue
        console.print(f"[bold]{name}[/bold]: {what}…")
        began = time.perf_counter()
        module = importlib.import_module(f"bench_{script}")
        figures[name] = (short if quick else full)(module)
        console.print(_table(figures[name]), f"({time.perf_counter() - began:.0f} s)")
    return figures


def _table(values: dict[str, Any]) -> Table:
    table = Table(show_header=False, show_edge=False, pad_edge=False)
    table.add_column(justify="right")
    table.add_column()
    for key, value in values.items():
        table.add_row(key, str(value))
    return table
