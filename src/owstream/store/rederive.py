"""The events of a result the store already holds, derived again from what it kept (the same events, ids
included, as when the result was first stored): what makes a processor that died between its store commit
and its Kafka commit lose no event. Only results read again pay for these queries.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from owstream.domain.deltas import Line, RankChange, Session
from owstream.domain.events import Findings, events_of, privacy_change
from owstream.messages.models import PlayerEvent, StoreResult
from owstream.store import schema

_SNAPSHOT_OUTCOMES = ("ok", "private")


def rederived_events(conn: Connection, result: StoreResult) -> list[PlayerEvent]:
    s = schema.snapshots.c
    snapshot = conn.execute(select(s.id, s.player_id, s.outcome).where(s.result_id == result.result_id)).first()
    if snapshot is None:  # an outcome without a snapshot (not_found, errors, skipped)
        return events_of(result, Findings())
    before = conn.execute(
        select(s.outcome)
        .where(s.player_id == snapshot.player_id, s.id < snapshot.id, s.outcome.in_(_SNAPSHOT_OUTCOMES))
        .order_by(s.id.desc())
        .limit(1)
    ).scalar()
    was_private = None if before is None else before == "private"
    findings = Findings(
        privacy=privacy_change(was_private, snapshot.outcome == "private"),
        rank_changes=_rank_changes(conn, snapshot.id),
        sessions=_sessions(conn, snapshot.id),
    )
    return events_of(result, findings)


def _rank_changes(conn: Connection, snapshot_id: int) -> list[RankChange]:
    rc = schema.rank_changes.c
    rows = conn.execute(
        select(rc.platform, rc.role, rc.season, rc.from_division, rc.from_tier, rc.to_division, rc.to_tier)
        .where(rc.snapshot_id == snapshot_id)
        .order_by(rc.platform, rc.role)
    ).mappings()
    return [RankChange(**row) for row in rows]


def _sessions(conn: Connection, snapshot_id: int) -> list[tuple[Session, int | None, int | None]]:
    se = schema.sessions.c
    rows = conn.execute(
        select(schema.sessions).where(se.to_snapshot_id == snapshot_id).order_by(se.platform, se.gamemode)
    ).mappings()  # the order the writer derives them in: by (platform, gamemode)
    out = []
    for row in rows:
        line = Line(**{name: row[name] for name in Line._fields})
        heroes = row["heroes"].split(",") if row["heroes"] else []
        session = Session(row["gamemode"], bool(row["is_reset"]), line, (), heroes, row["platform"])
        out.append((session, row["started_at"], row["ended_at"]))
    return out
