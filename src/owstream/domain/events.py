"""The event rules: what a stored fetch result announces on ``player-events``, and under which ids.

Pure. The ids are deterministic (``<result id>:<type>:<index>``): the events of a result derived again (a
result read again after a crash) are the same events, and consumers dedupe by id. The processor derives
them when it stores a result and again, from what the store kept, when it reads one it had stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from owstream.domain.deltas import RankChange, Session
from owstream.messages.models import (
    FetchStored,
    NotFoundData,
    PlayerEvent,
    PlayerNotFound,
    PrivacyChanged,
    PrivacyData,
    RankChanged,
    RankChangeData,
    SessionData,
    SessionFound,
    StoredData,
    StoreResult,
)


@dataclass(frozen=True, slots=True)
class Findings:
    """What storing one result found out about its player."""

    privacy: bool | None = None  # the profile's new privacy, when it changed
    rank_changes: Sequence[RankChange] = ()
    sessions: Sequence[tuple[Session, int | None, int | None]] = ()  # session, started_at, ended_at


def privacy_change(was_private: bool | None, private: bool) -> bool | None:
    """The new privacy when it changed; None for the first ok/private result or no change."""
    return private if was_private is not None and was_private != private else None


def events_of(result: StoreResult, findings: Findings) -> list[PlayerEvent]:
    """The events of a stored result, in order: privacy, rank changes, sessions, not found, one
    ``fetch_stored`` per request the result answered."""
    ids = _Ids(result.result_id)
    pid, at = result.player_id, result.fetched_at
    events: list[PlayerEvent] = []
    if findings.privacy is not None:
        privacy = PrivacyData(findings.privacy)
        events.append(PrivacyChanged(event_id=ids.next("privacy_change"), player_id=pid, at=at, data=privacy))
    for change in findings.rank_changes:
        moved = RankChangeData(
            platform=change.platform,
            role=change.role,
            season=change.season,
            from_division=change.from_division,
            from_tier=change.from_tier,
            to_division=change.to_division,
            to_tier=change.to_tier,
        )
        events.append(RankChanged(event_id=ids.next("rank_change"), player_id=pid, at=at, data=moved))
    for session, started, ended in findings.sessions:
        played = session_data(session, started, ended)
        events.append(SessionFound(event_id=ids.next("session"), player_id=pid, at=at, data=played))
    if result.outcome == "not_found":
        missing = NotFoundData(error=result.error, retry_after=result.retry_after)
        events.append(PlayerNotFound(event_id=ids.next("not_found"), player_id=pid, at=at, data=missing))
    stored = StoredData(
        outcome=result.outcome, error=result.error, retry_after=result.retry_after, suggestion=result.suggestion
    )
    for request_id in dict.fromkeys(result.request_ids):  # a repeated id is one request
        event_id = ids.next("fetch_stored")
        events.append(FetchStored(event_id=event_id, player_id=pid, at=at, request_id=request_id, data=stored))
    return events


def session_data(session: Session, started: int | None, ended: int | None) -> SessionData:
    o = session.overall
    return SessionData(
        gamemode=session.gamemode,  # type: ignore[arg-type]  # a gamemode of a checked result
        platform=session.platform,  # type: ignore[arg-type]  # pc, console or both
        is_reset=session.is_reset,
        games=o.games,
        wins=o.wins,
        losses=o.losses,
        winrate=o.winrate,
        kda=o.kda,
        time_played=o.time_played,
        eliminations=o.eliminations,
        assists=o.assists,
        deaths=o.deaths,
        damage=o.damage,
        healing=o.healing,
        heroes=list(session.heroes),
        started_at=started,
        ended_at=ended,
    )


class _Ids:
    def __init__(self, result_id: str) -> None:
        self._result_id = result_id
        self._counts: dict[str, int] = {}

    def next(self, kind: str) -> str:
        index = self._counts.get(kind, 0)
        self._counts[kind] = index + 1
        return f"{self._result_id}:{kind}:{index}"
