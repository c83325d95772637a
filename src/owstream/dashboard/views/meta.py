"""Meta page: how each hero's winrate and pick rate move over time (OverFast's /heroes/stats, kept by the
meta service), per platform, region, division and gamemode."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from owstream.dashboard import charts, data
from owstream.dashboard.layout import GAMEMODES, ago, duration, to_datetime
from owstream.dashboard.views.versus import PLATFORM_NAMES, overfast_number
from owstream.domain.meta import ALL, Combination, division_label
from owstream.domain.vocabulary import META_DIVISIONS, PLATFORMS, REGION_NAMES, REGIONS

WINDOWS: dict[str, float | None] = {
    "Last 24 hours": 24.0,
    "Last 7 days": 168.0,
    "Last 30 days": 720.0,
    "Everything": None,
}
SHOWN = 8  # heroes drawn at first: the most picked


def _change(value: object) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):+.1f}"  # type: ignore[arg-type]


def render() -> None:
    st.title("Meta")
    st.caption(
        "OverFast's hero stats: pick rate and winrate per hero (percent) of all players of a platform, region "
        "and division, fetched every hour by the meta service and kept, so each hero's trend shows."
    )
    cols = st.columns([1.2, 1, 1.4, 1.4, 1.3])
    gamemode = str(
        cols[0].radio("Gamemode", list(GAMEMODES), index=1, format_func=GAMEMODES.__getitem__, key="meta_gamemode")
    )
    platform = str(cols[1].radio("Platform", PLATFORMS, format_func=PLATFORM_NAMES.__getitem__, key="meta_platform"))
    default = data.settings().meta_region
    region = str(
        cols[2].selectbox(
            "Region",
            REGIONS,
            index=REGIONS.index(default) if default in REGIONS else REGIONS.index("europe"),
            format_func=REGION_NAMES.__getitem__,
            key="meta_region",
        )
    )
    competitive = gamemode == "competitive"
    chosen = cols[3].selectbox(
        "Division",
        [ALL, *META_DIVISIONS],
        format_func=division_label,
        key="meta_division",
        disabled=not competitive,
        help="Competitive only; Grandmaster counts Champion players too",
    )
    division = str(chosen) if competitive and chosen != ALL else None
    window = str(cols[4].selectbox("Window", list(WINDOWS), index=1, key="meta_window"))
    combination = Combination(gamemode, platform, region, division)  # type: ignore[arg-type]
    view = data.meta(gamemode, platform, region, division, WINDOWS[window])
    if view.answers == 0:
        newest = f" (the newest is from {ago(view.last_fetched_at)})" if view.last_fetched_at is not None else ""
        st.info(
            f"No hero stats stored for {combination.describe()} in this window{newest}: the meta service fetches "
            "them every hour (`owstream run meta`, or `owstream up`)."
        )
        return
    top = st.columns(3)
    top[0].metric("Answers in the window", f"{view.answers:,}")
    top[1].metric("Heroes", f"{len(view.latest):,}")
    age = data.now() - view.last_fetched_at if view.last_fetched_at is not None else None
    top[2].metric("Newest answer", f"{duration(age)} ago" if age is not None and age >= 0 else "-")
    st.caption(f"{combination.describe()} · newest answer fetched {ago(view.last_fetched_at)}")
    heroes = list(view.latest["hero"])
    picked = st.multiselect("Heroes drawn", heroes, default=heroes[:SHOWN], key=f"meta_heroes_{combination.key}")
    trend = view.trend[view.trend["hero"].isin(picked)]
    trend = trend.assign(when=to_datetime(trend["fetched_at"]))
    if view.answers == 1:
        st.info("One answer so far in this window: the lines start with the next one, an hour later.")
    left, right = st.columns(2)
    left.altair_chart(charts.meta_lines(trend, "winrate", "Winrate (%)"), width="stretch")
    right.altair_chart(charts.meta_lines(trend, "pickrate", "Pick rate (%)"), width="stretch")
    st.subheader("Newest answer", anchor=False)
    latest = view.latest
    table = pd.DataFrame(
        {
            "Hero": latest["hero"],
            "Pick rate (%)": latest["pickrate"].map(overfast_number),
            "Winrate (%)": latest["winrate"].map(overfast_number),
            "Pick rate change (points)": latest["pickrate_change"].map(_change),
            "Winrate change (points)": latest["winrate_change"].map(_change),
        }
    )
    st.table(table.set_index("Hero"))
    st.caption(f"Changes: from the window's first answer to the newest ({window.lower()}).")
