"""Turning a batch of fetch results into store rows and player events, in one transaction.

The plan is made in memory first (normalise, decide changed/unchanged, diff against the player's previous
changed snapshot, build events), then written with one executemany per table. Nothing here reads the clock:
every stored value and every event comes from the input, so a replay rebuilds an identical store.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import operator
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import zstandard
from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from owstream.deltas import Line, RankChange, Session, rank_changes, session_of_changes
from owstream.errors import ProcessingError
from owstream.messages import ZSTD_MAGIC, EventType, FetchResult, PlayerEvent
from owstream.normalize import RankRow, Snapshot, StatRow, normalize_result
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


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (process-wide) for the block; it resumes afterwards.

    A batch allocates ~100,000 containers that reference counting frees, yet their count triggers full
    collections that walk every object of the process: ~20% of a batch's CPU. Nothing a batch builds
    is cyclic garbage worth collecting right away.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _Plan:
    """Rows to write, as tuples in table column order; ``SnapRef`` stands for a snapshot id not known yet."""

    snapshots: list[tuple[SnapRef, tuple[Any, ...]]] = field(default_factory=list)
    stats: list[tuple[SnapRef, list[StatRow], list[StatRow]]] = field(default_factory=list)  # rows, removed
    ranks: list[tuple[SnapRef, RankRow]] = field(default_factory=list)
    rank_changes: list[tuple[SnapRef, tuple[Any, ...]]] = field(default_factory=list)
    sessions: list[tuple[SnapRef, SnapRef, tuple[Any, ...], Session]] = field(default_factory=list)
    outcomes: list[tuple[Any, ...]] = field(default_factory=list)
    raw: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[PlayerEvent] = field(default_factory=list)
    players: dict[str, PlayerState] = field(default_factory=dict)


class BatchWriter:
    """Applies batches; owns the per-player state cache."""

    def __init__(self) -> None:
        self.cache = StateCache()
        # level 1: a third of level 3's CPU for a few percent more bytes (payloads are ~13 KB of JSON)
        self._zstd = zstandard.ZstdCompressor(level=1)

    def apply(self, conn: Connection, items: Sequence[SourcedResult]) -> list[PlayerEvent]:
        with paused_gc():
            return self._apply(conn, items)

    def _apply(self, conn: Connection, items: Sequence[SourcedResult]) -> list[PlayerEvent]:
        fresh, stored = _fresh_items(conn, items)
        normalized = [(item, _normalize(item.result)) for item in fresh]
        player_ids = [item.result.player_id for item in fresh]
        self.cache.validate(conn, player_ids)
        self.cache.preload(conn, player_ids)
        plan = _Plan()
        for item, snap in normalized:
            self._plan_one(conn, plan, item, snap)
        _write(conn, plan)
        # A result stored by an earlier batch changes nothing, but its fetch_stored events are announced
        # again (same ids): if they were lost after that batch's commit, whoever waits still hears of it.
        for item in stored:
            events = _Events(item.result)
            _announce_stored(events)
            plan.events.extend(events.events)
        return plan.events

    def _plan_one(self, conn: Connection, plan: _Plan, item: SourcedResult, snap: Snapshot | None) -> None:
        result = item.result
        state = self.cache.get(conn, result.player_id)
        events = _Events(result)
        payload = item.raw if item.raw is not None else result.to_bytes()
        if not payload.startswith(ZSTD_MAGIC):  # results arrive compressed (FetchResult.to_bytes); older ones not
            payload = self._zstd.compress(payload)
        source = (item.topic, item.partition, item.offset)
        plan.raw.append((result.result_id, result.player_id, result.fetched_at, payload, *source))
        if snap is not None:
            try:
                _plan_snapshot(plan, item, snap, state, events)
            except ProcessingError as exc:  # a stats block decoded only now (see ModeStats)
                raise _about(result, exc) from exc
        elif result.outcome == "not_found":
            events.add("not_found", {"error": result.error, "retry_after": result.retry_after})
        if state.exists and result.outcome not in ("skipped",) and snap is None:
            state.last_outcome = result.outcome
            state.dirty = True
        if state.dirty:
            plan.players[state.player_id] = state
        _announce_stored(events)
        for request_id in dict.fromkeys(result.request_ids):  # a repeated id is one request
            plan.outcomes.append(
                (
                    request_id,
                    result.result_id,
                    result.player_id,
                    result.outcome,
                    result.error,
                    result.retry_after,
                    result.status,
                    result.fetched_at,
                )
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
        result = self.result
        values = {
            "event_id": f"{result.result_id}:{kind}:{index}",
            "type": kind,
            "player_id": result.player_id,
            "at": result.fetched_at,
            "request_id": request_id,
            "data": data,
        }
        self.events.append(PlayerEvent.trusted(values))  # every field is built here from validated input


def _announce_stored(events: _Events) -> None:
    """One ``fetch_stored`` event per request the result answered."""
    result = events.result
    for request_id in dict.fromkeys(result.request_ids):  # a repeated id is one request
        data = {"outcome": result.outcome, "error": result.error, "retry_after": result.retry_after}
        events.add("fetch_stored", data, request_id=request_id)


def _about(result: FetchResult, exc: ProcessingError) -> ProcessingError:
    """``exc`` saying which result it is about (a try block costs nothing on the hot path; a ``with`` does)."""
    return ProcessingError(f"result {result.result_id} of {result.player_id}: {exc}")


def _normalize(result: FetchResult) -> Snapshot | None:
    try:
        return normalize_result(result)
    except ProcessingError as exc:
        raise _about(result, exc) from exc


def _fresh_items(conn: Connection, items: Sequence[SourcedResult]) -> tuple[list[SourcedResult], list[SourcedResult]]:
    """(items whose result id is neither stored nor repeated earlier in the batch, one item per result id
    that an earlier batch stored already)."""
    ids = list(dict.fromkeys(i.result.result_id for i in items))
    stored: set[str] = set()
    c = schema.raw_results.c
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        stored.update(conn.execute(select(c.result_id).where(c.result_id.in_(chunk))).scalars())
    fresh: list[SourcedResult] = []
    again: list[SourcedResult] = []
    seen: set[str] = set()
    for item in items:
        result_id = item.result.result_id
        if result_id in seen:
            continue
        seen.add(result_id)
        (again if result_id in stored else fresh).append(item)
    return fresh, again


def _plan_snapshot(plan: _Plan, item: SourcedResult, snap: Snapshot, state: PlayerState, events: _Events) -> None:
    result = item.result
    if state.private is not None and state.private != snap.private:
        events.add("privacy_change", {"private": snap.private})
    changed = not snap.private and (
        not state.has_changed or snap.last_updated_at is None or snap.last_updated_at != state.last_updated_at
    )
    ref = SnapRef()
    state.last_snapshot = ref
    source = (item.topic, item.partition, item.offset)
    row = (result.player_id, result.result_id, result.fetched_at, snap.last_updated_at, changed, result.outcome)
    plan.snapshots.append((ref, (*row, *source)))
    if state.first_seen is None:
        state.first_seen = result.fetched_at
    state.last_seen = result.fetched_at
    state.exists, state.dirty = True, True
    state.private, state.last_outcome, state.profile = snap.private, result.outcome, snap.profile
    if changed:
        _plan_changed(plan, ref, snap, state, events, fetched_at=result.fetched_at)
    else:  # its stats are not stored, yet a malformed block is refused as on the pydantic path
        for gamemode, mode in snap.modes.items():
            base = state.baselines.get(gamemode)
            mode.check(base.blocks if base is not None else None)


def _plan_changed(
    plan: _Plan, ref: SnapRef, snap: Snapshot, state: PlayerState, events: _Events, *, fetched_at: float
) -> None:
    plan.ranks.extend((ref, r) for r in snap.ranks)
    if state.has_changed:
        for change in rank_changes(state.ranks, snap.ranks):
            plan.rank_changes.append((ref, _rank_change_row(state.player_id, change, fetched_at)))
            events.add("rank_change", _rank_change_data(change))
    for gamemode, mode in snap.modes.items():
        base = state.baselines.get(gamemode)
        if base is None:
            rows = mode.all_rows()
            plan.stats.append((ref, list(rows.values()), []))
        else:
            rows, changed, vanished = mode.diff(base.rows, base.blocks)
            plan.stats.append((ref, changed, vanished))
            session = session_of_changes(gamemode, base.rows, changed, vanished)
            if session is not None:
                times = (base.last_updated_at, snap.last_updated_at)
                plan.sessions.append((ref, base.ref, (state.player_id, *times, fetched_at), session))
                events.add("session", {**session.summary(), "started_at": times[0], "ended_at": times[1]})
        state.baselines[gamemode] = Baseline(ref, snap.last_updated_at, rows, mode.blocks)
    state.has_changed, state.last_updated_at, state.ranks = True, snap.last_updated_at, list(snap.ranks)


def _rank_change_row(player_id: str, change: RankChange, fetched_at: float) -> tuple[Any, ...]:
    return (change.platform, change.role, player_id, change.season, *_rank_move(change), fetched_at)


def _rank_move(change: RankChange) -> tuple[Any, ...]:
    return (change.from_division, change.from_tier, change.to_division, change.to_tier)


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
    _bulk_insert(conn, schema.raw_results, plan.raw)
    _bulk_insert(conn, schema.fetch_outcomes, plan.outcomes)
    _bulk_insert(conn, schema.stats, _stat_rows(plan.stats))
    _bulk_insert(conn, schema.ranks, [(ref.get(), *_RANK_VALUES(rank)) for ref, rank in plan.ranks])
    _bulk_insert(conn, schema.rank_changes, [(ref.get(), *row) for ref, row in plan.rank_changes])
    _write_sessions(conn, plan.sessions)


def _insert_snapshots(conn: Connection, snapshots: list[tuple[SnapRef, tuple[Any, ...]]]) -> None:
    if conn.dialect.name == "sqlite":
        # What SQLite would pick (a rowid table: max(id) + 1); this batch holds the write lock (BEGIN IMMEDIATE).
        last = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM snapshots").scalar_one()
        for snapshot_id, (ref, _) in enumerate(snapshots, start=last + 1):
            ref.id = snapshot_id
        _bulk_insert(conn, schema.snapshots, [(ref.get(), *row) for ref, row in snapshots])
        return
    s = schema.snapshots
    names = [c.name for c in s.columns][1:]
    stmt = s.insert().returning(s.c.id, sort_by_parameter_order=True)
    ids = conn.execute(stmt, [dict(zip(names, row, strict=True)) for _, row in snapshots]).scalars().all()
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


_RANK_VALUES = operator.attrgetter(*(f.name for f in dataclasses.fields(RankRow)))


def _columns(table: Table) -> list[str]:
    return [c.name for c in table.columns]


# the plan's tuples are in table column order, events' values in field order: checked once here
assert list(PlayerEvent.model_fields) == ["event_id", "type", "player_id", "at", "request_id", "data"]
_SOURCE = ["source_topic", "source_partition", "source_offset"]
_LINE_NAMES = list(Line._fields)
assert _columns(schema.raw_results) == ["result_id", "player_id", "fetched_at", "payload", *_SOURCE]
assert _columns(schema.fetch_outcomes)[:4] == ["request_id", "result_id", "player_id", "outcome"]
assert _columns(schema.fetch_outcomes)[4:] == ["error", "retry_after", "status", "at"]
assert _columns(schema.snapshots)[:4] == ["id", "player_id", "result_id", "fetched_at"]
assert _columns(schema.snapshots)[4:] == ["last_updated_at", "changed", "outcome", *_SOURCE]
assert _columns(schema.stats) == ["snapshot_id", *StatRow._fields, "removed"]
assert _columns(schema.ranks) == ["snapshot_id", *(f.name for f in dataclasses.fields(RankRow))]
assert _columns(schema.rank_changes)[:5] == ["snapshot_id", "platform", "role", "player_id", "season"]
assert _columns(schema.rank_changes)[5:] == ["from_division", "from_tier", "to_division", "to_tier", "fetched_at"]
assert _columns(schema.sessions)[:4] == ["to_snapshot_id", "gamemode", "player_id", "from_snapshot_id"]
assert _columns(schema.sessions)[4:] == ["started_at", "ended_at", "fetched_at", *_LINE_NAMES, "heroes", "is_reset"]
assert _columns(schema.session_parts) == ["to_snapshot_id", "gamemode", "scope", "key", *_LINE_NAMES]


def _stat_rows(stats: list[tuple[SnapRef, list[StatRow], list[StatRow]]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for ref, rows, removed in stats:
        snapshot_id = ref.get()
        out.extend((snapshot_id, *row, False) if row.extra is None else _stat_values(snapshot_id, row) for row in rows)
        out.extend((snapshot_id, row.gamemode, row.scope, row.key, *_REMOVED_VALUES) for row in removed)
    return out


# a removed block, after its gamemode, scope and key: no games, no numbers (winrate to avg_healing), no extras
_REMOVED_VALUES = (0, 0, 0, 0, *(None,) * 12, None, True)
assert len(_REMOVED_VALUES) == len(schema.stats.columns) - 4


def _stat_values(snapshot_id: int, row: StatRow) -> tuple[Any, ...]:
    extra = json.dumps(row.extra, sort_keys=True) if row.extra else None
    return (snapshot_id, *row[:-1], extra, False)


_BULK_SQL: dict[tuple[str, str], tuple[str, bool]] = {}


def _bulk_insert(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """executemany straight through the driver (tuples in table column order).

    The INSERT is compiled by SQLAlchemy for the connection's dialect; only the per-row parameter
    processing of Core is skipped (the values are plain ints, floats, bools, bytes, strings and None,
    which the drivers store as Core would).
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


def _write_sessions(conn: Connection, sessions: list[tuple[SnapRef, SnapRef, tuple[Any, ...], Session]]) -> None:
    session_rows: list[tuple[Any, ...]] = []
    part_rows: list[tuple[Any, ...]] = []
    for ref, base_ref, (player_id, started, ended, fetched_at), session in sessions:
        to_id, gamemode = ref.get(), session.gamemode
        heroes = ",".join(session.heroes)
        line = session.overall
        session_rows.append(
            (to_id, gamemode, player_id, base_ref.get(), started, ended, fetched_at, *line, heroes, session.is_reset)
        )
        part_rows.extend((to_id, gamemode, p.scope, p.key, *p.line) for p in session.parts)
    _bulk_insert(conn, schema.sessions, session_rows)
    _bulk_insert(conn, schema.session_parts, part_rows)
