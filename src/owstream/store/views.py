"""The dashboard's queries (SQLAlchemy Core, parameterised): plain rows out, one function per page.

Each returns dataclasses of lists of dicts (records, column name -> value); the dashboard turns them into
frames and charts. Nothing here knows Streamlit or pandas, so the benchmark calls these directly.

**Platforms.** Stats, sessions, seasons and rank changes are per platform: ``pc``, ``console``, or ``both``
(OverFast's total of pc and console, what snapshots stored before owstream asked per platform hold; shown only
labelled so, never added to one platform's numbers). :func:`player`, :func:`history` and :func:`squad` take a
``platform``: None is each player's default, the one played most (time played, every gamemode). Their rows say
which platform they are (``platform``, and ``platforms``: every platform the player has, the default first, for
a switch); :func:`owstream.domain.vocabulary.platform_name` gives the label ("PC", "Console", "PC + console").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, false, func, or_, select

from owstream.domain.heroes import role_name
from owstream.domain.refresh import RefreshPolicy, next_refresh_at
from owstream.domain.seasons import SeasonSpan, chosen_season, place
from owstream.domain.seasons import spans as season_spans
from owstream.domain.vocabulary import BOTH, SCOPE_HERO, SCOPE_OVERALL, platform_name, rank_text
from owstream.store import queries, schema
from owstream.store.queries import current_stats, latest_changed_snapshot, ranks_of
from owstream.store.report import ordered_platforms, platform_times, platforms_of
from owstream.store.seasons import (
    SeasonInfo,
    borrowing,
    first_seen,
    player_points,
    player_spans,
    season_info,
    season_records,
)
from owstream.store.views_meta import AlertRows, MetaRows, alerts, hero_roles, meta_by_division, meta_trend

__all__ = [  # the meta's and the alerts' queries live in views_meta, and are here for the pages too
    "AVG_COLUMNS", "SESSION_COLUMNS", "STAT_COLUMNS", "ActivityRows", "AlertRows", "HistoryRows", "MetaRows",
    "PlayerChoice", "PlayerRows", "SquadRows", "WatchRow", "activity", "alerts", "hero_roles", "history",
    "meta_by_division", "meta_trend", "player", "players", "squad", "watchlist",
]  # fmt: skip

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
    """What the Player page shows for one player, one platform and one gamemode."""

    profile: dict[str, Any]
    last_updated_at: int | None  # Blizzard's update time of the newest stats (epoch s)
    stats_fetched_at: float | None
    ranks: Records  # platform, role, season, division, tier, rank_icon (every platform's)
    gamemodes: list[str]  # gamemodes with stats on the platform, for the switch
    stats: Records  # scope, key and the shown numbers of every current block of the gamemode (or the season's)
    seasons: list[int] = field(default_factory=list)  # the platform's seasons, oldest first, for the season switch
    season: SeasonInfo | None = None  # the season shown (None: lifetime, or the season asked for is not stored)
    platform: str | None = None  # the platform of ``stats`` (None: no stats at all)
    platforms: list[str] = field(default_factory=list)  # the player's platforms with stats, the most played first


@dataclass(frozen=True)
class HistoryRows:
    """One platform's history of one gamemode (``platform``)."""

    timeline: Records  # one per changed snapshot moving the platform: fetched_at, last_updated_at, counts, ...
    ranks: Records  # fetched_at, last_updated_at, platform, role, division, tier (the platform's; both: all)
    sessions: Records  # newest first, with a rank_change text
    session_heroes: Records  # to_snapshot_id, hero, games, wins, losses, time_played, winrate, kda
    seasons: list[int] = field(default_factory=list)
    season: SeasonInfo | None = None  # the season the rows are limited to (None: lifetime)
    session_count: int = 0  # sessions of the gamemode (in the season), all of them, not only those listed
    session_games: int = 0  # games in those sessions
    platform: str | None = None
    platforms: list[str] = field(default_factory=list)  # the player's platforms with stats, the most played first


@dataclass(frozen=True)
class SquadRows:
    """Each player on one platform: the one asked for, or their own default (``platforms``)."""

    stats: Records  # player_id, name, platform, scope, key and the shown numbers (overall and heroes)
    sessions: Records  # the window's sessions, newest first, each with its platform
    window_end: float | None
    seasons: list[int] = field(default_factory=list)  # every season of the players
    season: int | None = None  # the season shown (None: lifetime)
    since: dict[str, SeasonInfo] = field(default_factory=dict)  # player -> how their season is counted
    missing: list[str] = field(default_factory=list)  # players with no snapshot in that season
    platforms: dict[str, str] = field(default_factory=dict)  # player -> the platform shown


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
    last_updated_at: int | None = None  # when Blizzard last updated the profile (the player last played)
    next_refresh_at: float | None = None  # when the scheduler refreshes it next (owstream.domain.refresh)
    refresh_why: str = ""  # why then, in words: "played 2.0 h ago: every 10 min", "idle for 9 days: every 60 min"
    platforms: list[str] = field(default_factory=list)  # its platforms with stats, the most played first


def players(engine: Engine) -> list[PlayerChoice]:
    p, w = schema.players.c, schema.watchlist.c
    tracked = select(w.player_id).where(w.player_id == p.player_id).exists()
    query = select(p.player_id, p.name, p.last_seen, tracked).order_by(p.player_id)
    with engine.connect() as conn:
        return [PlayerChoice(pid, name, seen, bool(t)) for pid, name, seen, t in conn.execute(query)]


def _span(conn: Connection, player_id: str, season: str, platform: str | None) -> tuple[list[int], SeasonSpan | None]:
    """(the platform's seasons, the span of the season chosen: ``current``, ``last``; None for ``lifetime``)."""
    found = player_spans(conn, player_id, platform)
    seasons = [span.season for span in found]
    number = chosen_season(season, seasons)
    return seasons, next((span for span in found if span.season == number), None)


def player(
    engine: Engine, player_id: str, gamemode: str, season: str = "lifetime", platform: str | None = None
) -> PlayerRows | None:
    """``season``: ``lifetime`` (OverFast's totals), ``current`` or ``last`` (that season's numbers); ``platform``:
    pc, console or both (None: the one the player played most)."""
    p, s, st = schema.players.c, schema.snapshots.c, schema.stats.c
    with engine.connect() as conn:
        profile = conn.execute(select(schema.players).where(p.player_id == player_id)).mappings().first()
        if profile is None:
            return None
        found = platforms_of(conn, player_id)
        chosen = platform or (found[0] if found else BOTH)
        modes = conn.execute(
            select(st.gamemode)
            .join(schema.snapshots, st.snapshot_id == s.id)
            .where(s.player_id == player_id, s.changed.is_(True), st.scope == SCOPE_OVERALL, st.platform == chosen)
            .group_by(st.gamemode)
        ).scalars()
        gamemodes = sorted(modes)
        seasons, span = _span(conn, player_id, season, chosen)
        latest = latest_changed_snapshot(conn, player_id)
        updated, fetched = (latest.last_updated_at, latest.fetched_at) if latest else (None, None)
        ranks = ranks_of(conn, latest.id) if latest else []
        stats: Records = []
        if span is not None:
            stats = season_records(conn, player_id, span, gamemode, _SHOWN, platform=chosen)
            updated, fetched = span.last.last_updated_at, span.last.fetched_at
            ranks = ranks_of(conn, span.last.snapshot_id)
        elif season == "lifetime" and gamemode in gamemodes:
            current = current_stats([player_id], gamemode, platform=chosen).subquery()
            query = select(current.c.scope, current.c.key, *(current.c[c] for c in _SHOWN))
            stats = [dict(row) for row in conn.execute(query).mappings()]
        return PlayerRows(
            profile=dict(profile),
            last_updated_at=updated,
            stats_fetched_at=fetched,
            ranks=ranks,
            gamemodes=gamemodes,
            stats=stats,
            seasons=seasons,
            season=season_info(conn, player_id, span, chosen) if span is not None else None,
            platform=chosen if found or platform else None,
            platforms=found,
        )


def history(  # noqa: PLR0917 - the page's switches
    engine: Engine,
    player_id: str,
    gamemode: str,
    max_sessions: int = 200,
    season: str = "lifetime",
    platform: str | None = None,
) -> HistoryRows:
    """``season``: ``lifetime`` (every snapshot and session), ``current`` or ``last`` (that season's only);
    ``platform``: pc, console or both (None: the one the player played most)."""
    s, st, r, se = schema.snapshots.c, schema.stats.c, schema.ranks.c, schema.sessions.c
    rc, sp = schema.rank_changes.c, schema.session_parts.c
    with engine.connect() as conn:
        found = platforms_of(conn, player_id)
        chosen = platform or (found[0] if found else BOTH)
        overall = and_(
            st.snapshot_id == s.id, st.gamemode == gamemode, st.scope == SCOPE_OVERALL, st.platform == chosen
        )
        rank_platform = r.platform == chosen if chosen != BOTH else r.platform.is_not(None)
        change_platform = rc.platform == chosen if chosen != BOTH else rc.platform.is_not(None)
        seasons, span = _span(conn, player_id, season, chosen)
        in_season: ColumnElement[bool] = s.id.is_not(None)
        session_in_season: ColumnElement[bool] = se.to_snapshot_id.is_not(None)
        if span is not None:
            in_season = s.id.between(span.first.snapshot_id, span.end.snapshot_id)
            session_in_season = and_(
                se.to_snapshot_id > span.base.snapshot_id, se.to_snapshot_id <= span.end.snapshot_id
            )
        elif season != "lifetime":  # a season that is not stored: nothing
            in_season = session_in_season = false()
        timeline = conn.execute(
            select(s.fetched_at, s.last_updated_at, *(st[c] for c in STAT_COLUMNS))
            .join(schema.stats, overall)
            .where(s.player_id == player_id, s.changed.is_(True), in_season)
            .order_by(s.id)
        ).mappings()
        timeline_rows = [dict(row) for row in timeline]
        ranks = conn.execute(
            select(s.fetched_at, s.last_updated_at, r.platform, r.role, r.division, r.tier)
            .join(schema.ranks, r.snapshot_id == s.id)
            .where(s.player_id == player_id, s.changed.is_(True), in_season, rank_platform)
            .order_by(s.id)
        ).mappings()
        rank_rows = [dict(row) for row in ranks]
        of_player = and_(se.player_id == player_id, se.gamemode == gamemode, se.platform == chosen, session_in_season)
        sessions = conn.execute(
            select(se.to_snapshot_id, se.platform, se.started_at, se.ended_at, se.fetched_at)
            .add_columns(*(se[c] for c in SESSION_COLUMNS), se.heroes, se.is_reset)
            .where(of_player)
            .order_by(se.fetched_at.desc())
            .limit(max_sessions)
        ).mappings()
        session_rows = [dict(row) for row in sessions]
        count, games = conn.execute(select(func.count(), func.coalesce(func.sum(se.games), 0)).where(of_player)).one()
        changes = conn.execute(
            select(rc.snapshot_id, rc.platform, rc.role, rc.from_division, rc.from_tier, rc.to_division, rc.to_tier)
            .where(rc.player_id == player_id, change_platform)
            .order_by(rc.snapshot_id, rc.platform, rc.role)
        ).all()
        ids = [int(row["to_snapshot_id"]) for row in session_rows[:50]]
        heroes = conn.execute(
            select(sp.to_snapshot_id, sp.key.label("hero"), *(sp[c] for c in SESSION_COLUMNS))
            .where(sp.to_snapshot_id.in_(ids), sp.gamemode == gamemode, sp.platform == chosen, sp.scope == SCOPE_HERO)
            .order_by(sp.to_snapshot_id, sp.time_played.desc())
        ).mappings()
        hero_rows = [dict(row) for row in heroes]
        info = season_info(conn, player_id, span, chosen) if span is not None else None
    text = _rank_change_text(changes)
    for row in session_rows:
        row["rank_change"] = text.get(int(row["to_snapshot_id"]), "")
    return HistoryRows(
        timeline_rows, rank_rows, session_rows, hero_rows, seasons, info, int(count), int(games), chosen, found
    )


def _rank_change_text(changes: Sequence[Any]) -> dict[int, str]:
    """Snapshot id -> its rank changes in words: ``Support (PC): Gold 3 → Gold 2``."""
    text: dict[int, list[str]] = {}
    for snapshot_id, platform, role, from_div, from_tier, to_div, to_tier in changes:
        where = f"{role_name(role)} ({platform_name(platform)})"
        change = f"{where}: {rank_text(from_div, from_tier)} → {rank_text(to_div, to_tier)}"
        text.setdefault(snapshot_id, []).append(change)
    return {k: "; ".join(v) for k, v in text.items()}


def squad(  # noqa: PLR0917 - the page's switches
    engine: Engine,
    player_ids: Sequence[str],
    gamemode: str,
    window_hours: float | None,
    season: str = "lifetime",
    platform: str | None = None,
) -> SquadRows:
    """Current stats (overall and heroes) of each player, and their sessions in the ``window_hours`` before
    the squad's newest session (None: every session). ``season``: ``current`` or ``last`` of the squad (the
    newest season any of them has, the one before it): each player's numbers and sessions of that season.
    ``platform``: every player's numbers on that platform (None: each on the one they played most)."""
    se, p = schema.sessions.c, schema.players.c
    if not player_ids:
        return SquadRows([], [], None)
    with engine.connect() as conn:
        names = dict(conn.execute(select(p.player_id, p.name).where(p.player_id.in_(list(player_ids)))).all())
        times = platform_times(conn, list(player_ids))
        shown = {pid: platform or (ordered_platforms(times.get(pid, {})) or [BOTH])[0] for pid in player_ids}
        points = {pid: player_points(conn, pid, shown[pid]) for pid in player_ids}
        seen = first_seen(conn) if any(borrowing(found) for found in points.values()) else {}
        spans = {pid: {span.season: span for span in season_spans(place(found, seen))} for pid, found in points.items()}
        seasons = sorted({number for found in spans.values() for number in found})
        number = chosen_season(season, seasons)
        stat_rows: Records = []
        since: dict[str, SeasonInfo] = {}
        missing: list[str] = []
        windows: list[ColumnElement[bool]] = []
        if season == "lifetime":
            current = current_stats(player_ids, gamemode).subquery()
            stats = conn.execute(
                select(
                    current.c.player_id, p.name, current.c.platform, current.c.scope, current.c.key,
                    *(current.c[c] for c in _SHOWN),
                )
                .join(schema.players, p.player_id == current.c.player_id)
                .where(current.c.scope.in_([SCOPE_OVERALL, SCOPE_HERO]))
            ).mappings()  # fmt: skip
            stat_rows = [dict(row) for row in stats if row["platform"] == shown[row["player_id"]]]
            windows = [and_(se.player_id == pid, se.platform == shown[pid]) for pid in player_ids]
        else:
            for pid in player_ids:
                span = spans[pid].get(number) if number is not None else None
                if span is None:
                    missing.append(pid)
                    continue
                since[pid] = season_info(conn, pid, span, shown[pid])
                for record in season_records(conn, pid, span, gamemode, _SHOWN, platform=shown[pid]):
                    if record["scope"] in (SCOPE_OVERALL, SCOPE_HERO):
                        stat_rows.append({"player_id": pid, "name": names.get(pid), "platform": shown[pid], **record})
                windows.append(
                    and_(
                        se.player_id == pid,
                        se.platform == shown[pid],
                        se.to_snapshot_id > span.base.snapshot_id,
                        se.to_snapshot_id <= span.end.snapshot_id,
                    )
                )
        of_squad = and_(or_(false(), *windows), se.gamemode == gamemode)
        window_end = conn.execute(select(func.max(se.fetched_at)).where(of_squad)).scalar()
        session_rows: Records = []
        if window_end is not None:
            query = select(
                se.player_id, se.platform, se.fetched_at, se.started_at, se.ended_at, *(se[c] for c in SESSION_COLUMNS)
            )
            query = query.add_columns(se.heroes, se.is_reset).where(of_squad)
            if window_hours is not None:
                query = query.where(se.fetched_at >= window_end - window_hours * 3600.0)
            session_rows = [dict(r) for r in conn.execute(query.order_by(se.fetched_at.desc()).limit(500)).mappings()]
    return SquadRows(stat_rows, session_rows, window_end, seasons, number, since, missing, shown)


def activity(engine: Engine, now: float, minutes: int = 60) -> ActivityRows:
    """Fetch results stored over the last ``minutes`` (from the raw results' fetch times) and their outcomes."""
    rr, fo = schema.raw_results.c, schema.fetch_outcomes.c
    since = now - minutes * 60
    with engine.connect() as conn:
        times = list(conn.execute(select(rr.fetched_at).where(rr.fetched_at >= since)).scalars())
        total, last = conn.execute(select(func.count(), func.max(rr.fetched_at))).one()
        outcomes = conn.execute(select(fo.outcome, func.count()).where(fo.at >= since).group_by(fo.outcome)).all()
    return ActivityRows(times, int(total or 0), last, {str(k): int(v) for k, v in outcomes})


def watchlist(engine: Engine, policy: RefreshPolicy | None = None, now: float | None = None) -> list[WatchRow]:
    """The tracked players (the scheduler's own entries, :func:`owstream.store.queries.watchlist`), each with its
    name, its newest fetch outcome, its platforms, and when the scheduler refreshes it next and why (``policy``:
    the settings' (``owstream.domain.refresh.policy_of``); None: the defaults, a 10-minute refresh growing to an
    hour after a week idle)."""
    p = schema.players.c
    rule, at = policy or RefreshPolicy(), time.time() if now is None else now
    with engine.connect() as conn:
        entries = queries.watchlist(conn)
        ids = [entry.player_id for entry in entries]
        query = select(p.player_id, p.name, p.last_outcome).where(p.player_id.in_(ids))
        known = {row[0]: (row[1], row[2]) for row in conn.execute(query)}
        times = platform_times(conn, ids)
    out = []
    for entry in entries:
        name, outcome = known.get(entry.player_id, (None, None))
        when, why = next_refresh_at(rule, entry.last_fetched_at, entry.last_updated_at, at)
        row = WatchRow(
            entry.player_id, name, entry.added_at, entry.last_fetched_at, outcome, entry.notify_url,
            entry.notify_format, entry.last_updated_at, next_refresh_at=when, refresh_why=why,
            platforms=ordered_platforms(times.get(entry.player_id, {})),
        )  # fmt: skip
        out.append(row)
    return out
