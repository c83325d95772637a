"""Rows written with one executemany per table.

Every row is given as a mapping of column name to value, which :func:`insert` puts in the table's column
order; the hot tables' rows (``stats``, ``sessions``, ``session_parts``: thousands a batch) are tuples built
straight from the domain's row types, whose fields follow those columns (checked at import). The INSERT is
compiled by SQLAlchemy for the connection's dialect; only Core's per-row parameter processing is skipped
(the values are plain ints, floats, bools, bytes, strings and None, which the drivers store as Core would).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Connection, Table

from owstream.domain.deltas import Line, RankChange, Session, SessionPart
from owstream.domain.normalize import RankRow, StatRow
from owstream.errors import StoreError
from owstream.store import schema
from owstream.store.engine import upsert
from owstream.store.state import SnapRef


def _names(table: Table) -> list[str]:
    return [c.name for c in table.columns]


def _in_order(table: Table, head: Sequence[str], fields: Sequence[str], tail: Sequence[str]) -> None:
    """StoreError at import unless ``table``'s columns are ``head``, the ``fields`` of a row type, ``tail``:
    the hot tables' rows are built as tuples straight from those row types."""
    if _names(table) != [*head, *fields, *tail]:
        raise StoreError(f"the columns of {table.name} no longer follow {head} + the row's fields + {tail}")


_STAT_HEAD, _STAT_TAIL = ("snapshot_id",), ("removed",)
_PART_HEAD = ("to_snapshot_id", "gamemode", "scope", "key")
_SESSION_HEAD = ("to_snapshot_id", "gamemode", "player_id", "from_snapshot_id", "started_at", "ended_at", "fetched_at")
_SESSION_TAIL = ("heroes", "is_reset", "platform")
_PART_TAIL = ("platform",)
_in_order(schema.stats, _STAT_HEAD, StatRow._fields, _STAT_TAIL)
_in_order(schema.session_parts, _PART_HEAD, Line._fields, _PART_TAIL)
_in_order(schema.sessions, _SESSION_HEAD, Line._fields, _SESSION_TAIL)
_COUNTS = ("games_played", "games_won", "games_lost", "time_played")


def stat_values(snapshot_id: int, row: StatRow, *, removed: bool = False) -> tuple[Any, ...]:
    """A ``stats`` row; a removed block (it vanished from OverFast's answer) has zeros and no numbers."""
    if not removed:
        return (snapshot_id, *row, False)
    numbers = [0 if name in _COUNTS else None for name in StatRow._fields[3:-1]]  # the last field is the platform
    return (snapshot_id, *row[:3], *numbers, row.platform, True)


_RANK_FIELDS = [f.name for f in dataclasses.fields(RankRow)]
_RANK_VALUES = attrgetter(*_RANK_FIELDS)


def rank_values(snapshot_id: int, rank: RankRow) -> dict[str, Any]:
    return {"snapshot_id": snapshot_id, **dict(zip(_RANK_FIELDS, _RANK_VALUES(rank), strict=True))}


def rank_change_values(snapshot_id: int, player_id: str, change: RankChange, fetched_at: float) -> dict[str, Any]:
    return {"snapshot_id": snapshot_id, "player_id": player_id, **dataclasses.asdict(change), "fetched_at": fetched_at}


def session_values(
    to_id: int, from_id: int, player_id: str, *, started: int | None, ended: int | None, at: float, session: Session
) -> tuple[Any, ...]:
    """A ``sessions`` row, in column order."""
    head = (to_id, session.gamemode, player_id, from_id, started, ended, at)
    return (*head, *session.overall, ",".join(session.heroes), session.is_reset, session.platform)


def part_values(to_id: int, session: Session, part: SessionPart) -> tuple[Any, ...]:
    """A ``session_parts`` row, in column order."""
    return (to_id, session.gamemode, part.scope, part.key, *part.line, session.platform)


# --- writing -----------------------------------------------------------------------------------------------

_SQL: dict[tuple[str, str], tuple[str, bool]] = {}
_GETTERS: dict[str, itemgetter[Any]] = {}


def insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """executemany straight through the driver; each row a mapping with a value for every column."""
    if not rows:
        return
    names = _names(table)
    take = _GETTERS.get(table.name)
    if take is None:
        take = _GETTERS[table.name] = itemgetter(*names)  # one C call per row, the values in column order
    try:
        values = [take(row) for row in rows]
    except KeyError as exc:
        raise StoreError(f"a {table.name} row has no value for column {exc.args[0]}") from exc
    insert_values(conn, table, values)


def insert_values(conn: Connection, table: Table, values: Sequence[tuple[Any, ...]]) -> None:
    """executemany straight through the driver; each row a tuple of every column's value, in column order."""
    if not values:
        return
    names = _names(table)
    key = (conn.dialect.name, table.name)
    if key not in _SQL:
        compiled = table.insert().compile(dialect=conn.dialect, column_keys=names)
        positional = bool(compiled.positional)  # SQLite's "?" placeholders; psycopg's are named
        if positional and list(compiled.positiontup or []) != names:
            raise StoreError(f"the INSERT of {table.name} does not take its columns in order")
        _SQL[key] = (str(compiled), positional)
    sql, positional = _SQL[key]
    if any(len(row) != len(names) for row in values):
        raise StoreError(f"a {table.name} row without exactly one value per column ({len(names)})")
    if positional:
        conn.exec_driver_sql(sql, list(values))
    else:
        conn.exec_driver_sql(sql, [dict(zip(names, row, strict=True)) for row in values])


def insert_stats(conn: Connection, stats: Sequence[tuple[int, Sequence[StatRow], Sequence[StatRow]]]) -> None:
    """Stats rows of several snapshots: (snapshot id, rows that changed, rows whose block vanished)."""
    values = [(sid, *row, False) for sid, changed, _ in stats for row in changed]
    values.extend(stat_values(sid, row, removed=True) for sid, _, vanished in stats for row in vanished)
    insert_values(conn, schema.stats, values)


def insert_snapshots(conn: Connection, snapshots: Sequence[tuple[SnapRef, Mapping[str, Any]]]) -> None:
    """Insert snapshot rows (every column but ``id``) and set each ref to its new id."""
    if conn.dialect.name == "sqlite":
        # What SQLite would pick (a rowid table: max(id) + 1); this batch holds the write lock (BEGIN IMMEDIATE).
        last = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM snapshots").scalar_one()
        for snapshot_id, (ref, _) in enumerate(snapshots, start=last + 1):
            ref.id = snapshot_id
        insert(conn, schema.snapshots, [{"id": ref.get(), **row} for ref, row in snapshots])
        return
    s = schema.snapshots
    stmt = s.insert().returning(s.c.id, sort_by_parameter_order=True)
    ids = conn.execute(stmt, [dict(row) for _, row in snapshots]).scalars().all()
    for (ref, _), snapshot_id in zip(snapshots, ids, strict=True):
        ref.id = snapshot_id


def upsert_players(conn: Connection, rows: list[dict[str, Any]]) -> None:
    table = schema.players
    stmt: Any = upsert(conn.dialect.name, table)
    update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name != "player_id"}
    conn.execute(stmt.on_conflict_do_update(index_elements=[table.c.player_id], set_=update), rows)
