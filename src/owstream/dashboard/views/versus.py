"""The Player page's "You vs the meta": per hero, the player's winrate next to that hero's winrate and pick
rate among all competitive players of the player's division in the hero's role (OverFast's /heroes/stats,
as the meta service stored it)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from owstream.dashboard import data
from owstream.dashboard.layout import plain, when
from owstream.domain.vocabulary import PLATFORMS, REGION_NAMES, REGIONS

TOP_HEROES = 15
PLATFORM_NAMES = {"pc": "PC", "console": "Console"}
COLUMNS = {  # the columns the hero table gets
    "meta_winrate": "Hero winrate at your rank (%)",
    "meta_pickrate": "Hero pick rate at your rank (%)",
    "meta_division": "Meta division",
}


def overfast_number(value: object) -> str:
    """A percentage as OverFast gave it (47.8 stays 47.8); ``-`` when there is none."""
    return "-" if value is None or pd.isna(value) else str(value)


def render(view: data.PlayerView) -> pd.DataFrame | None:
    """The section (competitive only); returns the meta columns per hero for the hero table (None: no meta)."""
    st.subheader("You vs the meta", anchor=False)
    default = data.settings().meta_region
    left, right = st.columns(2)
    region = left.radio(
        "Meta region",
        REGIONS,
        index=REGIONS.index(default) if default in REGIONS else REGIONS.index("europe"),
        format_func=REGION_NAMES.__getitem__,
        horizontal=True,
        key="player_meta_region",
    )
    platform = right.radio(
        "Meta platform",
        PLATFORMS,
        index=PLATFORMS.index(data.player_platform(view.ranks)),
        format_func=PLATFORM_NAMES.__getitem__,
        horizontal=True,
        key="player_meta_platform",
    )
    meta = data.player_meta(str(platform), str(region))
    where = f"{PLATFORM_NAMES[str(platform)]}, {REGION_NAMES[str(region)]}"
    if meta.by_division.empty:
        st.info(
            f"No hero stats of OverFast stored yet for competitive, {where}: the meta service fetches them every "
            "hour (`owstream run meta`, or `owstream up`)."
        )
        return None
    versus = data.versus_meta(view.heroes, view.ranks, meta, str(platform))
    h = view.heroes.merge(versus, on="key", how="left").head(TOP_HEROES)
    table = pd.DataFrame(
        {
            "Hero": h["key"],
            "Your games": h["games_played"].map("{:,}".format),
            "Your winrate (%)": h["winrate"].map("{:.2f}".format),
            "Hero winrate (%)": h["meta_winrate"].map(overfast_number),
            "Hero pick rate (%)": h["meta_pickrate"].map(overfast_number),
            "Division of the meta": h["meta_division"],
        }
    )
    st.table(table.set_index("Hero"))
    fetched = versus["meta_fetched_at"].dropna()
    newest = when(fetched.max()) if not fetched.empty else "never"
    st.caption(
        f"Hero winrate and pick rate: OverFast's hero stats of all competitive players on {plain(where)} in the "
        f"division of your rank in the hero's role (fetched {newest}). Champion counts as Grandmaster; a role you "
        "are not ranked in reads all divisions."
        + (f" The {TOP_HEROES} heroes you played most; all in the hero table." if len(view.heroes) > TOP_HEROES else "")
    )
    return versus
