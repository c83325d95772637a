"""Store throughput: parse FetchResult bytes + Store.apply_results in batches of 500 into a SQLite file.

Snapshots are built from the recorded OverFast responses of TeKrop-2217, KIRIKO-12460 and JohnV1-1190, spread
over many player ids, each with ``last_updated_at`` bumped and games added to a few heroes, so every snapshot
is "changed" and yields a session. Run: ``.venv/bin/python bench/bench_store.py [--quick] [-n N] [--pause-gc]``.
On a shared machine compare ``snapshots_per_cpu_s`` (CPU time) rather than wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from owstream.decoding import decode_result
from owstream.messages import GAMEMODES, FetchResult
from owstream.store import SourcedResult, Store
from owstream.store.writer import paused_gc

RECORDED = Path(__file__).resolve().parents[1].parent / "shared" / "overfast" / "responses2"
PLAYERS = ("TeKrop-2217", "KIRIKO-12460", "JohnV1-1190")
BATCH = 500


def _load(player: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    summary = json.loads((RECORDED / f"players_{player}_summary.json").read_text())
    stats = {
        mode: json.loads((RECORDED / f"players_{player}_stats_summary_{mode}_all.json").read_text())
        for mode in GAMEMODES
    }
    return summary, stats


def _advance(block: dict[str, Any], games: int, won: int) -> None:
    block["games_played"] += games
    block["games_won"] += won
    block["games_lost"] += games - won
    block["time_played"] += 600 * games
    for name in ("eliminations", "assists", "deaths", "damage", "healing"):
        block["total"][name] += 5 * games


def _snapshot(base: str, step: int) -> tuple[dict[str, Any], Any]:
    summary, stats = json.loads(base)  # a fresh copy, much cheaper than copy.deepcopy
    summary["last_updated_at"] = (summary["last_updated_at"] or 1_700_000_000) + 3600 * step
    for body in stats.values():
        if not body:
            continue
        heroes = sorted(body["heroes"])[:2]
        for hero in heroes:
            _advance(body["heroes"][hero], step, step // 2)
        _advance(body["general"], step * len(heroes), (step // 2) * len(heroes))
    return summary, stats


def build_messages(n: int, players: int = 300) -> list[bytes]:
    """n serialised FetchResults, players interleaved, each player's snapshots in order."""
    bases = [json.dumps(_load(p)) for p in PLAYERS]
    out = []
    for i in range(n):
        player, step = i % players, i // players + 1
        summary, stats = _snapshot(bases[player % len(bases)], step)
        result = FetchResult.model_construct(  # the recorded bodies are valid: skip re-validating them
            result_id=f"bench-{i}",
            request_ids=[f"req-{i}"],
            player_id=f"Bench{player}-{1000 + player}",
            fetched_at=1_800_000_000.0 + i,
            outcome="ok",
            summary=summary,
            stats=stats,
        )
        out.append(result.to_bytes())
    return out


def run(n: int, pause_gc: bool = False) -> dict[str, float]:
    """Apply n snapshots; return figures (snapshots/s over parse + apply, mean message size).

    ``pause_gc``: pause the cyclic garbage collector over parse + apply of each batch, not only during
    apply_results (which pauses it itself): what a processor gains by doing the same around its batches.
    """
    messages = build_messages(n)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        try:
            events = 0
            parse_s = 0.0
            start, cpu_start = time.perf_counter(), time.process_time()
            for first in range(0, n, BATCH):
                with paused_gc() if pause_gc else contextlib.nullcontext():
                    t0 = time.perf_counter()
                    batch = [
                        SourcedResult(decode_result(raw), "owstream.fetch-results", 0, first + k, raw)
                        for k, raw in enumerate(messages[first : first + BATCH])
                    ]
                    parse_s += time.perf_counter() - t0
                    events += len(store.apply_results(batch))
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            sessions = len(store.table_dump()["sessions"]) if n <= 5000 else -1
        finally:
            store.close()
    calibration = time.perf_counter()
    for raw in messages[:500]:
        json.loads(raw)
    json_us = (time.perf_counter() - calibration) / min(n, 500) * 1e6
    return {
        "snapshots": n,
        # how fast this machine is: plain json.loads of one message (about 60-80 us on a current desktop)
        "json_loads_us_per_message": round(json_us, 1),
        "seconds": round(elapsed, 3),
        "snapshots_per_s": round(n / elapsed, 1),
        # CPU time of this process: less sensitive to other work on a shared machine than wall time
        "cpu_seconds": round(cpu, 3),
        "snapshots_per_cpu_s": round(n / cpu, 1),
        "parse_seconds": round(parse_s, 3),
        "mean_message_bytes": round(sum(map(len, messages)) / n),
        "events": events,
        "sessions": sessions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 snapshots instead of 20,000")
    parser.add_argument("-n", type=int, default=None)
    parser.add_argument("--pause-gc", action="store_true", help="pause the garbage collector over parse too")
    args = parser.parse_args()
    n = args.n or (2_000 if args.quick else 20_000)
    figures = run(n, pause_gc=args.pause_gc)
    print(json.dumps(figures))
    print(
        f"store: {figures['snapshots_per_s']:.0f} snapshots/s wall, {figures['snapshots_per_cpu_s']:.0f} per CPU second"
        f" (parse + apply_results, batches of {BATCH}; json.loads of one message:"
        f" {figures['json_loads_us_per_message']:.0f} us)"
    )


if __name__ == "__main__":
    main()
