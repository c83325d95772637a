"""What every page shows the same way: safe text, times, the gamemode/season/platform choices (bound to the
URL), headline numbers that wrap on a phone, tables with human column names, and the player picker."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from owstream.dashboard import data, state
from owstream.domain.format import MISSING, duration, utc
from owstream.domain.seasons import season_label
from owstream.domain.vocabulary import (
    BOTH,
    BOTH_NOTE,
    GAMEMODE_NAMES,
    GAMEMODES,
    STATS_PLATFORMS,
    platform_label,
    platform_name,
)

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")
METRIC_WIDTH = 140  # two per row on a 390 px phone, six on a laptop


# Our own stylesheet (no user text in it): on a phone, a table keeps each cell on one line and scrolls
# sideways inside its own box rather than squeezing a number onto three lines or widening the page.
STYLE = """<style>
[data-testid="stTable"] { overflow-x: auto; max-width: 100%; }
@media (max-width: 640px) {
  [data-testid="stTable"] th, [data-testid="stTable"] td { white-space: nowrap; }
}
</style>"""


def style() -> None:
    st.html(STYLE)


def plain(text: object) -> str:
    """User or upstream text made inert for Streamlit's markdown (no links, no formatting; HTML is never
    rendered anyway since no page allows unsafe HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def when(epoch: float | None) -> str:
    """``2023-03-11 12:16 UTC``, or ``never``."""
    return utc(epoch)


def ago(epoch: float | None, now: float | None = None) -> str:
    """``2023-03-11 12:16 UTC (3 days ago)``."""
    if epoch is None:
        return "never"
    delta = (now or time.time()) - float(epoch)
    return f"{when(epoch)} ({duration(delta)} ago)" if delta >= 0 else f"{when(epoch)} (in {duration(delta)})"


def short(epoch: float | None, now: float | None = None) -> str:
    """``7 Dec 00:58 UTC`` (the year too when it is not this one): a session's time in a table."""
    if epoch is None:
        return "never"
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(float(epoch), tz=UTC)
    this_year = datetime.fromtimestamp(now or time.time(), tz=UTC).year
    return moment.strftime("%-d %b %H:%M UTC" if moment.year == this_year else "%-d %b %Y %H:%M UTC")


def since(epoch: float | None, now: float | None = None) -> str:
    """``3 days ago``, ``just now``."""
    if epoch is None:
        return "never"
    delta = (now or time.time()) - float(epoch)
    return "just now" if delta < 30 else f"{duration(delta)} ago"


# --- the choices every page offers --------------------------------------------------------------------------


def gamemode(key: str = "mode") -> str:
    """Quickplay or competitive, never both (every heading below says which)."""
    return state.choice(
        st.segmented_control, "Gamemode", list(GAMEMODES), key=key, default="quickplay",
        format_func=GAMEMODE_NAMES.__getitem__,
    )  # fmt: skip


@dataclass(frozen=True)
class Season:
    choice: str  # current, last, lifetime, or a season number
    number: int | None  # the season (None: lifetime)
    current: int | None  # the app's current season

    @property
    def query(self) -> str:
        """What the store's views take: ``lifetime`` or the season's number."""
        return "lifetime" if self.number is None else str(self.number)

    @property
    def label(self) -> str:
        return season_label(self.number) if self.number is not None else "Lifetime"


def season(key: str = "season") -> Season:
    """This season, last season (named with their numbers: the newest season any stored snapshot reports, on
    any platform, the same on every page: seasons are the game's, not a platform's) or lifetime (OverFast's
    totals, the default); a number from the URL too."""
    current = data.current_season()
    options = ["lifetime"]
    if current is not None:
        options = ["current", "last", "lifetime"] if current > 1 else ["current", "lifetime"]
    asked = state.param(key)
    if asked and asked.isdigit() and current is not None and 0 < int(asked) <= current:
        options.append(asked)

    def label(choice: str) -> str:
        if choice == "current":
            return f"This season ({season_label(current)})"
        if choice == "last":
            return f"Last season ({season_label((current or 1) - 1)})"
        return "Lifetime" if choice == "lifetime" else season_label(int(choice))

    choice = state.choice(
        st.segmented_control, "Season", options, key=key, default="lifetime", format_func=label, wrap=True,
        help="A season's numbers are its newest snapshot minus the last snapshot before it began; "
        "lifetime is OverFast's totals.",
    )  # fmt: skip
    number = {"current": current, "last": (current or 1) - 1, "lifetime": None}.get(choice)
    if choice.isdigit():
        number = int(choice)
    return Season(choice, number, current)


def no_season(season: Season, platform: str | None, seasons: Sequence[int]) -> None:
    """A player with no snapshot in the season chosen, and the seasons it has (on ``platform``)."""
    on = f" on {platform_label(platform)}" if platform else ""
    stored = ", ".join(str(n) for n in seasons) or "none"
    st.info(f"No snapshot of this player in {plain(season.label)}{on} (seasons stored{on}: {stored}).")


def platform(options: Sequence[str], key: str = "platform") -> str | None:
    """The platform the numbers are of, among ``options`` (a player's platforms, the one played most first: the
    default); None when there is none (no stats stored). A platform asked for in the URL that the player does
    not have is said so."""
    if not options:
        return None
    asked = state.param(key)
    chosen = state.choice(
        st.segmented_control, "Platform", list(options), key=key, default=options[0], format_func=platform_label,
        disabled=len(options) == 1, help="Stats are fetched and kept per platform; the default is the one played most. "
        f"{platform_name(BOTH)}: OverFast's total of both, as stored {BOTH_NOTE}.",
    )  # fmt: skip
    if asked in STATS_PLATFORMS and asked not in options:
        st.caption(f"No {platform_name(asked)} stats stored for this player: {platform_label(chosen)} shown.")
    return chosen


def player_query(player_id: str, platform: str | None) -> dict[str, str]:
    """The query of a link to a player's page on ``platform`` (left out when it is the player's default)."""
    default = next(iter(data.platforms(player_id)), None)
    return {"player": player_id, **({"platform": platform} if platform and platform != default else {})}


def controls(platforms: Sequence[str], *, season_key: str | None = "season") -> tuple[str | None, str, Season | None]:
    """Platform (among ``platforms``), gamemode and season side by side (stacked on a phone)."""
    with st.container(horizontal=True, gap="medium"):
        where = platform(platforms)
        mode = gamemode()
        chosen = season(season_key) if season_key else None
    return where, mode, chosen


# --- numbers ------------------------------------------------------------------------------------------------


def metrics(values: Sequence[tuple[str, str]], *, help: Mapping[str, str] | None = None) -> None:
    """Headline numbers in a row that wraps (six on a laptop, two on a phone)."""
    with st.container(horizontal=True, gap="small"):
        for label, value in values:
            st.metric(label, value or MISSING, width=METRIC_WIDTH, help=(help or {}).get(label))


def table(rows: Sequence[Mapping[str, Any]], *, index: str | None = None) -> None:
    """A static table (every cell in the page's text, so phones scroll it sideways inside its own box)."""
    if not rows:
        return
    import pandas as pd

    frame = pd.DataFrame(list(rows))
    if index is not None:
        frame = frame.set_index(index)
    st.table(frame, hide_index=index is None)


# --- players ------------------------------------------------------------------------------------------------


def player_label(choice: data.PlayerChoice) -> str:
    name = (
        f"{choice.name} ({choice.player_id})"
        if choice.name and not choice.player_id.startswith(choice.name)
        else choice.player_id
    )
    return f"{name}{' ★' if choice.tracked else ''}"


def not_found(text: str) -> None:
    """One notice for a player that is not in the store."""
    resolved = data.resolve(text)
    if resolved.player_id is None:
        st.error(f"Not a player: {plain(resolved.problem)}")
    else:
        st.info(
            f"{plain(resolved.player_id)} is not in the store yet: fetch it on the Player page "
            "(the request travels through Kafka to OverFast)."
        )
