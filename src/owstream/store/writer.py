"""Turning a batch of fetch results into store rows and player events, in one transaction.

The plan is made in memory first (normalise, decide changed/unchanged, diff against the player's previous
changed snapshot, build events), then written with one executemany per table. Nothing here reads the clock:
every stored value and every event comes from the input, so a replay rebuilds an identical store.
"""

from __future__ import annotations

import dataclasses
import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import zstandard
from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from owstream.deltas import Line, RankChange, Session, by_gamemode, rank_changes, session_between
from owstream.errors import ProcessingError
from owstream.messages import EventType, FetchResult, PlayerEvent
from owstream.normalize import Snapshot, StatRow, normalize_result
from owstream.store import schema
from owstream.store.state import Baseline, PlayerState, SnapRef, StateCache


@dataclass(frozen=True)
class SourcedResult:
    """A FetchResult with where it came from.

    ``raw``: the message value as read from Kafka, if the caller has it; stored (compressed) as is,
    which saves re-serialising the result. Without it the result is serialised again.
    """

    result: FetchResult
    topic: str
    partition: int
    offset: int
    raw: bytes | None = None


@dataclass
class _Plan:
    snapshots: list[tuple[SnapRef, dict[str, Any]]] = field(default_factory=list)
    stats: list[tuple[SnapRef, StatRow]] = field(default_factory=list)
    ranks: list[tuple[SnapRef, dict[str, Any]]] = field(default_factory=list)
    rank_changes: list[tuple[SnapRef, dict[str, Any]]] = field(default_factory=list)
    sessions: list[tuple[SnapRef, SnapRef, dict[str, Any], Session]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)
    events: list[PlayerEvent] = field(default_factory=list)
    players: dict[str, PlayerState] = field(default_factory=dict)


class BatchWriter:
    """Applies batches; owns the per-player state cache."""

    def __init__(self) -> None:
        self.cache = StateCache()
        self._zstd = zstandard.ZstdCompressor(level=3)

    def apply(self, conn: Connection, items: Sequence[SourcedResult]) -> list[PlayerEvent]:
        fresh = _fresh_items(conn, items)
        normalized = [(item, _normalize(item.result)) for item in fresh]
        self.cache.validate(conn, (item.result.player_id for item in fresh))
        plan = _Plan()
        for item, snap in normalized:
            self._plan_one(conn, plan, item, snap)
        _write(conn, plan)
        return plan.events

    def _plan_one(self, conn: Connection, plan: _Plan, item: SourcedResult, snap: Snapshot | None) -> None:
        result = item.result
        state = self.cache.get(conn, result.player_id)
        events = _Events(result)
        plan.raw.append(
            {
                "result_id": result.result_id,
                "player_id": result.player_id,
                "fetched_at": result.fetched_at,
                "payload": self._zstd.compress(item.raw if item.raw is not None else result.to_bytes()),
                "source_topic": item.topic,
                "source_partition": item.partition,
                "source_offset": item.offset,
            }
        )
        if snap is not None:
            _plan_snapshot(plan, item, snap, state, events)
        elif result.outcome == "not_found":
            events.add("not_found", {"error": result.error, "retry_after": result.retry_after})
        if state.exists and result.outcome not in ("skipped",) and snap is None:
            state.last_outcome = result.outcome
            state.dirty = True
        if state.dirty:
            plan.players[state.player_id] = state
        for request_id in dict.fromkeys(result.request_ids):  # a repeated id is one request
            data = {"outcome": result.outcome, "error": result.error, "retry_after": result.retry_after}
            events.add("fetch_stored", data, request_id=request_id)
            plan.outcomes.append(
                {
                    "request_id": request_id,
                    "result_id": result.result_id,
                    "player_id": result.player_id,
                    "outcome": result.outcome,
                    "error": result.error,
                    "retry_after": result.retry_after,
                    "status": result.status,
                    "at": result.fetched_at,
                }
            )
        plan.events.extend(events.events)


class _Events:
    """Events of one result: deterministic ids from result id, type and index."""

    def __init__(self, result: FetchResult) -> None:
        self.result = result
        self.events: list[PlayerEvent] = []
        self._counts: dict[str, int] = {}

    def add(self, kind: EventType, data: dict[str, Any], request_id: str | None = None) -> None:
        index = self._counts.get(kind, 0)
        self._counts[kind] = index + 1
        self.events.append(
            PlayerEvent.model_construct(  # every field is built here from validated input
                event_id=f"{self.result.result_id}:{kind}:{index}",
                type=kind,
                player_id=self.result.player_id,
                at=self.result.fetched_at,
                request_id=request_id,
                data=data,
            )
        )


def _normalize(result: FetchResult) -> Snapshot | None:
    try:
        return normalize_result(result)
    except ProcessingError as exc:
        raise ProcessingError(f"result {result.result_id} of {result.player_id}: {exc}") from exc


def _fresh_items(conn: Connection, items: Sequence[SourcedResult]) -> list[SourcedResult]:
    """Items whose result id is neither stored nor repeated earlier in the batch."""
    ids = list(dict.fromkeys(i.result.result_id for i in items))
    stored: set[str] = set()
    c = schema.raw_results.c
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        stored.update(conn.execute(select(c.result_id).where(c.result_id.in_(chunk))).scalars())
    out = []
    for item in items:
        if item.result.result_id not in stored:
            stored.add(item.result.result_id)
            out.append(item)
    return out


def _plan_snapshot(plan: _Plan, item: SourcedResult, snap: Snapshot, state: PlayerState, events: _Events) -> None:
    result = item.result
    if state.private is not None and state.private != snap.private:
        events.add("privacy_change", {"private": snap.private})
    changed = not snap.private and (
        not state.has_changed or snap.last_updated_at is None or snap.last_updated_at != state.last_updated_at
    )
    ref = SnapRef()
    state.last_snapshot = ref
    plan.snapshots.append(
        (
            ref,
            {
                "player_id": result.player_id,
                "result_id": result.result_id,
                "fetched_at": result.fetched_at,
                "last_updated_at": snap.last_updated_at,
                "changed": changed,
                "outcome": result.outcome,
                "source_topic": item.topic,
                "source_partition": item.partition,
                "source_offset": item.offset,
            },
        )
    )
    if state.first_seen is None:
        state.first_seen = result.fetched_at
    state.last_seen = result.fetched_at
    state.exists, state.dirty = True, True
    state.private, state.last_outcome, state.profile = snap.private, result.outcome, snap.profile
    if changed:
        _plan_changed(plan, ref, snap, state, events, fetched_at=result.fetched_at)


def _plan_changed(
    plan: _Plan, ref: SnapRef, snap: Snapshot, state: PlayerState, events: _Events, *, fetched_at: float
) -> None:
    plan.stats.extend((ref, row) for row in snap.stats)
    plan.ranks.extend((ref, dataclasses.asdict(r)) for r in snap.ranks)
    if state.has_changed:
        for change in rank_changes(state.ranks, snap.ranks):
            plan.rank_changes.append((ref, _rank_change_row(state.player_id, change, fetched_at)))
            events.add("rank_change", _rank_change_data(change))
    for gamemode, rows in by_gamemode(snap.stats).items():
        base = state.baselines.get(gamemode)
        if base is not None:
            session = session_between(gamemode, base.rows, rows)
            if session is not None:
                times = {"started_at": base.last_updated_at, "ended_at": snap.last_updated_at}
                row = {"player_id": state.player_id, "fetched_at": fetched_at, **times}
                plan.sessions.append((ref, base.ref, row, session))
                events.add("session", {**session.summary(), **times})
        state.baselines[gamemode] = Baseline(ref, snap.last_updated_at, rows)
    state.has_changed, state.last_updated_at, state.ranks = True, snap.last_updated_at, list(snap.ranks)


def _rank_change_row(player_id: str, change: RankChange, fetched_at: float) -> dict[str, Any]:
    return {"player_id": player_id, "fetched_at": fetched_at, **_rank_change_data(change)}


def _rank_change_data(change: RankChange) -> dict[str, Any]:
    return {
        "platform": change.platform,
        "role": change.role,
        "season": change.season,
        "from_division": change.from_division,
        "from_tier": change.from_tier,
        "to_division": change.to_division,
        "to_tier": change.to_tier,
    }


def _write(conn: Connection, plan: _Plan) -> None:
    if plan.players:
        _upsert_players(conn, [s.players_row() for s in plan.players.values()])
        for state in plan.players.values():
            state.dirty = False
    if plan.snapshots:
        _insert_snapshots(conn, plan.snapshots)
    _insert(conn, schema.raw_results, plan.raw)
    _insert(conn, schema.fetch_outcomes, plan.outcomes)
    _bulk_insert(conn, schema.stats, [(ref.get(), *_stat_values(row)) for ref, row in plan.stats])
    _insert(conn, schema.ranks, [{"snapshot_id": ref.get(), **row} for ref, row in plan.ranks])
    _insert(conn, schema.rank_changes, [{"snapshot_id": ref.get(), **row} for ref, row in plan.rank_changes])
    _write_sessions(conn, plan.sessions)


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(table.insert(), rows)


def _insert_snapshots(conn: Connection, snapshots: list[tuple[SnapRef, dict[str, Any]]]) -> None:
    s = schema.snapshots
    stmt = s.insert().returning(s.c.id, sort_by_parameter_order=True)
    ids = conn.execute(stmt, [row for _, row in snapshots]).scalars().all()
    for (ref, _), snapshot_id in zip(snapshots, ids, strict=True):
        ref.id = snapshot_id


def _upsert_players(conn: Connection, rows: list[dict[str, Any]]) -> None:
    table = schema.players
    dialect = conn.dialect.name
    if dialect == "sqlite":
        stmt: Any = sqlite.insert(table)
    elif dialect == "postgresql":
        stmt = postgresql.insert(table)
    else:  # pragma: no cover - other databases are not supported
        raise NotImplementedError(f"upsert on {dialect}")
    update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name != "player_id"}
    conn.execute(stmt.on_conflict_do_update(index_elements=[table.c.player_id], set_=update), rows)


_LINE_NAMES = (*(f.name for f in dataclasses.fields(Line)), "winrate", "kda")
_LINE_ATTRS = operator.attrgetter(*(f.name for f in dataclasses.fields(Line)))
_STAT_NAMES = [f.name for f in dataclasses.fields(StatRow)]
_STAT_ATTRS = operator.attrgetter(*(name for name in _STAT_NAMES if name != "extra"))
assert [c.name for c in schema.stats.columns] == ["snapshot_id", *_STAT_NAMES]


def _stat_values(row: StatRow) -> tuple[Any, ...]:
    extra = json.dumps(row.extra, sort_keys=True) if row.extra else None
    return (*_STAT_ATTRS(row), extra)


_BULK_SQL: dict[tuple[str, str], tuple[str, bool]] = {}


def _bulk_insert(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """executemany straight through the driver (tuples in table column order): the hot tables.

    The INSERT is compiled by SQLAlchemy for the connection's dialect; only the per-row parameter
    processing of Core is skipped (the values are plain ints, floats, strings and None).
    """
    if not rows:
        return
    key = (conn.dialect.name, table.name)
    if key not in _BULK_SQL:
        names = [c.name for c in table.columns]
        compiled = table.insert().compile(dialect=conn.dialect, column_keys=names)
        positional = bool(compiled.positional)
        if positional:
            assert list(compiled.positiontup or []) == names, compiled.positiontup
        _BULK_SQL[key] = (str(compiled), positional)
    sql, positional = _BULK_SQL[key]
    if positional:
        conn.exec_driver_sql(sql, rows)
    else:
        names = [c.name for c in table.columns]
        conn.exec_driver_sql(sql, [dict(zip(names, row, strict=True)) for row in rows])


def _write_sessions(conn: Connection, sessions: list[tuple[SnapRef, SnapRef, dict[str, Any], Session]]) -> None:
    session_rows: list[dict[str, Any]] = []
    part_rows: list[tuple[Any, ...]] = []
    for ref, base_ref, row, session in sessions:
        key = {"to_snapshot_id": ref.get(), "gamemode": session.gamemode}
        session_rows.append(
            {
                **key,
                **row,
                "from_snapshot_id": base_ref.get(),
                **_line_dict(session.overall),
                "heroes": ",".join(session.heroes),
                "is_reset": session.is_reset,
            }
        )
        part_rows.extend(
            (key["to_snapshot_id"], session.gamemode, p.scope, p.key, *_line_values(p.line)) for p in session.parts
        )
    _insert(conn, schema.sessions, session_rows)
    _bulk_insert(conn, schema.session_parts, part_rows)


assert [c.name for c in schema.session_parts.columns][4:] == [*_LINE_NAMES]


def _line_dict(line: Line) -> dict[str, Any]:
    return dict(zip(_LINE_NAMES, _line_values(line), strict=True))


def _line_values(line: Line) -> tuple[Any, ...]:
    return (*_LINE_ATTRS(line), line.winrate, line.kda)
