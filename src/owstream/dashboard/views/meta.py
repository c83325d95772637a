"""Meta page: how each hero's winrate and pick rate move over time (OverFast's /heroes/stats, kept by the
meta service), per platform, region, division and gamemode (``/meta?mode=...&region=...``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from owstream.dashboard import charts, data, layout, palette, state
from owstream.dashboard.layout import ago, plain, when
from owstream.domain import format as fmt
from owstream.domain.heroes import Hero, hero_name, hero_role, role_name
from owstream.domain.meta import ALL, Combination, division_label
from owstream.domain.vocabulary import (
    GAMEMODE_NAMES,
    GAMEMODES,
    META_DIVISIONS,
    PLATFORMS,
    REGION_NAMES,
    REGIONS,
    platform_name,
)

WINDOWS: dict[str, tuple[str, float | None]] = {
    "day": ("Last 24 hours", 24.0),
    "week": ("Last 7 days", 168.0),
    "month": ("Last 30 days", 720.0),
    "all": ("Everything", None),
}
SHOWN = 8  # heroes drawn at first: the most picked
SHOWN_TABLE = 15  # heroes listed at first


def render() -> None:
    st.title("Meta")
    st.caption(
        "OverFast's hero stats: pick rate and winrate per hero (percent) of all players of a platform, region "
        "and division, fetched every hour by the meta service and kept, so each hero's trend shows."
    )
    default = data.settings().meta_region
    with st.container(horizontal=True, gap="medium"):
        gamemode = state.choice(st.segmented_control, "Gamemode", list(GAMEMODES), key="mode", default="competitive",
                                format_func=GAMEMODE_NAMES.__getitem__)  # fmt: skip
        platform = state.choice(st.segmented_control, "Platform", list(PLATFORMS), key="platform", default="pc",
                                format_func=platform_name)  # fmt: skip
        region = state.choice(st.selectbox, "Region", list(REGIONS), key="region",
                              default=default if default in REGIONS else "europe",
                              format_func=REGION_NAMES.__getitem__, width=160)  # fmt: skip
        competitive = gamemode == "competitive"
        chosen = state.choice(st.selectbox, "Division", [ALL, *META_DIVISIONS], key="division", default=ALL,
                              format_func=division_label, disabled=not competitive, width=220,
                              help="Competitive only; Grandmaster counts Champion players too")  # fmt: skip
        window = state.choice(st.selectbox, "Window", list(WINDOWS), key="window", default="week",
                              format_func=lambda w: WINDOWS[w][0], width=160)  # fmt: skip
    division = chosen if competitive and chosen != ALL else None
    combination = Combination(gamemode, platform, region, division)  # type: ignore[arg-type]
    view = data.meta(gamemode, platform, region, division, WINDOWS[window][1])
    if view.answers == 0:
        newest = f" (the newest is from {ago(view.last_fetched_at)})" if view.last_fetched_at is not None else ""
        st.info(
            f"No hero stats stored for {combination.describe()} in this window{newest}: the meta service fetches "
            "them every hour (`owstream run meta`, or `owstream up`)."
        )
        return
    catalogue, roles = data.heroes(), data.hero_roles()
    latest = newest_answer(view.rows)
    age = data.now() - view.last_fetched_at if view.last_fetched_at is not None else None
    layout.metrics(
        [("Answers in the window", fmt.count(view.answers)), ("Heroes", fmt.count(len(latest))),
         ("Newest answer", layout.since(view.last_fetched_at) if age is not None else fmt.MISSING)]
    )  # fmt: skip
    st.caption(f"{combination.describe()} · newest answer fetched {ago(view.last_fetched_at)}")
    keys = [str(row["hero"]) for row in latest]
    drawn = heroes_drawn(keys, catalogue)
    if view.answers == 1:
        st.info("One answer so far in this window: the lines start with the next one, an hour later.")
    trend(view.rows, drawn, catalogue)
    st.subheader("Newest answer", anchor=False)
    every = state.flag(f"All {len(latest)} heroes", key="all")
    layout.table(
        [
            {
                "Hero": hero_name(row["hero"], catalogue),
                "Role": role_name(hero_role(row["hero"], catalogue, roles)),
                "Pick rate": fmt.percent(row["pickrate"]),
                "Winrate": fmt.percent(row["winrate"]),
                "Pick rate change": fmt.points(row["pickrate_change"]),
                "Winrate change": fmt.points(row["winrate_change"]),
            }
            for row in (latest if every else latest[:SHOWN_TABLE])
        ],
        index="Hero",
    )
    st.caption(f"Changes: from the window's first answer to the newest ({WINDOWS[window][0].lower()}), in points.")


def newest_answer(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest answer's rows, most picked first, each with its change since the window's first answer."""
    if not found:
        return []
    first_at = min(float(r["fetched_at"]) for r in found)
    last_at = max(float(r["fetched_at"]) for r in found)
    first = {r["hero"]: r for r in found if r["fetched_at"] == first_at}
    newest = {r["hero"]: r for r in found if r["fetched_at"] == last_at}
    out = []
    for hero, row in newest.items():
        before = first.get(hero)
        out.append({
            **row,
            "pickrate_change": None if before is None else round(float(row["pickrate"]) - float(before["pickrate"]), 1),
            "winrate_change": None if before is None else round(float(row["winrate"]) - float(before["winrate"]), 1),
        })  # fmt: skip
    return sorted(out, key=lambda r: (-float(r["pickrate"]), str(r["hero"])))


def heroes_drawn(keys: list[str], catalogue: Mapping[str, Hero]) -> list[str]:
    """The heroes drawn (the URL's ``heroes``, else the most picked)."""
    wanted = [k for k in state.list_param("heroes") if k in keys] or keys[:SHOWN]
    if st.session_state.get("meta_heroes") != wanted:
        st.session_state["meta_heroes"] = wanted

    def changed() -> None:
        picked = list(st.session_state.get("meta_heroes") or [])
        state.set_list_param("heroes", [] if picked == keys[:SHOWN] else picked)

    picked = st.multiselect(
        "Heroes drawn", keys, key="meta_heroes", on_change=changed, max_selections=len(palette.CATEGORICAL),
        format_func=lambda k: hero_name(k, catalogue),
    )  # fmt: skip
    return [str(k) for k in picked]


def trend(found: list[dict[str, Any]], drawn: list[str], catalogue: Mapping[str, Hero]) -> None:
    names = [hero_name(k, catalogue) for k in drawn]
    points = [
        {"t": charts.iso(float(r["fetched_at"])), "hero": hero_name(str(r["hero"]), catalogue),
         "winrate": r["winrate"], "pickrate": r["pickrate"], "when": when(float(r["fetched_at"])),
         "winrate_t": fmt.percent(r["winrate"]), "pickrate_t": fmt.percent(r["pickrate"])}
        for r in found
        if r["hero"] in drawn
    ]  # fmt: skip
    times = [float(r["fetched_at"]) for r in found]
    scale = palette.categorical(names)
    left, right = st.columns(2, gap="medium")
    for col, (value, title) in zip((left, right), (("winrate", "Winrate"), ("pickrate", "Pick rate")), strict=True):
        with col:
            charts.show(
                charts.over_time(points, value=value, title=title, y_title=f"{title} (%)", times=times, fmt=".0f",
                                 color="hero", scale=scale, height=300,
                                 tooltip=(("when", "Fetched"), ("hero", "Hero"), (f"{value}_t", title))),
                key=f"chart_meta_{value}",
            )  # fmt: skip
    if not names:
        st.caption(plain("Pick heroes above to draw their lines."))
