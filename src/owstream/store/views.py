"""The dashboard's queries (SQLAlchemy Core, parameterised): plain rows out, one function per page.

Each returns dataclasses of lists of dicts (records, column name -> value); the dashboard turns them into
frames and charts. Nothing here knows Streamlit or pandas, so the benchmark calls these directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, func, select

from owstream.domain.vocabulary import SCOPE_HERO, SCOPE_OVERALL, rank_text
from owstream.store import schema
from owstream.store.notifications import Notifications
from owstream.store.queries import current_stats, latest_changed_snapshot, ranks_of

Records = list[dict[str, Any]]

STAT_COLUMNS = ("games_played", "games_won", "games_lost", "time_played", "winrate", "kda")
AVG_COLUMNS = ("avg_eliminations", "avg_assists", "avg_deaths", "avg_damage", "avg_healing")
SESSION_COLUMNS = ("games", "wins", "losses", "time_played", "winrate", "kda")
_SHOWN = (*STAT_COLUMNS, *AVG_COLUMNS)


@dataclass(frozen=True)
class PlayerChoice:
    player_id: str
    name: str | None
    last_seen: float
    tracked: bool


@dataclass(frozen=True)
class PlayerRows:
    """What the Player page shows for one player and one gamemode."""

    profile: dict[str, Any]
    last_updated_at: int | None  # Blizzard's update time of the newest stats (epoch s)
    stats_fetched_at: float | None
    ranks: Records  # platform, role, season, division, tier, rank_icon
    gamemodes: list[str]  # gamemodes with stats, for the switch
    stats: Records  # scope, key and the shown numbers of every current block of the gamemode


@dataclass(frozen=True)
class HistoryRows:
    timeline: Records  # one per changed snapshot: fetched_at, last_updated_at, counts, winrate, kda
    ranks: Records  # fetched_at, last_updated_at, platform, role, division, tier
    sessions: Records  # newest first, with a rank_change text
    session_heroes: Records  # to_snapshot_id, hero, games, wins, losses, time_played, winrate, kda


@dataclass(frozen=True)
class SquadRows:
    stats: Records  # player_id, name, scope, key and the shown numbers (overall and heroes)
    sessions: Records  # the window's sessions, newest first
    window_end: float | None


@dataclass(frozen=True)
class ActivityRows:
    result_times: list[float]  # fetched_at of the results of the window
    total_results: int
    last_result_at: float | None
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class WatchRow:
    player_id: str
    name: str | None
    added_at: float
    last_fetched_at: float | None
    last_outcome: str | None
    notify_url: str | None = None  # a secret: show it through owstream.domain.alerts.mask_url
    notify_format: str | None = None


def players(engine: Engine) -> list[PlayerChoice]:
    p, w = schema.players.c, schema.watchlist.c
    tracked = select(w.player_id).where(w.player_id == p.player_id).exists()
    query = select(p.player_id, p.name, p.last_seen, tracked).order_by(p.player_id)
    with engine.connect() as conn:
        return [PlayerChoice(pid, name, seen, bool(t)) for pid, name, seen, t in conn.execute(query)]


def player(engine: Engine, player_id: str, gamemode: str) -> PlayerRows | None:
    p, s, st = schema.players.c, schema.snapshots.c, schema.stats.c
    with engine.connect() as conn:
        profile = conn.execute(select(schema.players).where(p.player_id == player_id)).mappings().first()
        if profile is None:
            return None
        modes = conn.execute(
            select(st.gamemode)
            .join(schema.snapshots, st.snapshot_id == s.id)
            .where(s.player_id == player_id, s.changed.is_(True), st.scope == SCOPE_OVERALL)
            .group_by(st.gamemode)
        ).scalars()
        gamemodes = sorted(modes)
        latest = latest_changed_snapshot(conn, player_id)
        stats: Records = []
        if gamemode in gamemodes:
            current = current_stats([player_id], gamemode).subquery()
            query = select(current.c.scope, current.c.key, *(current.c[c] for c in _SHOWN))
            stats = [dict(row) for row in conn.execute(query).mappings()]
        return PlayerRows(
            profile=dict(profile),
            last_updated_at=latest.last_updated_at if latest else None,
            stats_fetched_at=latest.fetched_at if latest else None,
            ranks=ranks_of(conn, latest.id) if latest else [],
            gamemodes=gamemodes,
            stats=stats,
        )


def history(engine: Engine, player_id: str, gamemode: str, max_sessions: int = 200) -> HistoryRows:
    s, st, r, se = schema.snapshots.c, schema.stats.c, schema.ranks.c, schema.sessions.c
    rc, sp = schema.rank_changes.c, schema.session_parts.c
    overall = and_(st.snapshot_id == s.id, st.gamemode == gamemode, st.scope == SCOPE_OVERALL)
    with engine.connect() as conn:
        timeline = conn.execute(
            select(s.fetched_at, s.last_updated_at, *(st[c] for c in STAT_COLUMNS))
            .join(schema.stats, overall)
            .where(s.player_id == player_id, s.changed.is_(True))
            .order_by(s.id)
        ).mappings()
        timeline_rows = [dict(row) for row in timeline]
        ranks = conn.execute(
            select(s.fetched_at, s.last_updated_at, r.platform, r.role, r.division, r.tier)
            .join(schema.ranks, r.snapshot_id == s.id)
            .where(s.player_id == player_id, s.changed.is_(True))
            .order_by(s.id)
        ).mappings()
        rank_rows = [dict(row) for row in ranks]
        sessions = conn.execute(
            select(se.to_snapshot_id, se.started_at, se.ended_at, se.fetched_at)
            .add_columns(*(se[c] for c in SESSION_COLUMNS), se.heroes, se.is_reset)
            .where(se.player_id == player_id, se.gamemode == gamemode)
            .order_by(se.fetched_at.desc())
            .limit(max_sessions)
        ).mappings()
        session_rows = [dict(row) for row in sessions]
        changes = conn.execute(
            select(rc.snapshot_id, rc.platform, rc.role, rc.from_division, rc.from_tier, rc.to_division, rc.to_tier)
            .where(rc.player_id == player_id)
            .order_by(rc.snapshot_id, rc.platform, rc.role)
        ).all()
        ids = [int(row["to_snapshot_id"]) for row in session_rows[:50]]
        heroes = conn.execute(
            select(sp.to_snapshot_id, sp.key.label("hero"), *(sp[c] for c in SESSION_COLUMNS))
            .where(sp.to_snapshot_id.in_(ids), sp.gamemode == gamemode, sp.scope == SCOPE_HERO)
            .order_by(sp.to_snapshot_id, sp.time_played.desc())
        ).mappings()
        hero_rows = [dict(row) for row in heroes]
    text = _rank_change_text(changes)
    for row in session_rows:
        row["rank_change"] = text.get(int(row["to_snapshot_id"]), "")
    return HistoryRows(timeline_rows, rank_rows, session_rows, hero_rows)


def _rank_change_text(changes: Sequence[Any]) -> dict[int, str]:
    text: dict[int, list[str]] = {}
    for snapshot_id, platform, role, from_div, from_tier, to_div, to_tier in changes:
        change = f"{role} ({platform}): {rank_text(from_div, from_tier)} → {rank_text(to_div, to_tier)}"
        text.setdefault(snapshot_id, []).append(change)
    return {k: "; ".join(v) for k, v in text.items()}


def squad(engine: Engine, player_ids: Sequence[str], gamemode: str, window_hours: float | None) -> SquadRows:
    """Current stats (overall and heroes) of each player, and their sessions in the ``window_hours`` before
    the squad's newest session (None: every session)."""
    se, p = schema.sessions.c, schema.players.c
    if not player_ids:
        return SquadRows([], [], None)
    current = current_stats(player_ids, gamemode).subquery()
    with engine.connect() as conn:
        stats = conn.execute(
            select(current.c.player_id, p.name, current.c.scope, current.c.key, *(current.c[c] for c in _SHOWN))
            .join(schema.players, p.player_id == current.c.player_id)
            .where(current.c.scope.in_([SCOPE_OVERALL, SCOPE_HERO]))
        ).mappings()
        stat_rows = [dict(row) for row in stats]
        window_end = conn.execute(
            select(func.max(se.fetched_at)).where(se.player_id.in_(list(player_ids)), se.gamemode == gamemode)
        ).scalar()
        session_rows: Records = []
        if window_end is not None:
            query = select(se.player_id, se.fetched_at, se.started_at, se.ended_at, *(se[c] for c in SESSION_COLUMNS))
            query = query.add_columns(se.heroes, se.is_reset).where(
                se.player_id.in_(list(player_ids)), se.gamemode == gamemode
            )
            if window_hours is not None:
                query = query.where(se.fetched_at >= window_end - window_hours * 3600.0)
            session_rows = [dict(r) for r in conn.execute(query.order_by(se.fetched_at.desc()).limit(500)).mappings()]
    return SquadRows(stat_rows, session_rows, window_end)


def activity(engine: Engine, now: float, minutes: int = 60) -> ActivityRows:
    """Fetch results stored over the last ``minutes`` (from the raw results' fetch times) and their outcomes."""
    rr, fo = schema.raw_results.c, schema.fetch_outcomes.c
    since = now - minutes * 60
    with engine.connect() as conn:
        times = list(conn.execute(select(rr.fetched_at).where(rr.fetched_at >= since)).scalars())
        total, last = conn.execute(select(func.count(), func.max(rr.fetched_at))).one()
        outcomes = conn.execute(select(fo.outcome, func.count()).where(fo.at >= since).group_by(fo.outcome)).all()
    return ActivityRows(times, int(total or 0), last, {str(k): int(v) for k, v in outcomes})


def watchlist(engine: Engine) -> list[WatchRow]:
    w, r, p = schema.watchlist.c, schema.raw_results.c, schema.players.c
    last = select(func.max(r.fetched_at)).where(r.player_id == w.player_id).scalar_subquery()
    query = (
        select(w.player_id, p.name, w.added_at, last, p.last_outcome, w.notify_url, w.notify_format)
        .outerjoin(schema.players, p.player_id == w.player_id)
        .order_by(w.added_at, w.player_id)
    )
    with engine.connect() as conn:
        return [WatchRow(*row) for row in conn.execute(query).all()]


@dataclass(frozen=True)
class AlertRows:
    counts: dict[str, int]  # deliveries by status: pending, sent, given_up, dropped
    open: Records  # pending and given-up deliveries, newest change first; no URL (a secret) in them


def alerts(engine: Engine, limit: int = 50) -> AlertRows:
    """The notifier's deliveries for the Pipeline page."""
    notes = Notifications(engine)
    rows = [
        {
            "player_id": d.player_id,
            "event_type": d.event_type,
            "status": d.status,
            "attempts": d.attempts,
            "last_status": d.last_status,
            "last_error": d.last_error,
            "created_at": d.created_at,
            "next_attempt_at": d.next_attempt_at,
            "updated_at": d.updated_at,
        }
        for d in notes.unfinished_and_failed(limit)
    ]
    return AlertRows(notes.counts(), rows)
