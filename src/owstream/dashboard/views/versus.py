"""The Player page's "You vs the meta": per hero, the player's winrate next to that hero's winrate and pick
rate among all competitive players of the player's division in the hero's role (OverFast's /heroes/stats,
as the meta service stored it)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from owstream.dashboard import data, layout, state
from owstream.dashboard.layout import plain, when
from owstream.domain import format as fmt
from owstream.domain.meta import ranked_platform, versus
from owstream.domain.vocabulary import PLATFORMS, REGION_NAMES, REGIONS, platform_name

TOP_HEROES = 15


def render(view: data.PlayerRows, heroes: list[dict[str, Any]]) -> None:
    """The section (competitive only)."""
    st.subheader("You vs the meta", anchor=False)
    default = data.settings().meta_region
    with st.container(horizontal=True, gap="medium"):
        region = state.choice(
            st.segmented_control, "Meta region", list(REGIONS), key="region",
            default=default if default in REGIONS else "europe", format_func=REGION_NAMES.__getitem__,
        )  # fmt: skip
        platform = view.platform  # the meta of the platform shown
        if platform not in PLATFORMS:  # OverFast's total of both (old snapshots): either meta, the ranked one first
            platform = state.choice(
                st.segmented_control, "Meta platform", list(PLATFORMS), key="meta_platform",
                default=ranked_platform(view.ranks), format_func=platform_name,
            )  # fmt: skip
    by_division = data.meta_by_division(platform, region)
    where = f"{platform_name(platform)}, {REGION_NAMES[region]}"
    if not by_division:
        st.info(
            f"No hero stats of OverFast stored yet for competitive, {where}: the meta service fetches them every "
            "hour (`owstream run meta`, or `owstream up`)."
        )
        return
    shown = heroes[:TOP_HEROES]
    found = versus([str(h["key"]) for h in shown], view.ranks, by_division, data.hero_roles(), platform)
    layout.table(
        [
            {
                "Hero": h["name"],
                "Your games": fmt.count(h["games_played"]),
                "Your winrate": fmt.percent(h["winrate"]),
                "Hero winrate": fmt.percent(v.winrate),
                "Hero pick rate": fmt.percent(v.pickrate),
                "Division of the meta": v.division,
            }
            for h, v in zip(shown, found, strict=True)
        ],
        index="Hero",
    )
    fetched = [v.fetched_at for v in found if v.fetched_at is not None]
    newest = when(max(fetched)) if fetched else "never"
    more = f" The {TOP_HEROES} heroes you played most." if len(heroes) > TOP_HEROES else ""
    st.caption(
        f"Hero winrate and pick rate: OverFast's hero stats of all competitive players on {plain(where)} in the "
        f"division of your rank in the hero's role (fetched {newest}). Champion counts as Grandmaster; a role you "
        f"are not ranked in reads all divisions.{more}"
    )
