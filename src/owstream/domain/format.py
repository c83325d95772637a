"""Numbers and words as people read them, said once for every page and the CLI: counts with thousands
separators, percentages as OverFast gives them, decimals by quantity, units with the numbers, plurals.

Each stat has a :class:`Quantity` (how it is written) and a label with its unit; :func:`stat` writes one value,
:func:`label` names one column. A missing value is written ``–`` (never ``nan``, ``None`` or a lone ``•``).

Decimals by quantity: games and totals are whole numbers; a winrate or pick rate keeps OverFast's own digits
(at most 2, no padding zeros: ``54.31 %``, ``100 %``); KDA 2 decimals; eliminations, assists and deaths per
10 minutes 2 decimals (OverFast's); damage and healing per 10 minutes whole numbers (``10,493``); time played
in hours (one decimal below 100 h).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from owstream.domain.outcomes import duration, hours, utc

__all__ = [
    "MISSING",
    "Quantity",
    "count",
    "duration",
    "hours",
    "label",
    "minutes",
    "number",
    "percent",
    "plural",
    "points",
    "stat",
    "utc",
]

MISSING = "–"

Quantity = Literal["count", "percent", "ratio", "per10", "per10_big", "hours", "minutes", "points"]


@dataclass(frozen=True, slots=True)
class Field:
    label: str  # the column's name, with its unit
    quantity: Quantity


# Store column names -> how pages and the CLI name and write them.
FIELDS: dict[str, Field] = {
    "games_played": Field("Games", "count"),
    "games": Field("Games", "count"),
    "games_won": Field("Won", "count"),
    "wins": Field("Won", "count"),
    "games_lost": Field("Lost", "count"),
    "losses": Field("Lost", "count"),
    "winrate": Field("Winrate", "percent"),
    "pickrate": Field("Pick rate", "percent"),
    "kda": Field("KDA", "ratio"),
    "time_played": Field("Time played", "hours"),
    "eliminations": Field("Eliminations", "count"),
    "assists": Field("Assists", "count"),
    "deaths": Field("Deaths", "count"),
    "damage": Field("Damage", "count"),
    "healing": Field("Healing", "count"),
    "avg_eliminations": Field("Eliminations / 10 min", "per10"),
    "avg_assists": Field("Assists / 10 min", "per10"),
    "avg_deaths": Field("Deaths / 10 min", "per10"),
    "avg_damage": Field("Damage / 10 min", "per10_big"),
    "avg_healing": Field("Healing / 10 min", "per10_big"),
}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | None, decimals: int = 0) -> str:
    """``1,234``; ``1,234.5`` with ``decimals``; ``–`` when missing."""
    if _missing(value):
        return MISSING
    assert value is not None
    return f"{value:,.{decimals}f}"


def count(value: float | None) -> str:
    """A whole number with thousands separators: ``1,110``."""
    return number(value, 0)


def percent(value: float | None, unit: bool = True) -> str:
    """A percentage as OverFast gives it, at most 2 decimals and no padding zeros: ``54.31 %``, ``47.8 %``,
    ``100 %``."""
    if _missing(value):
        return MISSING
    assert value is not None
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} %" if unit else text


def points(value: float | None) -> str:
    """A change in percentage points, signed: ``+1.2 pts``, ``-0.4 pts``, ``±0 pts``."""
    if _missing(value):
        return MISSING
    assert value is not None
    if round(value, 1) == 0:
        return "±0 pts"
    return f"{value:+.1f} pts"


def minutes(seconds: float | None) -> str:
    """``25 min`` (whole minutes), ``1 h 05 min`` from an hour on."""
    if _missing(seconds):
        return MISSING
    assert seconds is not None
    total = round(seconds / 60)
    return f"{total} min" if total < 60 else f"{total // 60} h {total % 60:02d} min"


def stat(name: str, value: float | None) -> str:
    """One value of the stat ``name`` (a store column: ``winrate``, ``avg_damage``...) as pages show it."""
    kind = FIELDS[name].quantity if name in FIELDS else "count"
    return write(kind, value)


def write(kind: Quantity, value: float | None) -> str:
    """One value of a quantity (see the module's docstring)."""
    if _missing(value):
        return MISSING
    assert value is not None
    return _WRITERS[kind](value)


_WRITERS: dict[str, Callable[[float], str]] = {
    "count": count,
    "percent": percent,
    "ratio": lambda v: number(v, 2),
    "per10": lambda v: number(v, 2),
    "per10_big": count,
    "hours": hours,
    "minutes": minutes,
    "points": points,
}


def label(name: str) -> str:
    """The column name of the stat ``name``, with its unit where it has one (``Damage / 10 min``)."""
    return FIELDS[name].label if name in FIELDS else name.replace("_", " ").capitalize()


def plural(n: float, word: str, words: str | None = None) -> str:
    """``1 game``, ``3 games``, ``1,110 games``; ``words``: an irregular plural."""
    many = words if words is not None else f"{word}s"
    return f"{count(n)} {word if n == 1 else many}"


def won_lost(wins: float | None, losses: float | None) -> str:
    """``3 W – 1 L``."""
    return f"{count(wins)} W – {count(losses)} L"
