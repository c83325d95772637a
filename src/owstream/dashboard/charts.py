"""Altair charts with one colour per role and per hero, the same on every page."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import altair as alt
import pandas as pd

AltairChart = Any  # altair ships no type information

ROLE_COLORS: dict[str, str] = {"tank": "#4C78A8", "damage": "#E45756", "support": "#54A24B", "open": "#B279A2"}
_HERO_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354",
    "#756bb1", "#636363", "#6baed6", "#fd8d3c", "#74c476", "#9e9ac8",
)  # fmt: skip
_PLAYER_PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B", "#B279A2", "#FF9DA6")


_UTC_X = alt.X(
    "when:T",
    title="Blizzard updated (UTC)",
    scale=alt.Scale(type="utc"),
    axis=alt.Axis(format="%m-%d %H:%M", tickCount=4, labelOverlap=True, labelFlush=True),
)
# score = division index * 5 + (6 - tier): Bronze 5 = 1 ... Champion 1 = 40
_RANK_LABEL = (
    "['Bronze','Silver','Gold','Platinum','Diamond','Master','Grandmaster','Champion']"
    "[floor((datum.value - 1) / 5)] + ' ' + (6 - (datum.value - floor((datum.value - 1) / 5) * 5))"
)


def with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds ``when_label`` (UTC text of the ``when`` column) for tooltips."""
    return frame.assign(when_label=frame["when"].dt.strftime("%Y-%m-%d %H:%M UTC"))


def hero_color(hero: str) -> str:
    """A hero's colour: derived from its key, so it is the same for every player and every page."""
    digest = hashlib.sha1(hero.encode(), usedforsecurity=False).digest()
    return _HERO_PALETTE[digest[0] % len(_HERO_PALETTE)]


def hero_scale(heroes: Iterable[str]) -> alt.Scale:
    domain = sorted(set(heroes))
    return alt.Scale(domain=domain, range=[hero_color(h) for h in domain])


def role_scale(roles: Iterable[str]) -> alt.Scale:
    domain = sorted(set(roles))
    return alt.Scale(domain=domain, range=[ROLE_COLORS.get(r, "#999999") for r in domain])


def player_scale(players: Iterable[str]) -> alt.Scale:
    domain = list(dict.fromkeys(players))
    return alt.Scale(domain=domain, range=[_PLAYER_PALETTE[i % len(_PLAYER_PALETTE)] for i in range(len(domain))])


def hero_bars(heroes: pd.DataFrame, value: str, title: str, fmt: str = ",.1f") -> AltairChart:
    """One horizontal bar per hero (``heroes`` has ``key``, ``games_played`` and ``value``)."""
    order = heroes.sort_values(value, ascending=False)["key"].tolist()
    return (
        alt.Chart(heroes, title=title)
        .mark_bar()
        .encode(
            y=alt.Y("key:N", sort=order, title="Hero", axis=alt.Axis(labelOverlap=False)),
            x=alt.X(f"{value}:Q", title=title),
            color=alt.Color("key:N", scale=hero_scale(heroes["key"]), legend=None),
            tooltip=[
                alt.Tooltip("key:N", title="Hero"),
                alt.Tooltip(f"{value}:Q", title=title, format=fmt),
                alt.Tooltip("games_played:Q", title="Games played"),
            ],
        )
        .properties(height=max(120, 22 * len(order)))
    )


def winrate_bars(heroes: pd.DataFrame) -> AltairChart:
    """Winrate per hero with the games played written next to each bar."""
    order = heroes.sort_values("games_played", ascending=False)["key"].tolist()
    base = alt.Chart(heroes, title="Winrate per hero (%), with games played").encode(
        y=alt.Y("key:N", sort=order, title="Hero", axis=alt.Axis(labelOverlap=False)),
        x=alt.X("winrate:Q", title="Winrate (%)", scale=alt.Scale(domain=[0, 100])),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("key:N", scale=hero_scale(heroes["key"]), legend=None),
        tooltip=[
            alt.Tooltip("key:N", title="Hero"),
            alt.Tooltip("winrate:Q", title="Winrate (%)", format=".2f"),
            alt.Tooltip("games_played:Q", title="Games played"),
        ],
    )
    labels = base.mark_text(align="left", dx=4).encode(text=alt.Text("games_label:N"))
    return (bars + labels).properties(height=max(120, 22 * len(order)))


def per10_bars(heroes: pd.DataFrame) -> AltairChart:
    """Eliminations, deaths, damage and healing per 10 minutes, one small chart each, hero colours."""
    names = {
        "avg_eliminations": "Eliminations per 10 min",
        "avg_deaths": "Deaths per 10 min",
        "avg_damage": "Damage per 10 min",
        "avg_healing": "Healing per 10 min",
    }
    long = heroes.melt(id_vars=["key", "games_played"], value_vars=list(names), var_name="stat", value_name="value")
    long["stat"] = long["stat"].map(names)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("key:N", title=None, axis=alt.Axis(labelOverlap=False)),
            x=alt.X("value:Q", title=None),
            color=alt.Color("key:N", scale=hero_scale(heroes["key"]), legend=None),
            tooltip=[alt.Tooltip("key:N", title="Hero"), "stat:N", alt.Tooltip("value:Q", format=",.2f")],
        )
        .properties(width=260, height=max(100, 18 * heroes["key"].nunique()))
        .facet(facet=alt.Facet("stat:N", title=None, sort=list(names.values())), columns=2)
        .resolve_scale(x="independent")
    )


def timeline(frame: pd.DataFrame, value: str, title: str, fmt: str = ",.2f") -> AltairChart:
    """A line over snapshot time (``when`` is a datetime column)."""
    return (
        alt.Chart(with_labels(frame), title=title)
        .mark_line(point=True)
        .encode(
            x=_UTC_X,
            y=alt.Y(f"{value}:Q", title=title, scale=alt.Scale(zero=False), axis=alt.Axis(format=fmt)),
            tooltip=[
                alt.Tooltip("when_label:N", title="Blizzard updated"),
                alt.Tooltip(f"{value}:Q", title=title, format=fmt),
            ],
        )
        .properties(height=220)
    )


def rank_lines(ranks: pd.DataFrame) -> AltairChart:
    """Rank per role over time: Bronze 5 at the bottom, Champion 1 at the top (``label`` is the rank name)."""
    return (
        alt.Chart(with_labels(ranks), title="Competitive rank per role")
        .mark_line(point=True)
        .encode(
            x=_UTC_X,
            y=alt.Y(
                "score:Q",
                title="Rank",
                scale=alt.Scale(zero=False, padding=10),
                # ticks only at the ranks held: a tick between two ranks (or in the padding) has no name
                axis=alt.Axis(values=sorted({float(v) for v in ranks["score"].dropna()}), labelExpr=_RANK_LABEL),
            ),
            color=alt.Color("role:N", scale=role_scale(ranks["role"]), title="Role"),
            tooltip=[alt.Tooltip("when_label:N", title="Blizzard updated"), "role:N", "label:N"],
        )
        .properties(height=220)
    )


def hero_pools(heroes: pd.DataFrame) -> AltairChart:
    """Hours per hero, one bar per player, stacked by hero."""
    return (
        alt.Chart(heroes, title="Hero pools (time played, hours)")
        .mark_bar()
        .encode(
            y=alt.Y("player:N", title="Player", axis=alt.Axis(labelOverlap=False)),
            x=alt.X("hours:Q", title="Time played (hours)"),
            color=alt.Color(
                "hero:N", scale=hero_scale(heroes["hero"]), title="Hero", legend=alt.Legend(columns=2, symbolLimit=0)
            ),
            order=alt.Order("hours:Q", sort="descending"),
            tooltip=["player:N", "hero:N", alt.Tooltip("hours:Q", title="Hours", format=",.1f"), "games_played:Q"],
        )
        .properties(height=max(220, 60 * heroes["player"].nunique()))
    )


def squad_bars(frame: pd.DataFrame, value: str, title: str) -> AltairChart:
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X("player:N", title=None, sort=None),
            y=alt.Y(f"{value}:Q", title=title),
            color=alt.Color("player:N", scale=player_scale(frame["player"]), legend=None),
            tooltip=["player:N", alt.Tooltip(f"{value}:Q", title=title, format=",.2f")],
        )
        .properties(height=220)
    )


def per_minute(frame: pd.DataFrame) -> AltairChart:
    return (
        alt.Chart(with_labels(frame), title="Fetch results stored per minute (last hour)")
        .mark_bar(color=ROLE_COLORS["tank"])
        .encode(
            x=alt.X("when:T", title="Minute (UTC)", scale=alt.Scale(type="utc"), axis=alt.Axis(format="%H:%M")),
            y=alt.Y("results:Q", title="Messages per minute"),
            tooltip=[alt.Tooltip("when_label:N", title="Minute"), "results:Q"],
        )
        .properties(height=200)
    )


def meta_lines(trend: pd.DataFrame, value: str, title: str) -> AltairChart:
    """One line per hero over the answers' fetch times (``when``), hero colours; values in percent."""
    return (
        alt.Chart(with_labels(trend), title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "when:T",
                title="Fetched from OverFast (UTC)",
                scale=alt.Scale(type="utc"),
                axis=alt.Axis(format="%m-%d %H:%M", tickCount=4, labelOverlap=True, labelFlush=True),
            ),
            y=alt.Y(f"{value}:Q", title=title, scale=alt.Scale(zero=False)),
            color=alt.Color("hero:N", scale=hero_scale(trend["hero"]), title="Hero"),
            tooltip=[
                alt.Tooltip("when_label:N", title="Fetched"),
                alt.Tooltip("hero:N", title="Hero"),
                alt.Tooltip(f"{value}:Q", title=title),
            ],
        )
        .properties(height=320)
    )
