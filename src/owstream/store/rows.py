"""Rows by column name, written with one executemany per table.

Every row is given as a mapping of column name to value (or, for the hot ``stats`` table, taken by name
from a :class:`~owstream.domain.normalize.StatRow`); :func:`insert` puts the values in the table's column
order. The INSERT is compiled by SQLAlchemy for the connection's dialect; only Core's per-row parameter
processing is skipped (the values are plain ints, floats, bools, bytes, strings and None, which the drivers
store as Core would).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from operator import attrgetter
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


def _taken_by_name(table: Table, source: type[Any], *, besides: Sequence[str]) -> attrgetter[Any]:
    """A getter of the ``source`` fields named like ``table``'s columns (all of them but ``besides``), in
    column order; StoreError at import if a column has no field of that name."""
    wanted = [name for name in _names(table) if name not in besides]
    fields = {f.name for f in dataclasses.fields(source)} if dataclasses.is_dataclass(source) else set(source._fields)
    missing = [name for name in wanted if name not in fields]
    if missing:
        raise StoreError(f"{table.name} columns {missing} have no field in {source.__name__}")
    return attrgetter(*wanted)


_STAT_FIELDS = [name for name in _names(schema.stats) if name not in ("snapshot_id", "removed")]
_STAT_VALUES = _taken_by_name(schema.stats, StatRow, besides=("snapshot_id", "removed"))
_STAT_NUMBERS = [name for name in _names(schema.stats) if name not in ("snapshot_id", "gamemode", "scope", "key")]
_LINE_VALUES = _taken_by_name(schema.session_parts, Line, besides=("to_snapshot_id", "gamemode", "scope", "key"))
_LINE_NAMES = [
    name for name in _names(schema.session_parts) if name not in ("to_snapshot_id", "gamemode", "scope", "key")
]


def stat_values(snapshot_id: int, row: StatRow, *, removed: bool = False) -> dict[str, Any]:
    """A ``stats`` row; a removed block (it vanished from OverFast's answer) has zeros and no numbers."""
    values: dict[str, Any] = dict(zip(_STAT_FIELDS, _STAT_VALUES(row), strict=True))
    if removed:
        values.update(dict.fromkeys(_STAT_NUMBERS))
        values.update(games_played=0, games_won=0, games_lost=0, time_played=0)
    return {"snapshot_id": snapshot_id, **values, "removed": removed}


def rank_values(snapshot_id: int, rank: RankRow) -> dict[str, Any]:
    return {"snapshot_id": snapshot_id, **dataclasses.asdict(rank)}


def rank_change_values(snapshot_id: int, player_id: str, change: RankChange, fetched_at: float) -> dict[str, Any]:
    return {"snapshot_id": snapshot_id, "player_id": player_id, **dataclasses.asdict(change), "fetched_at": fetched_at}


def line_values(line: Line) -> dict[str, Any]:
    return dict(zip(_LINE_NAMES, _LINE_VALUES(line), strict=True))


def session_values(
    to_id: int, from_id: int, player_id: str, *, started: int | None, ended: int | None, at: float, session: Session
) -> dict[str, Any]:
    return {
        "to_snapshot_id": to_id,
        "gamemode": session.gamemode,
        "player_id": player_id,
        "from_snapshot_id": from_id,
        "started_at": started,
        "ended_at": ended,
        "fetched_at": at,
        **line_values(session.overall),
        "heroes": ",".join(session.heroes),
        "is_reset": session.is_reset,
    }


def part_values(to_id: int, gamemode: str, part: SessionPart) -> dict[str, Any]:
    return {"to_snapshot_id": to_id, "gamemode": gamemode, "scope": part.scope, "key": part.key} | line_values(
        part.line
    )


# --- writing -----------------------------------------------------------------------------------------------

_SQL: dict[tuple[str, str], tuple[str, bool]] = {}


def insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """executemany straight through the driver; each row a mapping with a value for every column."""
    if not rows:
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
    try:
        if positional:
            conn.exec_driver_sql(sql, [tuple(row[name] for name in names) for row in rows])
        else:
            conn.exec_driver_sql(sql, [{name: row[name] for name in names} for row in rows])
    except KeyError as exc:
        raise StoreError(f"a {table.name} row has no value for column {exc.args[0]}") from exc


def insert_stats(conn: Connection, stats: Sequence[tuple[int, Sequence[StatRow], Sequence[StatRow]]]) -> None:
    """Stats rows of several snapshots: (snapshot id, rows that changed, rows whose block vanished)."""
    insert(
        conn,
        schema.stats,
        [
            stat_values(snapshot_id, row, removed=removed)
            for snapshot_id, changed, vanished in stats
            for group, removed in ((changed, False), (vanished, True))
            for row in group
        ],
    )


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
