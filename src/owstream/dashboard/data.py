"""The dashboard's data: the store's page queries (:mod:`owstream.store.views`) as pandas frames, and their
Streamlit-cached wrappers.

The ``load_*`` functions take a Store and return dataclasses of frames; they know nothing of Streamlit, so
the benchmark calls them directly. The cached wrappers at the bottom open the store once per process
(``st.cache_resource``) and keep each page's data for a few seconds (``st.cache_data``), so a page re-run
on every widget change does not hit the database again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from owstream.config import Settings, get_settings
from owstream.domain.meta import ALL, division_label, meta_division
from owstream.domain.vocabulary import SCOPE_HERO, SCOPE_OVERALL, SCOPE_ROLE, rank_score
from owstream.store import Store, views
from owstream.store.seasons import SeasonInfo
from owstream.store.views import AVG_COLUMNS, SESSION_COLUMNS, STAT_COLUMNS, PlayerChoice, WatchRow

__all__ = ["PlayerChoice", "SeasonInfo", "WatchRow"]

TTL_SECONDS = 5.0
HOUR = 3600.0


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
    seasons: list[int] = field(default_factory=list)  # the player's seasons, for the season switch
    season: SeasonInfo | None = None  # the season the numbers are of (None: lifetime, or not stored)


@dataclass(frozen=True)
class HistoryView:
    timeline: pd.DataFrame  # one row per changed snapshot: fetched_at, games, winrate, kda, hours
    ranks: pd.DataFrame  # fetched_at, platform, role, division, tier, score
    sessions: pd.DataFrame  # newest first
    session_heroes: pd.DataFrame  # to_snapshot_id, hero, games, wins, losses, time_played, ...
    seasons: list[int] = field(default_factory=list)
    season: SeasonInfo | None = None  # the season the rows are limited to (None: lifetime)
    session_count: int = 0  # every session of the gamemode (in the season), not only those listed
    session_games: int = 0


@dataclass(frozen=True)
class SquadView:
    overall: pd.DataFrame  # one row per player
    heroes: pd.DataFrame  # player_id, hero, hours, games_played, winrate
    sessions: pd.DataFrame  # sessions of the window, newest first
    window_end: float | None
    seasons: list[int] = field(default_factory=list)  # every season of the players
    season: int | None = None  # the season shown (None: lifetime)
    since: dict[str, SeasonInfo] = field(default_factory=dict)  # player -> how their season is counted
    missing: list[str] = field(default_factory=list)  # players with no snapshot in that season


@dataclass(frozen=True)
class StoreActivity:
    per_minute: pd.DataFrame  # minute (epoch s), results
    total_results: int
    last_result_at: float | None
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MetaView:
    """The Meta page's frames of one combination."""

    trend: pd.DataFrame  # fetched_at, hero, pickrate, winrate (percent), oldest first
    latest: pd.DataFrame  # hero, pickrate, winrate, pickrate_change, winrate_change: newest answer, most picked first
    answers: int  # answers in the window
    last_fetched_at: float | None


@dataclass(frozen=True)
class PlayerMeta:
    """The newest competitive hero stats of each division of one platform and region, and the heroes' roles."""

    by_division: pd.DataFrame  # division ("all" or a key), fetched_at, hero, pickrate, winrate
    roles: dict[str, str]


# --- pure loaders ------------------------------------------------------------------------------------


def load_players(store: Store) -> list[PlayerChoice]:
    return views.players(store.engine)


_BLOCK_COLUMNS = ["key", *STAT_COLUMNS, *AVG_COLUMNS]


def load_player(store: Store, player_id: str, gamemode: str, season: str = "lifetime") -> PlayerView | None:
    """``season``: ``lifetime``, ``current`` or ``last`` (see :func:`owstream.store.views.player`); a player
    known under a new name is shown with its history."""
    found = views.player(store.engine, store.aliases.history_of(player_id), gamemode, season)
    if found is None:
        return None
    ranks = pd.DataFrame(found.ranks, columns=["platform", "role", "season", "division", "tier", "rank_icon"])
    rows = pd.DataFrame(found.stats)
    overall = None
    roles = heroes = pd.DataFrame(columns=_BLOCK_COLUMNS)
    if not rows.empty:
        rows["hours"] = rows["time_played"] / HOUR
        first = rows[rows["scope"] == SCOPE_OVERALL]
        overall = first.iloc[0].to_dict() if not first.empty else None
        roles = rows[rows["scope"] == SCOPE_ROLE].drop(columns="scope").reset_index(drop=True)
        heroes = rows[rows["scope"] == SCOPE_HERO].drop(columns="scope")
        heroes = heroes.sort_values(["time_played", "key"], ascending=[False, True]).reset_index(drop=True)
    return PlayerView(
        profile=found.profile,
        last_updated_at=found.last_updated_at,
        stats_fetched_at=found.stats_fetched_at,
        ranks=ranks,
        gamemodes=found.gamemodes,
        overall=overall,
        roles=roles,
        heroes=heroes,
        seasons=found.seasons,
        season=found.season,
    )


def load_history(
    store: Store, player_id: str, gamemode: str, max_sessions: int = 200, season: str = "lifetime"
) -> HistoryView:
    found = views.history(store.engine, player_id, gamemode, max_sessions, season)
    timeline = pd.DataFrame(found.timeline, columns=["fetched_at", "last_updated_at", *STAT_COLUMNS])
    ranks = pd.DataFrame(found.ranks, columns=["fetched_at", "last_updated_at", "platform", "role", "division", "tier"])
    if not ranks.empty:
        ranks["score"] = [rank_score(d, t) for d, t in zip(ranks["division"], ranks["tier"], strict=True)]
    session_columns = ["to_snapshot_id", "started_at", "ended_at", "fetched_at", *SESSION_COLUMNS]
    sessions = pd.DataFrame(found.sessions, columns=[*session_columns, "heroes", "is_reset", "rank_change"])
    heroes = pd.DataFrame(found.session_heroes, columns=["to_snapshot_id", "hero", *SESSION_COLUMNS])
    return HistoryView(
        timeline, ranks, sessions, heroes, found.seasons, found.season, found.session_count, found.session_games
    )


def load_squad(
    store: Store, player_ids: Sequence[str], gamemode: str, window_hours: float | None, season: str = "lifetime"
) -> SquadView:
    """Latest stats of each player (or a season's), their hero pools, and their sessions in the
    ``window_hours`` before the squad's newest session (None: every session)."""
    found = views.squad(store.engine, player_ids, gamemode, window_hours, season)
    rows, sessions = pd.DataFrame(found.stats), pd.DataFrame(found.sessions)
    seasons = (found.seasons, found.season, found.since, found.missing)
    if rows.empty:
        return SquadView(rows, rows, sessions, found.window_end, *seasons)
    rows["hours"] = rows["time_played"] / HOUR
    overall = rows[rows["scope"] == SCOPE_OVERALL].drop(columns=["scope", "key"]).reset_index(drop=True)
    heroes = rows[rows["scope"] == SCOPE_HERO].rename(columns={"key": "hero"})
    heroes = heroes[["player_id", "name", "hero", "hours", "games_played", "winrate"]].reset_index(drop=True)
    return SquadView(overall, heroes, sessions, found.window_end, *seasons)


def load_activity(store: Store, now: float, minutes: int = 60) -> StoreActivity:
    """Fetch results stored per minute over the last ``minutes`` (from the raw results' fetch times)."""
    found = views.activity(store.engine, now, minutes)
    minutes_of = pd.Series([int(t // 60) * 60 for t in found.result_times], dtype="int64")
    frame = minutes_of.value_counts().sort_index().rename_axis("minute").reset_index(name="results")
    return StoreActivity(frame, found.total_results, found.last_result_at, found.outcomes)


def load_watchlist(store: Store) -> list[WatchRow]:
    return views.watchlist(store.engine)


def history_frame(store: Store, player_id: str) -> pd.DataFrame:
    """A player's snapshot history, one row per changed snapshot and gamemode (the CSV/Parquet download)."""
    columns, rows = store.history(store.aliases.history_of(player_id))
    return pd.DataFrame(rows, columns=columns)


_TREND_COLUMNS = ["fetched_at", "hero", "pickrate", "winrate"]


def load_meta(
    store: Store, gamemode: str, platform: str, region: str, *, division: str | None, since: float | None
) -> MetaView:
    """One combination's answers since ``since`` (None: all), and the newest one with the change of each
    hero since the window's first answer (percentage points)."""
    found = views.meta_trend(store.engine, gamemode, platform, region, division=division, since=since)
    trend = pd.DataFrame(found.rows, columns=_TREND_COLUMNS)
    latest = pd.DataFrame(columns=["hero", "pickrate", "winrate", "pickrate_change", "winrate_change"])
    if not trend.empty:
        first = trend[trend["fetched_at"] == trend["fetched_at"].min()].drop_duplicates("hero").set_index("hero")
        newest = trend[trend["fetched_at"] == trend["fetched_at"].max()].drop_duplicates("hero").set_index("hero")
        latest = newest[["pickrate", "winrate"]].assign(
            pickrate_change=(newest["pickrate"] - first["pickrate"]).round(1),
            winrate_change=(newest["winrate"] - first["winrate"]).round(1),
        )
        latest = latest.reset_index().sort_values(["pickrate", "hero"], ascending=[False, True]).reset_index(drop=True)
    return MetaView(trend, latest, found.answers, found.last_fetched_at)


def load_player_meta(store: Store, platform: str, region: str) -> PlayerMeta:
    rows = views.meta_by_division(store.engine, platform, region)
    frame = pd.DataFrame(rows, columns=["division", *_TREND_COLUMNS])
    return PlayerMeta(frame, views.hero_roles(store.engine))


def player_platform(ranks: pd.DataFrame) -> str:
    """The platform a player is ranked on (the one with more ranked roles; PC when even or unranked)."""
    counts = ranks["platform"].value_counts() if not ranks.empty else pd.Series(dtype="int64")
    return "console" if counts.get("console", 0) > counts.get("pc", 0) else "pc"


def versus_meta(heroes: pd.DataFrame, ranks: pd.DataFrame, meta: PlayerMeta, platform: str) -> pd.DataFrame:
    """For each of the player's heroes (``key``): the hero's winrate and pick rate (percent, as OverFast gave
    them) in the division of the player's rank in that hero's role on ``platform``, and which division that is
    (``meta_division``: all divisions, and why, when the role is unranked or that division's answer is missing).
    ``meta_fetched_at``: when that answer was fetched; NaN numbers when no answer is stored at all."""
    own = ranks[ranks["platform"] == platform] if not ranks.empty else ranks
    rank_of = {str(r.role): meta_division(str(r.division)) for r in own.itertuples()}
    answers = {(str(r.division), str(r.hero)): r for r in meta.by_division.itertuples()}
    divisions = set(meta.by_division["division"])
    out = []
    for key in heroes["key"]:
        role = meta.roles.get(key)
        division = rank_of.get(role) if role else None
        row = answers.get((division, key)) if division else None
        label, ranked = division_label(division), row is not None
        if row is None:
            if role is None:
                why = "role unknown"
            elif division is None:
                why = f"unranked as {role}"
            elif division not in divisions:
                why = f"no {label} answer yet"
            else:
                why = f"not in the {label} answer"
            row, label = answers.get((ALL, key)), f"all divisions ({why})"
        out.append(
            {
                "key": key,
                "meta_division": label,
                "meta_winrate": row.winrate if row is not None else float("nan"),
                "meta_pickrate": row.pickrate if row is not None else float("nan"),
                "meta_fetched_at": row.fetched_at if row is not None else float("nan"),
                "meta_ranked": ranked,  # read at the player's division (not the all-divisions fallback)
            }
        )
    columns = ["key", "meta_division", "meta_winrate", "meta_pickrate", "meta_fetched_at", "meta_ranked"]
    return pd.DataFrame(out, columns=columns)


# --- Streamlit-cached wrappers -------------------------------------------------------------------------


def settings() -> Settings:
    return get_settings().for_service("dashboard")  # its own Kafka principal, when it has one


@st.cache_resource(show_spinner=False)
def open_store(url: str) -> Store:
    return Store.open(url)


def store() -> Store:
    return open_store(settings().resolved_store_url)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def players() -> list[PlayerChoice]:
    return load_players(store())


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def player(player_id: str, gamemode: str, season: str = "lifetime") -> PlayerView | None:
    return load_player(store(), player_id, gamemode, season)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def history(player_id: str, gamemode: str, season: str = "lifetime") -> HistoryView:
    return load_history(store(), player_id, gamemode, season=season)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def squad(
    player_ids: tuple[str, ...], gamemode: str, window_hours: float | None, season: str = "lifetime"
) -> SquadView:
    return load_squad(store(), player_ids, gamemode, window_hours, season)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def activity(now_minute: int) -> StoreActivity:
    return load_activity(store(), float(now_minute * 60))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def watchlist() -> list[WatchRow]:
    return load_watchlist(store())


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def meta(gamemode: str, platform: str, region: str, division: str | None, window_hours: float | None) -> MetaView:
    since = None if window_hours is None else now() - window_hours * HOUR
    return load_meta(store(), gamemode, platform, region, division=division, since=since)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def player_meta(platform: str, region: str) -> PlayerMeta:
    return load_player_meta(store(), platform, region)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def alerts() -> views.AlertRows:
    """The notifier's deliveries: counts by status, the pending and given-up ones."""
    return views.alerts(store().engine)


def history_download(player_id: str) -> pd.DataFrame:
    return history_frame(store(), player_id)


def clear_caches() -> None:
    """After a write (a stored fetch, a watchlist change): the next run reads fresh data."""
    st.cache_data.clear()


def now() -> float:
    return time.time()
