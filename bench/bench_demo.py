"""Requests at 5/s to the offline demo as ``owstream up --demo`` runs it, and the OverFast calls each fetch costs
(issue 20), next to Kafka's own produce -> consume latency on the same broker, measured in the same run
(``bench_latency.kafka_floor``); every upstream call counted per endpoint.

The stack is the demo's own: one local broker, the simulator (seed 0, its players advancing every minute),
``owstream run services`` (fetcher, processor, scheduler, meta, notifier in one process) with the demo's settings
(``runtime/up.py``: a 60 s refresh and cache, the meta every minute, and the demo's own call limit: 20 requests a
second to OverFast, unchanged), every simulated player tracked. After the first refresh of every player the
bench publishes requests at ``--rate`` a second for ``--seconds``, round robin over the players, as kcat would
write them, and watches ``player-events`` for each one's ``fetch_stored``. Latency: request published ->
stored. Two phases: ``plain`` (``{"player_id": ...}``: OverFast is asked when the player's data is older than
the demo's 60 s cache) and ``forced`` (``"force": true``: every request a fetch from OverFast, which alone needs
about 18 of the demo's 20 calls a second).

Calls: the simulator counts every request it answers by endpoint (summary, stats, search, hero-stats). The
fetches' calls are checked against what each fetch needs: one summary, and one stats summary per gamemode and
platform the player has (1 + 2 x platforms); the search once per player, not per fetch.

    .venv/bin/python bench/bench_demo.py [--rate 5] [--seconds 60] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench_latency import JAR_CACHE, Pipeline, kafka_floor, percentiles
from owstream.config import Settings
from owstream.localkafka import LocalBroker, free_port
from owstream.localkafka.jars import ensure_jars, jars_dir
from owstream.runtime.kafka import ensure_kafka
from owstream.runtime.up import DEMO_REFRESH, demo_settings
from owstream.simulator import Simulator, SimulatorServer
from owstream.store import Store


def needed_calls(simulator: Simulator, players: list[str]) -> dict[str, int]:
    """What one fetch of each player needs: its summary and its stats per gamemode and platform."""
    return {pid: 1 + 2 * len(simulator.player(pid).platforms) for pid in players}  # type: ignore[union-attr]


def measure(settings: Settings, simulator: Simulator, rate: float, seconds: float) -> dict[str, dict[str, Any]]:
    """Both phases on one stack: ``plain`` requests (as kcat writes them without ``force``), then ``forced``."""
    players = [p for p in simulator.player_ids() if p not in simulator.private_player_ids()]
    with Store.open(settings.resolved_store_url) as store:
        for pid in simulator.player_ids():  # what `owstream up --demo` tracks
            store.watch_add(pid, time.time())
    pipeline = Pipeline(settings)
    phases: dict[str, dict[str, Any]] = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the scheduler's first refresh of every player, and the meta's
            with Store.open(settings.resolved_store_url) as store:
                if all(e.last_fetched_at for e in store.watchlist()):
                    break
            time.sleep(0.5)
        time.sleep(2.0)
        for name, force in (("plain", False), ("forced", True)):
            phases[name] = _phase(pipeline, simulator, players, rate, seconds, force=force)
    finally:
        pipeline.close()
    return phases


def _phase(
    pipeline: Pipeline, simulator: Simulator, players: list[str], rate: float, seconds: float, *, force: bool
) -> dict[str, Any]:
    searches_before = simulator.calls["search"]
    pipeline.sent.clear()
    pipeline.stored.clear()
    before = Counter(simulator.calls)
    count, began = int(rate * seconds), time.perf_counter()
    asked: Counter[str] = Counter()
    for i in range(count):
        player = players[i % len(players)]
        asked[player] += 1
        pipeline.request(player, force=force)
        while True:
            left = began + (i + 1) / rate - time.perf_counter()
            if left <= 0:
                break
            pipeline.receive(left)
    pipeline.wait_all(60)
    calls = Counter(simulator.calls) - before
    latencies = [(pipeline.stored[r] - sent) * 1000 for r, sent in pipeline.sent.items() if r in pipeline.stored]
    need = needed_calls(simulator, players)
    stored = percentiles(latencies)
    fetch_calls = calls.get("summary", 0) + calls.get("stats", 0)
    figures: dict[str, Any] = {
        "requests_lost": count - stored["n"],
        "stored_p50_ms": stored["p50_ms"],
        "stored_p95_ms": stored["p95_ms"],
        "stored_p99_ms": stored["p99_ms"],
        "stored_max_ms": stored["max_ms"],
        "summary_calls": calls.get("summary", 0),
        "stats_calls": calls.get("stats", 0),
        "search_calls": simulator.calls["search"] - searches_before,
        "meta_calls": calls.get("hero-stats", 0),
        "calls_per_s": round(sum(calls.values()) / seconds, 1),
        "fetch_calls_per_request": round(fetch_calls / max(1, count), 2),
    }
    if force:  # every request a fetch: its calls against what each needs
        figures["summary_calls_needed"] = count
        figures["stats_calls_needed"] = sum((need[p] - 1) * n for p, n in asked.items())
    return figures


def run(rate: float = 5.0, seconds: float = 60.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        home = Path(tmp)
        ensure_jars(JAR_CACHE)
        (home / "kafka" / "jars").mkdir(parents=True)
        jars_dir(home).symlink_to(jars_dir(JAR_CACHE), target_is_directory=True)
        simulator = Simulator(seed=0, advance_every=DEMO_REFRESH)  # as `owstream simulate --advance-every 60`
        with SimulatorServer(simulator) as upstream:
            base = Settings(home=home, kafka_port=free_port(), kafka_controller_port=free_port(), kafka_partitions=3)
            settings = demo_settings(base, upstream.port)  # the demo's settings: 20 calls/s, 60 s refresh
            broker = LocalBroker(settings)
            broker.start()
            try:
                ensure_kafka(settings, start_local=False)
                floor = percentiles(kafka_floor(settings, rate, seconds))
                phases = measure(settings, simulator, rate, seconds)
            finally:
                broker.stop()
    figures: dict[str, Any] = {
        "kafka_p50_ms": floor["p50_ms"],
        "kafka_p99_ms": floor["p99_ms"],
        "rate_per_s": rate,
        "seconds": seconds,
        "demo_call_limit_per_s": settings.rate_limit,
        "players": len(simulator.player_ids()),
        "search_calls_in_all": simulator.calls["search"],
    }
    for name, values in phases.items():
        figures |= {f"{name}_{key}": value for key, value in values.items()}
        figures[f"{name}_p50_vs_kafka"] = round(values["stored_p50_ms"] / floor["p50_ms"], 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=5.0, help="requests a second (5)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long requests are sent (60)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run(args.rate, args.seconds)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
