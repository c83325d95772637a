"""The dashboard's read queries (SQLAlchemy Core, parameterised) and their Streamlit-cached wrappers.

The ``load_*`` functions take an Engine and return plain data (dataclasses, pandas frames); they know
nothing of Streamlit, so the benchmark calls them directly. The cached wrappers at the bottom open the
store once per process (``st.cache_resource``) and keep each page's data for a few seconds
(``st.cache_data``), so a page re-run on every widget change does not hit the database again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine, and_, func, select

from owstream.config import Settings, get_settings
from owstream.normalize import SCOPE_HERO, SCOPE_OVERALL, SCOPE_ROLE
from owstream.store import Store, schema
from owstream.store.queries import current_stats

TTL_SECONDS = 5.0
DIVISIONS: tuple[str, ...] = ("bronze", "silver", "gold", "platinum", "diamond", "master", "grandmaster", "ultimate")
HOUR = 3600.0

_STAT_COLUMNS = ("games_played", "games_won", "games_lost", "time_played", "winrate", "kda")
_AVG_COLUMNS = ("avg_eliminations", "avg_assists", "avg_deaths", "avg_damage", "avg_healing")
_SHOWN = (*_STAT_COLUMNS, *_AVG_COLUMNS)
_SESSION_COLUMNS = ("games", "wins", "losses", "time_played", "winrate", "kda")


@dataclass(frozen=True)
class PlayerChoice:
    player_id: str
    name: str | None
    last_seen: float
    tracked: bool


@dataclass(frozen=True)
class PlayerView:
    """Everything the Player page shows for one player and one gamemode."""

    profile: dict[str, Any]
    last_updated_at: int | None  # Blizzard's update time of the newest stats (epoch s)
    stats_fetched_at: float | None
    ranks: pd.DataFrame  # platform, role, season, division, tier, rank_icon
    gamemodes: list[str]  # gamemodes with stats, for the switch
    overall: dict[str, Any] | None  # one stats row of the chosen gamemode
    roles: pd.DataFrame
    heroes: pd.DataFrame


@dataclass(frozen=True)
class HistoryView:
    timeline: pd.DataFrame  # one row per changed snapshot: fetched_at, games, winrate, kda, hours
    ranks: pd.DataFrame  # fetched_at, platform, role, division, tier, score
    sessions: pd.DataFrame  # newest first
    session_heroes: pd.DataFrame  # to_snapshot_id, hero, games, wins, losses, time_played, ...


@dataclass(frozen=True)
class SquadView:
    overall: pd.DataFrame  # one row per player
    heroes: pd.DataFrame  # player_id, hero, hours, games_played, winrate
    sessions: pd.DataFrame  # sessions of the window, newest first
    window_end: float | None


@dataclass(frozen=True)
class StoreActivity:
    per_minute: pd.DataFrame  # minute (epoch s), outcome, results
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


# --- pure loaders ------------------------------------------------------------------------------------


def load_players(engine: Engine) -> list[PlayerChoice]:
    p, w = schema.players.c, schema.watchlist.c
    tracked = select(w.player_id).where(w.player_id == p.player_id).exists()
    query = select(p.player_id, p.name, p.last_seen, tracked).order_by(p.player_id)
    with engine.connect() as conn:
        return [PlayerChoice(pid, name, seen, bool(t)) for pid, name, seen, t in conn.execute(query)]


def load_player(engine: Engine, player_id: str, gamemode: str) -> PlayerView | None:
    p, s, st_, r = schema.players.c, schema.snapshots.c, schema.stats.c, schema.ranks.c
    with engine.connect() as conn:
        profile = conn.execute(select(schema.players).where(p.player_id == player_id)).mappings().first()
        if profile is None:
            return None
        modes = conn.execute(
            select(st_.gamemode, func.max(s.id))
            .join(schema.stats, st_.snapshot_id == s.id)
            .where(s.player_id == player_id, s.changed.is_(True), st_.scope == SCOPE_OVERALL)
            .group_by(st_.gamemode)
        ).all()
        newest = dict(modes)
        latest = conn.execute(
            select(s.id, s.fetched_at, s.last_updated_at)
            .where(s.player_id == player_id, s.changed.is_(True))
            .order_by(s.id.desc())
            .limit(1)
        ).first()
        ranks = pd.DataFrame(
            conn.execute(
                select(r.platform, r.role, r.season, r.division, r.tier, r.rank_icon)
                .where(r.snapshot_id == (latest.id if latest else -1))
                .order_by(r.platform, r.role)
            )
            .mappings()
            .all(),
            columns=["platform", "role", "season", "division", "tier", "rank_icon"],
        )
        rows = pd.DataFrame()
        if gamemode in newest:
            current = current_stats([player_id], gamemode).subquery()
            rows = pd.DataFrame(
                conn.execute(select(current.c.scope, current.c.key, *(current.c[c] for c in _SHOWN))).mappings().all()
            )
    overall = None
    roles = heroes = pd.DataFrame(columns=["key", *_STAT_COLUMNS, *_AVG_COLUMNS])
    if not rows.empty:
        rows["hours"] = rows["time_played"] / HOUR
        found = rows[rows["scope"] == SCOPE_OVERALL]
        overall = found.iloc[0].to_dict() if not found.empty else None
        roles = rows[rows["scope"] == SCOPE_ROLE].drop(columns="scope").reset_index(drop=True)
        heroes = rows[rows["scope"] == SCOPE_HERO].drop(columns="scope")
        heroes = heroes.sort_values(["time_played", "key"], ascending=[False, True]).reset_index(drop=True)
    return PlayerView(
        profile=dict(profile),
        last_updated_at=latest.last_updated_at if latest else None,
        stats_fetched_at=latest.fetched_at if latest else None,
        ranks=ranks,
        gamemodes=sorted(newest),
        overall=overall,
        roles=roles,
        heroes=heroes,
    )


def rank_score(division: str | None, tier: int | None) -> float | None:
    """Bronze 5 = 1 ... Champion (OverFast: ultimate) 1 = 40: one number per rank for a line chart."""
    if division is None or division.lower() not in DIVISIONS:
        return None
    return DIVISIONS.index(division.lower()) * 5 + (6 - (tier or 5))


def load_history(engine: Engine, player_id: str, gamemode: str, max_sessions: int = 200) -> HistoryView:
    s, st_, r, se = schema.snapshots.c, schema.stats.c, schema.ranks.c, schema.sessions.c
    rc, sp = schema.rank_changes.c, schema.session_parts.c
    with engine.connect() as conn:
        timeline = pd.DataFrame(
            conn.execute(
                select(s.fetched_at, s.last_updated_at, *(st_[c] for c in _STAT_COLUMNS))
                .join(schema.stats, and_(st_.snapshot_id == s.id, st_.gamemode == gamemode, st_.scope == SCOPE_OVERALL))
                .where(s.player_id == player_id, s.changed.is_(True))
                .order_by(s.id)
            )
            .mappings()
            .all(),
            columns=["fetched_at", "last_updated_at", *_STAT_COLUMNS],
        )
        ranks = pd.DataFrame(
            conn.execute(
                select(s.fetched_at, s.last_updated_at, r.platform, r.role, r.division, r.tier)
                .join(schema.ranks, r.snapshot_id == s.id)
                .where(s.player_id == player_id, s.changed.is_(True))
                .order_by(s.id)
            )
            .mappings()
            .all(),
            columns=["fetched_at", "last_updated_at", "platform", "role", "division", "tier"],
        )
        cols: list[Any] = [se.to_snapshot_id, se.started_at, se.ended_at, se.fetched_at]
        cols += [*(se[c] for c in _SESSION_COLUMNS), se.heroes, se.is_reset]
        sessions = pd.DataFrame(
            conn.execute(
                select(*cols)
                .where(se.player_id == player_id, se.gamemode == gamemode)
                .order_by(se.fetched_at.desc())
                .limit(max_sessions)
            )
            .mappings()
            .all(),
            columns=[c.name for c in cols],
        )
        changes = conn.execute(
            select(rc.snapshot_id, rc.platform, rc.role, rc.from_division, rc.from_tier, rc.to_division, rc.to_tier)
            .where(rc.player_id == player_id)
            .order_by(rc.snapshot_id, rc.platform, rc.role)
        ).all()
        ids = [int(i) for i in sessions["to_snapshot_id"][:50]] if not sessions.empty else []
        session_heroes = pd.DataFrame(
            conn.execute(
                select(sp.to_snapshot_id, sp.key.label("hero"), *(sp[c] for c in _SESSION_COLUMNS))
                .where(sp.to_snapshot_id.in_(ids), sp.gamemode == gamemode, sp.scope == SCOPE_HERO)
                .order_by(sp.to_snapshot_id, sp.time_played.desc())
            )
            .mappings()
            .all(),
            columns=["to_snapshot_id", "hero", *_SESSION_COLUMNS],
        )
    if not ranks.empty:
        ranks["score"] = [rank_score(d, t) for d, t in zip(ranks["division"], ranks["tier"], strict=True)]
    text = _rank_change_text(changes)
    sessions["rank_change"] = [text.get(int(i), "") for i in sessions["to_snapshot_id"]]
    return HistoryView(timeline, ranks, sessions, session_heroes)


def _rank(division: str | None, tier: int | None) -> str:
    return f"{division.title()} {tier}" if division else "unranked"


def _rank_change_text(changes: Sequence[Any]) -> dict[int, str]:
    text: dict[int, list[str]] = {}
    for snapshot_id, platform, role, from_div, from_tier, to_div, to_tier in changes:
        change = f"{role} ({platform}): {_rank(from_div, from_tier)} → {_rank(to_div, to_tier)}"
        text.setdefault(snapshot_id, []).append(change)
    return {k: "; ".join(v) for k, v in text.items()}


def load_squad(engine: Engine, player_ids: Sequence[str], gamemode: str, window_hours: float | None) -> SquadView:
    """Latest stats of each player, their hero pools, and their sessions in the ``window_hours`` before the
    squad's newest session (None: every session)."""
    se, p = schema.sessions.c, schema.players.c
    empty = SquadView(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), None)
    if not player_ids:
        return empty
    current = current_stats(player_ids, gamemode).subquery()
    with engine.connect() as conn:
        rows = pd.DataFrame(
            conn.execute(
                select(current.c.player_id, p.name, current.c.scope, current.c.key, *(current.c[c] for c in _SHOWN))
                .join(schema.players, p.player_id == current.c.player_id)
                .where(current.c.scope.in_([SCOPE_OVERALL, SCOPE_HERO]))
            )
            .mappings()
            .all()
        )
        window_end = conn.execute(
            select(func.max(se.fetched_at)).where(se.player_id.in_(list(player_ids)), se.gamemode == gamemode)
        ).scalar()
        sessions = pd.DataFrame()
        if window_end is not None:
            query = select(se.player_id, se.fetched_at, se.started_at, se.ended_at, *(se[c] for c in _SESSION_COLUMNS))
            query = query.add_columns(se.heroes, se.is_reset).where(
                se.player_id.in_(list(player_ids)), se.gamemode == gamemode
            )
            if window_hours is not None:
                query = query.where(se.fetched_at >= window_end - window_hours * HOUR)
            sessions = pd.DataFrame(conn.execute(query.order_by(se.fetched_at.desc()).limit(500)).mappings().all())
    if rows.empty:
        return SquadView(rows, rows, sessions, window_end)
    rows["hours"] = rows["time_played"] / HOUR
    overall = rows[rows["scope"] == SCOPE_OVERALL].drop(columns=["scope", "key"]).reset_index(drop=True)
    heroes = rows[rows["scope"] == SCOPE_HERO].rename(columns={"key": "hero"})
    heroes = heroes[["player_id", "name", "hero", "hours", "games_played", "winrate"]].reset_index(drop=True)
    return SquadView(overall, heroes, sessions, window_end)


def load_activity(engine: Engine, now: float, minutes: int = 60) -> StoreActivity:
    """Fetch results stored per minute over the last ``minutes`` (from the raw results' fetch times)."""
    rr, fo = schema.raw_results.c, schema.fetch_outcomes.c
    since = now - minutes * 60
    with engine.connect() as conn:
        times = conn.execute(select(rr.fetched_at).where(rr.fetched_at >= since)).scalars().all()
        total, last = conn.execute(select(func.count(), func.max(rr.fetched_at))).one()
        outcomes: dict[Any, Any] = dict(
            conn.execute(select(fo.outcome, func.count()).where(fo.at >= since).group_by(fo.outcome)).all()
        )
    minutes_of = pd.Series([int(t // 60) * 60 for t in times], dtype="int64")
    frame = minutes_of.value_counts().sort_index().rename_axis("minute").reset_index(name="results")
    return StoreActivity(frame, int(total or 0), last, {str(k): int(v) for k, v in outcomes.items()})


def load_watchlist(engine: Engine) -> list[WatchRow]:
    w, r, p = schema.watchlist.c, schema.raw_results.c, schema.players.c
    last = select(func.max(r.fetched_at)).where(r.player_id == w.player_id).scalar_subquery()
    query = (
        select(w.player_id, p.name, w.added_at, last, p.last_outcome)
        .outerjoin(schema.players, p.player_id == w.player_id)
        .order_by(w.added_at, w.player_id)
    )
    with engine.connect() as conn:
        return [WatchRow(*row) for row in conn.execute(query).all()]


# --- Streamlit-cached wrappers -------------------------------------------------------------------------


def settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner=False)
def open_store(url: str) -> Store:
    return Store.open(url)


def store() -> Store:
    return open_store(settings().resolved_store_url)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def players() -> list[PlayerChoice]:
    return load_players(store().engine)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def player(player_id: str, gamemode: str) -> PlayerView | None:
    return load_player(store().engine, player_id, gamemode)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def history(player_id: str, gamemode: str) -> HistoryView:
    return load_history(store().engine, player_id, gamemode)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def squad(player_ids: tuple[str, ...], gamemode: str, window_hours: float | None) -> SquadView:
    return load_squad(store().engine, player_ids, gamemode, window_hours)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def activity(now_minute: int) -> StoreActivity:
    return load_activity(store().engine, float(now_minute * 60))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def watchlist() -> list[WatchRow]:
    return load_watchlist(store().engine)


def history_download(player_id: str) -> pd.DataFrame:
    return store().history_frame(player_id)


def clear_caches() -> None:
    """After a write (a stored fetch, a watchlist change): the next run reads fresh data."""
    st.cache_data.clear()


def now() -> float:
    return time.time()
