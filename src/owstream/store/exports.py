"""A player's history as the tables people analyse (``owstream export``), as plain (columns, rows).

=============  =====================================================================================
table          one row per
=============  =====================================================================================
snapshots      stored snapshot (every fetch that brought a profile: ok or private, changed or not)
ranks          snapshot x platform x role: the competitive rank then
overall        changed snapshot x gamemode: the cumulative totals as of that snapshot
roles          changed snapshot x gamemode x role: the same, per role
heroes         changed snapshot x gamemode x hero: the same, per hero
sessions       play session (the difference of two snapshots of one gamemode)
=============  =====================================================================================

The columns follow the store's tables (a column a migration adds, such as a platform, comes along): the
store's internal ids and Kafka positions are left out, every row carries the ``result_id`` of its snapshot
(stable across ``owstream replay``) and the snapshot's time and season. Times are epoch seconds here; the
CLI writes them as UTC timestamps. Stats rows are stored only when a block changed
(:data:`owstream.store.schema.stats`): each snapshot's numbers are rebuilt here from the newest row of each
block at or before it, removed blocks left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, select

from owstream.domain.vocabulary import SCOPE_HERO, SCOPE_OVERALL, SCOPE_ROLE
from owstream.store import schema

TABLES = ("snapshots", "ranks", "overall", "roles", "heroes", "sessions")
_SNAPSHOT_HIDDEN = frozenset({"id", "player_id", "source_topic", "source_partition", "source_offset"})
_EVERY_ROW = ("result_id", "fetched_at", "last_updated_at", "season")  # of the snapshot, on every stats row
_TABLE_OF = {SCOPE_OVERALL: "overall", SCOPE_ROLE: "roles", SCOPE_HERO: "heroes"}


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def export_tables(conn: Connection, player_id: str) -> dict[str, Table]:
    """Every table of one player's history (empty tables when nothing of that kind is stored)."""
    snapshots = _snapshots(conn, player_id)
    stats = _stats(conn, player_id)
    return {"snapshots": snapshots, "ranks": _ranks(conn, player_id), **stats, "sessions": _sessions(conn, player_id)}


def _snapshots(conn: Connection, player_id: str) -> Table:
    s = schema.snapshots.c
    columns = [c for c in schema.snapshots.c if c.name not in _SNAPSHOT_HIDDEN]
    rows = conn.execute(select(*columns).where(s.player_id == player_id).order_by(s.id)).all()
    return Table([c.name for c in columns], [tuple(r) for r in rows])


def _ranks(conn: Connection, player_id: str) -> Table:
    s, r = schema.snapshots.c, schema.ranks.c
    own = [c for c in schema.ranks.c if c.name not in ("snapshot_id", "rank_icon")]
    query = (
        select(s.result_id, s.fetched_at, *own)
        .join(schema.snapshots, s.id == r.snapshot_id)
        .where(s.player_id == player_id)
        .order_by(s.id, *(c for c in schema.ranks.primary_key.columns if c.name != "snapshot_id"))
    )
    return Table(["result_id", "fetched_at", *(c.name for c in own)], [tuple(row) for row in conn.execute(query)])


def _stats(conn: Connection, player_id: str) -> dict[str, Table]:
    """``overall``, ``roles`` and ``heroes``: each changed snapshot's numbers, rebuilt from the sparse rows."""
    s, st = schema.snapshots.c, schema.stats.c
    keys = [c.name for c in schema.stats.primary_key.columns if c.name != "snapshot_id"]  # gamemode, scope, key…
    groups = [name for name in keys if name not in ("scope", "key")]  # gamemode (and a platform, if stored)
    values = [c.name for c in schema.stats.c if not c.primary_key and c.name != "removed"]
    query = (
        select(s.id.label("snapshot_"), *(s[name].label(f"snapshot_{name}") for name in _EVERY_ROW), schema.stats)
        .join(schema.snapshots, s.id == st.snapshot_id)
        .where(s.player_id == player_id)
        .order_by(s.id)
    )
    current: dict[tuple[Any, ...], Any] = {}  # block (its keys) -> its newest row at or before the snapshot
    out: dict[str, list[tuple[Any, ...]]] = {"overall": [], "roles": [], "heroes": []}
    for _, grouped in groupby(conn.execute(query).mappings(), key=lambda row: row["snapshot_"]):
        rows = list(grouped)
        snapshot = tuple(rows[0][f"snapshot_{name}"] for name in _EVERY_ROW)
        present = set()  # the groups (gamemodes) this snapshot holds numbers of: it has their overall row
        for row in rows:
            block = tuple(row[name] for name in keys)
            if row["removed"]:
                current.pop(block, None)
            else:
                current[block] = row
            if row["scope"] == SCOPE_OVERALL:
                present.add(tuple(row[name] for name in groups))
        for block in sorted(current, key=lambda b: tuple("" if v is None else str(v) for v in b)):
            row = current[block]
            group = tuple(row[name] for name in groups)
            if group in present and row["scope"] in _TABLE_OF:
                named = () if row["scope"] == SCOPE_OVERALL else (row["key"],)
                out[_TABLE_OF[row["scope"]]].append((*snapshot, *group, *named, *(row[n] for n in values)))
    return {
        "overall": Table([*_EVERY_ROW, *groups, *values], out["overall"]),
        "roles": Table([*_EVERY_ROW, *groups, "role", *values], out["roles"]),
        "heroes": Table([*_EVERY_ROW, *groups, "hero", *values], out["heroes"]),
    }


def _sessions(conn: Connection, player_id: str) -> Table:
    s, se = schema.snapshots.c, schema.sessions.c
    hidden = {"player_id", "to_snapshot_id", "from_snapshot_id"}
    own = [c for c in schema.sessions.c if c.name not in hidden]
    query = (
        select(s.result_id, s.season, *own)
        .join(schema.snapshots, s.id == se.to_snapshot_id)
        .where(se.player_id == player_id)
        .order_by(se.to_snapshot_id, se.gamemode)
    )
    return Table(["result_id", "season", *(c.name for c in own)], [tuple(row) for row in conn.execute(query)])
