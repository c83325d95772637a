"""Dashboard data: how long each page's queries take on a big store (target: < 300 ms per page).

Fills a SQLite store with ``players`` tracked players x ``snapshots`` changed snapshots each, straight into
the tables with bulk inserts (far faster than the processor; row counts per snapshot are the processor's:
stats rows for every block of a player's first snapshot, 2 gamemodes x (overall + 3 roles + 8 heroes), then
only for the blocks a session moved, 2 x (overall + 1 role + 2 heroes); 3 ranks, 2 sessions with 3 parts
each, one raw result (with a small placeholder payload), one fetch outcome, a rank change every 10th
snapshot; the second half of each player's snapshots in a new season). Then it
times the store's page reads (``owstream.store.reading.Reads``, what ``owstream.dashboard.data`` caches) per page,
median of runs.

Run: ``.venv/bin/python bench/bench_dashboard.py [--quick] [--players N] [--snapshots N]``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Table

from owstream.store import Store, schema

T0 = 1_700_000_000.0
ROLES = ("tank", "damage", "support")
HEROES = ("ana", "kiriko", "mercy", "genji", "tracer", "reinhardt", "dva", "sojourn", "lucio", "zenyatta")
MODES = ("quickplay", "competitive")
DIVISIONS = ("bronze", "silver", "gold", "platinum", "diamond", "master")
TARGET_MS = 300.0
RUNS = 5


def _insert(db: sqlite3.Connection, table: Table, rows: Iterator[tuple[Any, ...]]) -> int:
    names = [c.name for c in table.columns]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    cur = db.executemany(sql, rows)
    return cur.rowcount


def _pid(p: int) -> str:
    return f"Player{p:04d}-{1000 + p}"


def _stat(sid: int, mode: str, scope: str, key: str, k: int, share: float) -> tuple[Any, ...]:
    games = int((100 + 3 * k) * share) + 1
    won = games // 2 + (k % 3)
    won = min(won, games)
    kills = games * 20.0
    return (
        sid, mode, scope, key, games, won, games - won, 600 * games,
        round(100 * won / games, 2), 2.5, kills, kills / 4, kills / 2.5, kills * 800, kills * 300,
        18.0, 4.5, 7.2, 8000.0, 3000.0, False,
    )  # fmt: skip


def _stats_rows(players: int, snapshots: int) -> Iterator[tuple[Any, ...]]:
    for p in range(players):
        for k in range(snapshots):
            sid = p * snapshots + k + 1
            heroes = [HEROES[(p + i) % len(HEROES)] for i in range(8)]
            for mode in MODES:
                yield _stat(sid, mode, "overall", "all", k, 1.0)
                for i, role in enumerate(ROLES):
                    if k == 0 or role == "support":  # later snapshots: only the blocks a session moved
                        yield _stat(sid, mode, "role", role, k, (i + 1) / 6)
                for i, hero in enumerate(heroes):
                    if k == 0 or i < 2:
                        yield _stat(sid, mode, "hero", hero, k, 1 / (i + 2))


def _session_rows(players: int, snapshots: int) -> Iterator[tuple[Any, ...]]:
    for p in range(players):
        for k in range(1, snapshots):
            sid = p * snapshots + k + 1
            for mode in MODES:
                yield (
                    sid, mode, _pid(p), sid - 1, int(T0 + 3600 * (k - 1)), int(T0 + 3600 * k), T0 + 3600 * k + p,
                    4, 3, 1, 2400, 80.0, 24.0, 10.0, 30000.0, 9000.0, 75.0, 2.5,
                    f"{HEROES[p % 10]},{HEROES[(p + 1) % 10]}", False,
                )  # fmt: skip


def _part_rows(players: int, snapshots: int) -> Iterator[tuple[Any, ...]]:
    for p in range(players):
        for k in range(1, snapshots):
            sid = p * snapshots + k + 1
            for mode in MODES:
                for scope, key in (("hero", HEROES[p % 10]), ("hero", HEROES[(p + 1) % 10]), ("role", "support")):
                    yield (sid, mode, scope, key, 2, 2, 0, 1200, 12.0, 2.0, 3.0, 15000.0, 4500.0, 100.0, 2.5)


def fill(path: Path, players: int, snapshots: int) -> dict[str, int]:
    """Create the schema through Store.open, then bulk-insert every table. Returns row counts."""
    Store.open(f"sqlite:///{path}").close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    counts: dict[str, int] = {}
    last = T0 + 3600 * (snapshots - 1)
    counts["players"] = _insert(
        db, schema.players,
        ((_pid(p), f"Player{p:04d}", None, None, "Title", 3, T0, last + p, False, "ok", int(last))
         for p in range(players)),
    )  # fmt: skip
    counts["watchlist"] = _insert(db, schema.watchlist, ((_pid(p), T0, None, None, None) for p in range(players)))
    counts["snapshots"] = _insert(
        db, schema.snapshots,
        ((p * snapshots + k + 1, _pid(p), f"r{p}-{k}", T0 + 3600 * k + p, int(T0 + 3600 * k), True, "ok",
          "owstream.fetch-results", p % 6, k, 12 + 2 * k // snapshots)
         for p in range(players) for k in range(snapshots)),
    )  # fmt: skip
    counts["stats"] = _insert(db, schema.stats, _stats_rows(players, snapshots))
    counts["ranks"] = _insert(
        db, schema.ranks,
        ((p * snapshots + k + 1, "pc", role, 12, DIVISIONS[(k // 10 + i) % len(DIVISIONS)], 1 + k % 5, None)
         for p in range(players) for k in range(snapshots) for i, role in enumerate(ROLES)),
    )  # fmt: skip
    counts["sessions"] = _insert(db, schema.sessions, _session_rows(players, snapshots))
    counts["session_parts"] = _insert(db, schema.session_parts, _part_rows(players, snapshots))
    counts["rank_changes"] = _insert(
        db, schema.rank_changes,
        ((p * snapshots + k + 1, "pc", "support", _pid(p), 12, "gold", 1, "platinum", 5, T0 + 3600 * k + p)
         for p in range(players) for k in range(10, snapshots, 10)),
    )  # fmt: skip
    counts["raw_results"] = _insert(
        db, schema.raw_results,
        ((f"r{p}-{k}", _pid(p), T0 + 3600 * k + p, b"x" * 64, "owstream.fetch-results", p % 6, k)
         for p in range(players) for k in range(snapshots)),
    )  # fmt: skip
    counts["fetch_outcomes"] = _insert(
        db, schema.fetch_outcomes,
        ((f"q{p}-{k}", f"r{p}-{k}", _pid(p), "ok", None, None, 200, T0 + 3600 * k + p)
         for p in range(players) for k in range(snapshots)),
    )  # fmt: skip
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return counts


def _median_ms(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def time_pages(url: str, players: int, snapshots: int) -> dict[str, float]:
    store = Store.open(url)
    pid = _pid(players // 2)
    squad = [_pid(i) for i in range(min(4, players))]
    now = T0 + 3600 * (snapshots - 1) + players
    season = str(store.current_season())
    try:
        return {
            "player": _median_ms(lambda: (store.players(), store.player_view(pid, "competitive"))),
            "history": _median_ms(lambda: store.history_view(pid, "competitive")),
            "squad": _median_ms(lambda: (store.players(), store.squad_view(squad, "competitive", 12.0))),
            "player (this season)": _median_ms(lambda: store.player_view(pid, "competitive", season)),
            "history (this season)": _median_ms(lambda: store.history_view(pid, "competitive", season)),
            "squad (this season)": _median_ms(lambda: store.squad_view(squad, "competitive", 12.0, season)),
            "pipeline (store part)": _median_ms(lambda: store.activity_view(now)),
            "watchlist": _median_ms(store.watch_view),
        }
    finally:
        store.close()


def run(players: int = 200, snapshots: int = 1000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="owstream-bench-dash-") as tmp:
        path = Path(tmp) / "store.db"
        start = time.perf_counter()
        counts = fill(path, players, snapshots)
        fill_s = round(time.perf_counter() - start, 1)
        pages = time_pages(f"sqlite:///{path}", players, snapshots)
        return {
            "players": players,
            "snapshots_per_player": snapshots,
            "rows": counts,
            "fill_seconds": fill_s,
            "db_mb": round(path.stat().st_size / 1e6),
            "page_ms": pages,
            "target_ms": TARGET_MS,
            "all_under_target": all(v < TARGET_MS for v in pages.values()),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="20 players x 100 snapshots")
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--snapshots", type=int, default=1000)
    args = parser.parse_args()
    players, snapshots = (20, 100) if args.quick else (args.players, args.snapshots)
    result = run(players, snapshots)
    for page, ms in result["page_ms"].items():
        print(f"{page:<24} {ms:8.1f} ms")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
