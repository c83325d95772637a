"""What the fetcher and the scheduler plan from: a player's stored state, read in a few indexed queries.

* :func:`fetch_facts`: for one fetch (:mod:`owstream.domain.fetchplan`): the newest changed snapshot's
  ``last_updated_at`` and ranks, and the current overall counters of each platform.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from owstream.domain.fetchplan import Counter, Stored
from owstream.domain.vocabulary import PLATFORMS, SCOPE_OVERALL
from owstream.store import schema
from owstream.store.queries import current_stats, latest_changed_snapshot


def fetch_facts(conn: Connection, player_id: str) -> Stored:
    """The stored facts a fetch of ``player_id`` is planned from (``known`` is the fetcher's to say)."""
    latest = latest_changed_snapshot(conn, player_id)
    if latest is None:
        return Stored()
    r = schema.ranks.c
    ranks = frozenset(
        (str(platform), str(role), str(division), tier)
        for platform, role, division, tier in conn.execute(
            select(r.platform, r.role, r.division, r.tier).where(r.snapshot_id == latest.id)
        )
    )
    current = current_stats([player_id]).subquery()
    counters: dict[tuple[str, str], Counter] = {}
    for platform, mode, games, seconds in conn.execute(
        select(current.c.platform, current.c.gamemode, current.c.games_played, current.c.time_played).where(
            current.c.scope == SCOPE_OVERALL, current.c.platform.in_(PLATFORMS)
        )
    ):
        counters[(str(platform), str(mode))] = (int(games), int(seconds))
    platforms = frozenset(platform for platform, _ in counters)
    p = schema.players.c
    row = conn.execute(
        select(p.pc_asked_at, p.console_asked_at, p.summary_digest).where(p.player_id == player_id)
    ).first()
    asked_at: dict[str, float] = {}
    for platform, at in zip(PLATFORMS, row[:2] if row else (None, None), strict=True):
        if at is not None:
            asked_at[platform] = float(at)
    digest = row.summary_digest if row is not None else None
    return Stored(False, latest.last_updated_at, ranks, platforms, counters, asked_at, digest)
