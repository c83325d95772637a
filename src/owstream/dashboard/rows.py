"""The store's records shaped for the pages: heroes with their names and roles, every value written once by
:mod:`owstream.domain.format`, and the charts of a hero list (:mod:`owstream.dashboard.charts`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from owstream.dashboard import charts, palette
from owstream.domain import format as fmt
from owstream.domain.heroes import ROLE_ORDER, Hero, hero_name, hero_role, role_name
from owstream.domain.vocabulary import SCOPE_HERO, SCOPE_OVERALL, SCOPE_ROLE
from owstream.store.views import AVG_COLUMNS

Row = dict[str, Any]
PER10 = AVG_COLUMNS  # OverFast's averages per 10 minutes, in the store's order
PER10_NAMES = {"avg_eliminations": "Eliminations", "avg_assists": "Assists", "avg_deaths": "Deaths",
               "avg_damage": "Damage", "avg_healing": "Healing"}  # fmt: skip


def split(stats: Sequence[Mapping[str, Any]]) -> tuple[Row | None, list[Row], list[Row]]:
    """(the overall block, the role blocks, the hero blocks most played first) of a gamemode's stats records."""
    overall = next((dict(r) for r in stats if r["scope"] == SCOPE_OVERALL), None)
    roles = [dict(r) for r in stats if r["scope"] == SCOPE_ROLE]
    heroes = sorted((dict(r) for r in stats if r["scope"] == SCOPE_HERO), key=lambda r: (-r["time_played"], r["key"]))
    return overall, roles, heroes


def named(heroes: Sequence[Row], catalogue: Mapping[str, Hero], roles: Mapping[str, str]) -> list[Row]:
    """Each hero record with ``name`` (its display name), ``role_key`` and ``role`` (the role's name)."""
    out = []
    for row in heroes:
        role = hero_role(row["key"], catalogue, roles)
        out.append({**row, "name": hero_name(row["key"], catalogue), "role_key": role, "role": role_name(role)})
    return out


def _tooltip_fields(row: Row) -> Row:
    return {
        "tt_hero": row["name"],
        "tt_role": row["role"],
        "tt_games": fmt.count(row["games_played"]),
        "tt_time": fmt.hours(row["time_played"]),
        "tt_winrate": fmt.percent(row["winrate"]),
    }


_TOOLTIP = (("tt_hero", "Hero"), ("tt_role", "Role"), ("tt_games", "Games"), ("tt_time", "Time played"),
            ("tt_winrate", "Winrate"))  # fmt: skip


def time_chart(heroes: Sequence[Row]) -> charts.Spec:
    rows = [
        {"name": h["name"], "role": h["role"], "hours": h["time_played"] / 3600, "label": fmt.hours(h["time_played"]),
         **_tooltip_fields(h)}
        for h in heroes
    ]  # fmt: skip
    return charts.bars(
        rows, value="hours", title="Time played", axis_title="Hours", fmt=",.0f",
        scale=palette.role_scale(h["role_key"] for h in heroes), tooltip=_TOOLTIP,
    )  # fmt: skip


def winrate_chart(heroes: Sequence[Row]) -> charts.Spec:
    rows = [
        {"name": h["name"], "role": h["role"], "winrate": h["winrate"],
         "label": f"{fmt.percent(h['winrate'])} · {fmt.plural(h['games_played'], 'game')}", **_tooltip_fields(h)}
        for h in heroes
    ]  # fmt: skip
    return charts.bars(
        rows, value="winrate", title="Winrate, with games played", axis_title="Winrate (%)", domain_max=100,
        scale=palette.role_scale(h["role_key"] for h in heroes), tooltip=_TOOLTIP,
    )  # fmt: skip


def per10_chart(heroes: Sequence[Row], stat: str) -> charts.Spec:
    rows = [
        {"name": h["name"], "role": h["role"], "value": h[stat] or 0.0, "label": fmt.stat(stat, h[stat]),
         **_tooltip_fields(h)}
        for h in heroes
        if h[stat] is not None
    ]  # fmt: skip
    big = fmt.FIELDS[stat].quantity == "per10_big"
    return charts.bars(
        rows, value="value", title=f"{PER10_NAMES[stat]} per 10 minutes of play", axis_title=fmt.label(stat),
        fmt=",.0f" if big else ",.1f", scale=palette.role_scale(h["role_key"] for h in heroes), tooltip=_TOOLTIP,
    )  # fmt: skip


def hero_table(heroes: Sequence[Row]) -> list[Row]:
    """Every hero's numbers, columns named with their units."""
    return [
        {
            "Hero": h["name"],
            "Role": h["role"],
            "Games": fmt.count(h["games_played"]),
            "W – L": f"{fmt.count(h['games_won'])} – {fmt.count(h['games_lost'])}",
            "Winrate": fmt.percent(h["winrate"]),
            "KDA": fmt.stat("kda", h["kda"]),
            "Time played": fmt.hours(h["time_played"]),
            **{fmt.label(name): fmt.stat(name, h[name]) for name in PER10},
        }
        for h in heroes
    ]


def hero_list(keys: str | None, catalogue: Mapping[str, Hero]) -> str:
    """A session's heroes (the store's comma-separated keys) by their names: ``Ana, Lúcio``; ``–`` for none."""
    return ", ".join(hero_name(key, catalogue) for key in (keys or "").split(",") if key) or "–"


def by_role(roles: Sequence[Row]) -> list[Row]:
    """Role records tank, damage, support (the game's order), any other after them."""
    return sorted(roles, key=lambda r: ROLE_ORDER.index(r["key"]) if r["key"] in ROLE_ORDER else len(ROLE_ORDER))


def role_table(roles: Sequence[Row]) -> list[Row]:
    return [
        {
            "Role": role_name(r["key"]),
            "Games": fmt.count(r["games_played"]),
            "W – L": f"{fmt.count(r['games_won'])} – {fmt.count(r['games_lost'])}",
            "Winrate": fmt.percent(r["winrate"]),
            "KDA": fmt.stat("kda", r["kda"]),
            "Time played": fmt.hours(r["time_played"]),
        }
        for r in by_role(roles)
    ]


def per10_table(roles: Sequence[Row]) -> list[Row]:
    """Per 10 minutes, one row per stat and a column per role (narrow enough for a phone)."""
    ordered = by_role(roles)
    return [
        {"Per 10 minutes": PER10_NAMES[name], **{role_name(r["key"]): fmt.stat(name, r[name]) for r in ordered}}
        for name in PER10
    ]


def headline(overall: Row) -> list[tuple[str, str]]:
    return [
        ("Games played", fmt.count(overall["games_played"])),
        ("Games won", fmt.count(overall["games_won"])),
        ("Games lost", fmt.count(overall["games_lost"])),
        ("Winrate", fmt.percent(overall["winrate"])),
        ("KDA", fmt.stat("kda", overall["kda"])),
        ("Time played", fmt.hours(overall["time_played"])),
    ]


def per10_headline(overall: Row) -> list[tuple[str, str]]:
    return [(fmt.label(name), fmt.stat(name, overall[name])) for name in PER10]
