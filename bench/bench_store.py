"""Store throughput: decode FetchResult messages + ``Store.apply_results`` in batches of 500 into a SQLite file,
as the processor does (the garbage collector paused over each batch), without Kafka.

Snapshots are built from the recorded OverFast responses of TeKrop-2217, KIRIKO-12460 and JohnV1-1190, spread
over 300 player ids and serialised as the fetcher sends them (plain JSON; the producer compresses
batches). ``--changed F``: the
share of snapshots whose ``last_updated_at`` moved, each with games added to two heroes of both gamemodes (a
session per gamemode); the others repeat the player's previous answer, as OverFast does for a player who did
not play. 1.0, every snapshot a new session in both gamemodes, is the worst case.

The figure is compared with issue 4's yardstick, measured on the spot: a plain loop of ``json.loads`` +
normalise + SQLite inserts of every stats row, one transaction per batch (about 3,500/s on this machine
when the issue was written). Run: ``.venv/bin/python bench/bench_store.py [--quick] [-n N] [--changed F]``.
On a shared machine compare ``snapshots_per_cpu_s`` (CPU time) rather than wall time.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from owstream.domain.vocabulary import GAMEMODES, TOTAL_FIELDS
from owstream.messages import codec
from owstream.messages.models import FetchResult
from owstream.store import SourcedResult, Store
from owstream.store.writer import paused_gc

RECORDED = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "overfast" / "responses2"
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
    """The player's answer after ``step`` sessions (step 0: as recorded)."""
    summary, stats = json.loads(base)  # a fresh copy, much cheaper than copy.deepcopy
    summary["last_updated_at"] = (summary["last_updated_at"] or 1_700_000_000) + 3600 * step
    for body in stats.values():
        if not body or not step:
            continue
        heroes = sorted(body["heroes"])[:2]
        for hero in heroes:
            _advance(body["heroes"][hero], step, step // 2)
        _advance(body["general"], step * len(heroes), (step // 2) * len(heroes))
    return summary, stats


def build_messages(n: int, players: int = 300, changed: float = 1.0) -> list[bytes]:
    """n serialised FetchResults, players interleaved, each player's snapshots in order; a share ``changed``
    of them (after each player's first) moved on by a session."""
    every = max(1, round(1 / changed)) if changed > 0 else n + 1
    bases = [json.dumps(_load(p)) for p in PLAYERS]
    out = []
    for i in range(n):
        player, k = i % players, i // players
        summary, stats = _snapshot(bases[player % len(bases)], (k + every - 1) // every)
        result = FetchResult[dict[str, Any], dict[str, Any]](
            result_id=f"bench-{i}",
            request_ids=[f"req-{i}"],
            player_id=f"Bench{player}-{1000 + player}",
            fetched_at=1_800_000_000.0 + i,
            outcome="ok",
            summary=summary,
            stats=stats,
        )
        out.append(codec.encode(result))
    return out


def run(n: int, changed: float = 1.0) -> dict[str, Any]:
    """Apply n snapshots; return figures (snapshots/s over decode + apply, and the yardstick's)."""
    messages = build_messages(n, changed=changed)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        try:
            events = 0
            start, cpu_start = time.perf_counter(), time.process_time()
            for first in range(0, n, BATCH):
                with paused_gc():  # as the processor does around each batch
                    batch = [
                        SourcedResult(codec.decode_stored(raw), "owstream.fetch-results", 0, first + k, raw)
                        for k, raw in enumerate(messages[first : first + BATCH])
                    ]
                    events += len(store.apply_results(batch))
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            with store.engine.connect() as conn:
                counts = {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in ("stats", "sessions")}
        finally:
            store.close()
        yardstick = reference_loop(messages[: min(n, 5_000)], Path(tmp) / "plain.db")
    json_us = _json_loads_us(messages[:500])
    return {
        "snapshots": n,
        "changed_share": changed,
        "mean_message_bytes": round(sum(map(len, messages)) / n),
        "seconds": round(elapsed, 3),
        "snapshots_per_s": round(n / elapsed, 1),
        # CPU time of this process: less sensitive to other work on a shared machine than wall time
        "snapshots_per_cpu_s": round(n / cpu, 1),
        "events": events,
        "stats_rows_per_snapshot": round((counts["stats"] or 0) / n, 1),
        "sessions": counts["sessions"],
        # how fast the machine was just now: issue 4's plain loop, and one json.loads of a message
        "plain_loop_per_s": round(yardstick, 1),
        "json_loads_us_per_message": round(json_us, 1),
    }


def reference_loop(messages: list[bytes], path: Path) -> float:
    """Issue 4's yardstick, snapshots/s: json.loads + normalise every stats row + insert them all into SQLite
    (WAL, one transaction per batch of 500); no sessions, no dedup, no audit, no events."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"CREATE TABLE stats (snapshot INTEGER, {', '.join(f'c{i}' for i in range(20))})")
    sql = f"INSERT INTO stats VALUES ({', '.join('?' * 21)})"
    start = time.perf_counter()
    for first in range(0, len(messages), BATCH):
        rows = []
        for k, raw in enumerate(messages[first : first + BATCH]):
            body = json.loads(raw)
            for mode, stats in body["stats"].items():
                rows.extend((first + k, *r) for r in _plain_rows(mode, stats))
        db.execute("BEGIN")
        db.executemany(sql, rows)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return len(messages) / elapsed


def _plain_rows(mode: str, body: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The yardstick's normalisation: one tuple of 20 values per block, no checks."""
    blocks = [("overall", "all", body["general"])]
    blocks += [("role", k, b) for k, b in body.get("roles", {}).items()]
    blocks += [("hero", k, b) for k, b in body.get("heroes", {}).items()]
    return [
        (
            mode, scope, key, b["games_played"], b["games_won"], b["games_lost"], b["time_played"], b["winrate"],
            b["kda"], *(b["total"][n] for n in TOTAL_FIELDS), *(b["average"][n] for n in TOTAL_FIELDS), None,
        )
        for scope, key, b in blocks
    ]  # fmt: skip


def _json_loads_us(messages: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in messages:
        json.loads(raw)
    return (time.perf_counter() - start) / len(messages) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 snapshots instead of 20,000")
    parser.add_argument("-n", type=int, default=None)
    parser.add_argument("--changed", type=float, default=1.0, help="share of snapshots with a new session (1.0)")
    args = parser.parse_args()
    n = args.n or (2_000 if args.quick else 20_000)
    figures = run(n, changed=args.changed)
    print(json.dumps(figures))
    print(
        f"store: {figures['snapshots_per_s']:.0f} snapshots/s wall, {figures['snapshots_per_cpu_s']:.0f} per CPU"
        f" second ({figures['changed_share']:.0%} changed; decode + apply_results, batches of {BATCH});"
        f" issue 4's plain loop just now: {figures['plain_loop_per_s']:.0f}/s"
    )


if __name__ == "__main__":
    main()
