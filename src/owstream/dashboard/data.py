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
from owstream.domain.vocabulary import SCOPE_HERO, SCOPE_OVERALL, SCOPE_ROLE, rank_score
from owstream.store import Store, views
from owstream.store.views import AVG_COLUMNS, SESSION_COLUMNS, STAT_COLUMNS, PlayerChoice, WatchRow

__all__ = ["PlayerChoice", "WatchRow"]

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
    per_minute: pd.DataFrame  # minute (epoch s), results
    total_results: int
    last_result_at: float | None
    outcomes: dict[str, int] = field(default_factory=dict)


# --- pure loaders ------------------------------------------------------------------------------------


def load_players(store: Store) -> list[PlayerChoice]:
    return views.players(store.engine)


_BLOCK_COLUMNS = ["key", *STAT_COLUMNS, *AVG_COLUMNS]


def load_player(store: Store, player_id: str, gamemode: str) -> PlayerView | None:
    found = views.player(store.engine, store.aliases.history_of(player_id), gamemode)  # a new name: its history
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
    )


def load_history(store: Store, player_id: str, gamemode: str, max_sessions: int = 200) -> HistoryView:
    found = views.history(store.engine, player_id, gamemode, max_sessions)
    timeline = pd.DataFrame(found.timeline, columns=["fetched_at", "last_updated_at", *STAT_COLUMNS])
    ranks = pd.DataFrame(found.ranks, columns=["fetched_at", "last_updated_at", "platform", "role", "division", "tier"])
    if not ranks.empty:
        ranks["score"] = [rank_score(d, t) for d, t in zip(ranks["division"], ranks["tier"], strict=True)]
    session_columns = ["to_snapshot_id", "started_at", "ended_at", "fetched_at", *SESSION_COLUMNS]
    sessions = pd.DataFrame(found.sessions, columns=[*session_columns, "heroes", "is_reset", "rank_change"])
    heroes = pd.DataFrame(found.session_heroes, columns=["to_snapshot_id", "hero", *SESSION_COLUMNS])
    return HistoryView(timeline, ranks, sessions, heroes)


def load_squad(store: Store, player_ids: Sequence[str], gamemode: str, window_hours: float | None) -> SquadView:
    """Latest stats of each player, their hero pools, and their sessions in the ``window_hours`` before the
    squad's newest session (None: every session)."""
    found = views.squad(store.engine, player_ids, gamemode, window_hours)
    rows, sessions = pd.DataFrame(found.stats), pd.DataFrame(found.sessions)
    if rows.empty:
        return SquadView(rows, rows, sessions, found.window_end)
    rows["hours"] = rows["time_played"] / HOUR
    overall = rows[rows["scope"] == SCOPE_OVERALL].drop(columns=["scope", "key"]).reset_index(drop=True)
    heroes = rows[rows["scope"] == SCOPE_HERO].rename(columns={"key": "hero"})
    heroes = heroes[["player_id", "name", "hero", "hours", "games_played", "winrate"]].reset_index(drop=True)
    return SquadView(overall, heroes, sessions, found.window_end)


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
    return load_players(store())


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def player(player_id: str, gamemode: str) -> PlayerView | None:
    return load_player(store(), player_id, gamemode)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def history(player_id: str, gamemode: str) -> HistoryView:
    return load_history(store(), player_id, gamemode)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def squad(player_ids: tuple[str, ...], gamemode: str, window_hours: float | None) -> SquadView:
    return load_squad(store(), player_ids, gamemode, window_hours)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def activity(now_minute: int) -> StoreActivity:
    return load_activity(store(), float(now_minute * 60))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def watchlist() -> list[WatchRow]:
    return load_watchlist(store())


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
