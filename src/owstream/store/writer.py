"""Turning a batch of fetch results into store rows and player events, in one transaction.

The plan is made in memory first (normalise, decide changed/unchanged, diff against the player's previous
changed snapshot, derive events), then written with one executemany per table. Nothing here reads the
clock: every stored value and every event comes from the input, so a replay rebuilds an identical store.
A result stored by an earlier batch writes nothing; its events are derived again from what the store kept
(:mod:`owstream.store.rederive`), with the same ids.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from owstream.domain.deltas import RankChange, Session, rank_changes, session_between
from owstream.domain.events import Findings, events_of, privacy_change
from owstream.domain.normalize import RankRow, Snapshot, StatRow, normalize_result
from owstream.domain.seasons import platform_season, season_of
from owstream.domain.vocabulary import NO_NEWS
from owstream.errors import ProcessingError
from owstream.messages import codec
from owstream.messages.models import PlayerEvent, StoreResult
from owstream.store import rows, schema
from owstream.store.rederive import rederived_events
from owstream.store.sourced import SourcedResult
from owstream.store.state import Baseline, PlayerState, SnapRef, StateCache


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
class _Session:
    ref: SnapRef
    base: SnapRef
    player_id: str
    started_at: int | None
    ended_at: int | None
    fetched_at: float
    session: Session


@dataclass
class _Plan:
    """Rows to write, by column name; ``SnapRef`` stands for a snapshot id not known yet."""

    snapshots: list[tuple[SnapRef, dict[str, Any]]] = field(default_factory=list)
    stats: list[tuple[SnapRef, list[StatRow], list[StatRow]]] = field(default_factory=list)  # rows, removed
    ranks: list[tuple[SnapRef, RankRow]] = field(default_factory=list)
    rank_changes: list[tuple[SnapRef, str, RankChange, float]] = field(default_factory=list)
    sessions: list[_Session] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)
    payloads: Future[list[bytes]] | None = None  # each raw row's payload as a zstd frame, in order
    events: list[PlayerEvent] = field(default_factory=list)
    players: dict[str, PlayerState] = field(default_factory=dict)


# Compresses a batch's raw payloads while the batch is planned: zstd runs without the GIL, so on two cores
# most of the ~60 us per 13 KB result it costs (~10 % of bench_store's worst case) overlaps the planning.
_COMPRESSION = ThreadPoolExecutor(max_workers=1, thread_name_prefix="owstream-zstd")


class BatchWriter:
    """Applies batches; owns the per-player state cache."""

    def __init__(self) -> None:
        self.cache = StateCache()

    def apply(self, conn: Connection, items: Sequence[SourcedResult]) -> list[PlayerEvent]:
        with paused_gc():
            return self._apply(conn, items)

    def _apply(self, conn: Connection, items: Sequence[SourcedResult]) -> list[PlayerEvent]:
        fresh, stored = _fresh_items(conn, items)
        plan = _Plan()
        if fresh:
            payloads = [item.raw if item.raw is not None else codec.encode(item.result) for item in fresh]
            plan.payloads = _COMPRESSION.submit(codec.compress_many, payloads)
        normalized = [(item, _normalize(item.result)) for item in fresh]
        player_ids = [item.result.player_id for item in fresh]
        self.cache.validate(conn, player_ids)
        self.cache.preload(conn, player_ids)
        for item, snap in normalized:
            self._plan_one(conn, plan, item, snap)
        _write(conn, plan)
        for item in stored:
            plan.events.extend(rederived_events(conn, item.result))
        return plan.events

    def _plan_one(self, conn: Connection, plan: _Plan, item: SourcedResult, snap: Snapshot | None) -> None:
        result = item.result
        state = self.cache.get(conn, result.player_id)
        source = _source(item)
        plan.raw.append(  # the payload comes from plan.payloads in _write, in this order
            {"result_id": result.result_id, "player_id": result.player_id, "fetched_at": result.fetched_at} | source
        )
        findings = Findings()
        if snap is not None:
            findings = _plan_snapshot(plan, item, snap, state)
        elif result.outcome == "ok" and state.exists:  # an unchanged refresh without its summary: the stored holds
            _plan_kept(plan, item, state)
        elif state.exists and result.outcome not in NO_NEWS:
            state.last_outcome = result.outcome
            state.dirty = True
        if state.dirty:
            plan.players[state.player_id] = state
        for request_id in dict.fromkeys(result.request_ids):  # a repeated id is one request
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
                    "suggestion": result.suggestion,
                }
            )
        plan.events.extend(events_of(result, findings))


def _source(item: SourcedResult) -> dict[str, Any]:
    return {"source_topic": item.topic, "source_partition": item.partition, "source_offset": item.offset}


def _normalize(result: StoreResult) -> Snapshot | None:
    try:
        return normalize_result(result)
    except ProcessingError as exc:
        raise ProcessingError(f"result {result.result_id} of {result.player_id}: {exc}") from exc


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


def _plan_snapshot(plan: _Plan, item: SourcedResult, snap: Snapshot, state: PlayerState) -> Findings:
    result = item.result
    privacy = privacy_change(state.private, snap.private)
    changed = (
        not snap.private
        and not snap.summary_only
        and (
            not state.has_changed
            or snap.last_updated_at is None
            or snap.last_updated_at != state.last_updated_at
            or _positions(snap.ranks) != _positions(state.ranks)
            or any(key not in state.baselines for key in snap.modes)  # a platform's (or gamemode's) first stats
        )
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
                **_source(item),
                **_seasons(result),
            },
        )
    )
    if state.first_seen is None:
        state.first_seen = result.fetched_at
    state.asked_at.update(dict.fromkeys(result.platform_stats, result.fetched_at))
    state.summary_digest = result.summary_digest
    state.last_seen = result.fetched_at
    state.exists, state.dirty = True, True
    state.private, state.last_outcome, state.profile = snap.private, result.outcome, snap.profile
    if not changed:
        return Findings(privacy=privacy)
    moves, sessions = _plan_changed(plan, ref, snap, state, fetched_at=result.fetched_at)
    return Findings(privacy=privacy, rank_changes=moves, sessions=sessions)


def _plan_kept(plan: _Plan, item: SourcedResult, state: PlayerState) -> None:
    """An unchanged snapshot of a summary_only result that left its summary out (the stored one, by digest)."""
    ref = SnapRef()
    state.last_snapshot = ref
    result = item.result
    row = {"player_id": result.player_id, "result_id": result.result_id, "fetched_at": result.fetched_at}
    row |= {"last_updated_at": state.last_updated_at, "changed": False, "outcome": result.outcome, **_source(item)}
    plan.snapshots.append((ref, row | {"season": None, "season_pc": None, "season_console": None}))
    state.last_seen, state.last_outcome, state.dirty = result.fetched_at, result.outcome, True


def _plan_changed(
    plan: _Plan, ref: SnapRef, snap: Snapshot, state: PlayerState, *, fetched_at: float
) -> tuple[list[RankChange], list[tuple[Session, int | None, int | None]]]:
    plan.ranks.extend((ref, r) for r in snap.ranks)
    moves = rank_changes(state.ranks, snap.ranks) if state.has_changed else []  # from the second changed snapshot
    plan.rank_changes.extend((ref, state.player_id, change, fetched_at) for change in moves)
    sessions: list[tuple[Session, int | None, int | None]] = []
    for (platform, gamemode), mode in snap.modes.items():  # each platform against its own baseline
        base = state.baselines.get((platform, gamemode))
        if base is None:
            current = mode.rows()
            plan.stats.append((ref, list(current.values()), []))
        else:
            current, changed, vanished = mode.diff(base.rows, base.blocks)
            plan.stats.append((ref, changed, vanished))
            session = session_between(gamemode, base.rows, changed, vanished, platform)
            if session is not None:
                started, ended = base.last_updated_at, snap.last_updated_at
                plan.sessions.append(_Session(ref, base.ref, state.player_id, started, ended, fetched_at, session))
                sessions.append((session, started, ended))
        state.baselines[(platform, gamemode)] = Baseline(ref, snap.last_updated_at, current, mode.blocks)
    state.has_changed, state.last_updated_at, state.ranks = True, snap.last_updated_at, list(snap.ranks)
    return moves, sessions


def _positions(ranks: Sequence[RankRow]) -> list[tuple[str, str, str, int | None]]:
    """Where a player stands (platform, role, division, tier): a move is news even if ``last_updated_at`` is not."""
    return sorted((r.platform, r.role, r.division, r.tier) for r in ranks)


def _seasons(result: StoreResult) -> dict[str, int | None]:
    """A snapshot's seasons: the highest OverFast reports (``season``) and each platform's own."""
    competitive = result.summary.competitive if result.summary is not None else None
    return {
        "season": season_of(competitive),
        "season_pc": platform_season(competitive, "pc"),
        "season_console": platform_season(competitive, "console"),
    }


def _with_payloads(plan: _Plan) -> list[dict[str, Any]]:
    """The raw rows with their compressed payloads (compressed while the batch was planned)."""
    if plan.payloads is None:
        return plan.raw
    return [row | {"payload": frame} for row, frame in zip(plan.raw, plan.payloads.result(), strict=True)]


def _write(conn: Connection, plan: _Plan) -> None:
    if plan.players:
        rows.upsert_players(conn, [s.players_row() for s in plan.players.values()])
        for state in plan.players.values():
            state.dirty = False
    if plan.snapshots:
        rows.insert_snapshots(conn, plan.snapshots)
    rows.insert(conn, schema.raw_results, _with_payloads(plan))
    rows.insert(conn, schema.fetch_outcomes, plan.outcomes)
    rows.insert_stats(conn, [(ref.get(), changed, removed) for ref, changed, removed in plan.stats])
    rows.insert(conn, schema.ranks, [rows.rank_values(ref.get(), rank) for ref, rank in plan.ranks])
    rows.insert(
        conn,
        schema.rank_changes,
        [rows.rank_change_values(ref.get(), pid, change, at) for ref, pid, change, at in plan.rank_changes],
    )
    session_rows: list[tuple[Any, ...]] = []
    part_rows: list[tuple[Any, ...]] = []
    for s in plan.sessions:
        to_id = s.ref.get()
        session_rows.append(
            rows.session_values(
                to_id,
                s.base.get(),
                s.player_id,
                started=s.started_at,
                ended=s.ended_at,
                at=s.fetched_at,
                session=s.session,
            )
        )
        part_rows.extend(rows.part_values(to_id, s.session, part) for part in s.session.parts)
    rows.insert_values(conn, schema.sessions, session_rows)
    rows.insert_values(conn, schema.session_parts, part_rows)
