"""Formatting and small layout helpers shared by the pages (times, units, safe text, player picker)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from urllib.parse import quote

import pandas as pd
import streamlit as st

from owstream.dashboard import data
from owstream.domain.outcomes import duration, hours, utc
from owstream.domain.seasons import SEASON_CHOICES, chosen_season, season_label
from owstream.domain.vocabulary import GAMEMODE_NAMES

GAMEMODES = GAMEMODE_NAMES
__all__ = [
    "GAMEMODES",
    "ago",
    "duration",
    "gamemode_switch",
    "hours",
    "pick_player",
    "plain",
    "season_switch",
    "when",
]
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def plain(text: object) -> str:
    """User or upstream text made inert for Streamlit's markdown (no links, no formatting; HTML is never
    rendered anyway since no page allows unsafe HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def when(epoch: float | None) -> str:
    """``2023-03-11 12:16 UTC``, or ``never``."""
    if epoch is None or pd.isna(epoch):
        return "never"
    return utc(float(epoch))


def ago(epoch: float | None, now: float | None = None) -> str:
    """``2023-03-11 12:16 UTC (3 days ago)``."""
    if epoch is None or pd.isna(epoch):
        return "never"
    delta = (now or time.time()) - float(epoch)
    return f"{when(epoch)} ({duration(delta)} ago)" if delta >= 0 else f"{when(epoch)} (in {duration(delta)})"


def to_datetime(epochs: pd.Series) -> pd.Series:
    return pd.to_datetime(epochs, unit="s", utc=True)


def gamemode_switch(available: Sequence[str], key: str) -> str:
    """Quickplay or competitive, never both: the choice is shown in every heading below it."""
    options = [m for m in GAMEMODES if m in available] or list(GAMEMODES)
    choice = st.radio("Gamemode", options, format_func=GAMEMODES.__getitem__, horizontal=True, key=key)
    return str(choice)


def season_choice_label(choice: str, seasons: Sequence[int]) -> str:
    """``This season (Season 22)``, ``Last season (Season 21)``, ``Last season (none stored)``, ``Lifetime``."""
    if choice == "lifetime":
        return "Lifetime"
    number = chosen_season(choice, seasons)
    shown = season_label(number) if number is not None else "none stored"
    return f"{'This' if choice == 'current' else 'Last'} season ({shown})"


def season_switch(seasons: Sequence[int], key: str) -> str:
    """This season, last season or lifetime (OverFast's totals, the default): ``current``, ``last`` or
    ``lifetime``. ``seasons``: those stored for the players shown."""
    choice = st.radio(
        "Season",
        SEASON_CHOICES,
        index=SEASON_CHOICES.index("lifetime"),
        format_func=lambda c: season_choice_label(c, seasons),
        horizontal=True,
        key=key,
        help="A season's numbers are its newest snapshot minus the last snapshot before it began",
    )
    return str(choice)


def player_label(choice: data.PlayerChoice) -> str:
    return f"{choice.player_id}{' ★' if choice.tracked else ''}"


def pick_player(key: str, label: str = "Player") -> str | None:
    """A select box of the players in the store; the URL's ``?player=`` chooses the first selection."""
    choices = data.players()
    if not choices:
        st.info("No player in the store yet: fetch one on the Player page.")
        return None
    ids = [c.player_id for c in choices]
    wanted = st.query_params.get("player")
    index = ids.index(wanted) if wanted in ids else 0
    labels = {c.player_id: player_label(c) for c in choices}
    picked = st.selectbox(label, ids, index=index, format_func=labels.__getitem__, key=key)
    if picked and picked != wanted:
        st.query_params["player"] = picked
    return str(picked) if picked else None


def player_link(player_id: str) -> str:
    """A markdown link to the Player page of ``player_id`` (the id is a validated BattleTag id)."""
    return f"[{plain(player_id)}](player?player={quote(player_id)})"
