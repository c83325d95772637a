"""The dashboard's reads: the store's read model (:class:`owstream.store.Store`, the only entry), cached.

The store is opened once per process (``st.cache_resource``); each read is kept until the store changes
(:mod:`owstream.dashboard.freshness`, checked at the start of every page run; a minute at most), so a page
re-run on every widget change, or opened again, does not query the database again; and cleared after a write.
What comes back are the store's own records (:mod:`owstream.store.views`); the pages shape them for tables and
charts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import streamlit as st

from owstream.config import Settings, get_settings
from owstream.domain.heroes import Hero
from owstream.domain.refresh import policy_of
from owstream.store import Store
from owstream.store.lookups import Member, Resolved
from owstream.store.views import (
    ActivityRows,
    AlertRows,
    HistoryRows,
    MetaRows,
    PlayerChoice,
    PlayerRows,
    SquadRows,
    WatchRow,
)

__all__ = [
    "ActivityRows", "AlertRows", "HistoryRows", "Member", "MetaRows", "PlayerChoice", "PlayerRows", "Resolved",
    "SquadRows", "WatchRow",
]  # fmt: skip

TTL_SECONDS = 60.0  # at most: every page run drops them when the store changed (freshness.py)
HOUR = 3600.0


def settings() -> Settings:
    return get_settings().for_service("dashboard")  # its own Kafka principal, when it has one


@st.cache_resource(show_spinner=False)
def open_store(url: str) -> Store:
    return Store.open(url)


def store() -> Store:
    return open_store(settings().resolved_store_url)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def resolve(text: str) -> Resolved:
    return store().resolve(text)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def members(player_ids: tuple[str, ...]) -> list[Member]:
    return store().members(player_ids)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def players() -> list[PlayerChoice]:
    return store().players()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def platforms(player_id: str) -> list[str]:
    """The player's platforms with stats, its default (the one played most) first, ``both`` last."""
    return store().platforms(player_id)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def player(player_id: str, gamemode: str, season: str, platform: str | None) -> PlayerRows | None:
    return store().player_view(player_id, gamemode, season, platform)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def history(player_id: str, gamemode: str, season: str, platform: str | None) -> HistoryRows:
    return store().history_view(player_id, gamemode, season, platform)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def squad(
    player_ids: tuple[str, ...], gamemode: str, window_hours: float | None, season: str, platform: str | None
) -> SquadRows:
    """``platform`` None: each player on their own default platform."""
    return store().squad_view(player_ids, gamemode, window_hours, season, platform)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def activity(now_minute: int) -> ActivityRows:
    return store().activity_view(float(now_minute * 60))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def watchlist() -> list[WatchRow]:
    """The tracked players, each with when the scheduler refreshes it next and why (its settings' rule)."""
    return store().watch_view(policy_of(settings()))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def meta(gamemode: str, platform: str, region: str, division: str | None, window_hours: float | None) -> MetaRows:
    since = None if window_hours is None else now() - window_hours * HOUR
    return store().meta_view(gamemode, platform, region, division=division, since=since)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def meta_by_division(platform: str, region: str) -> list[dict[str, Any]]:
    return store().meta_by_division(platform, region)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def hero_roles() -> dict[str, str]:
    return store().hero_roles()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def heroes() -> dict[str, Hero]:
    return store().heroes()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def current_season() -> int | None:
    return store().current_season()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def alerts() -> AlertRows:
    """The notifier's deliveries: counts by status, the pending and given-up ones."""
    return store().alert_view()


def snapshot_rows(player_id: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    return store().snapshot_rows(player_id)


def clear_caches() -> None:
    """After a write (a stored fetch, a watchlist change): the next run reads fresh data."""
    st.cache_data.clear()


def now() -> float:
    return time.time()


def ids(choices: Sequence[PlayerChoice]) -> list[str]:
    return [c.player_id for c in choices]
