"""The dashboard's colours, said once: one per role (the game's own association: tank blue, damage red,
support green), a categorical set whose neighbours differ for players and for heroes drawn side by side, and
win/loss. A hero's colour is its role's; where heroes must differ from each other (lines of one chart), they
take the categorical colours in the order they are drawn, so no two lines of a chart share one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from owstream.domain.heroes import role_name

ROLE_COLORS: dict[str, str] = {
    "tank": "#2F6DB5",
    "damage": "#D1443C",
    "support": "#2E9E57",
    "open": "#8E5BB5",
}
UNKNOWN_ROLE = "#8A8F98"
WON, LOST = "#2E9E57", "#D1443C"

# Tableau 10, reordered so that the first colours are far apart, then its darker and lighter partners.
CATEGORICAL: tuple[str, ...] = (
    "#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#B07AA1", "#76B7B2", "#EDC948", "#9C755F", "#FF9DA7", "#BAB0AC",
    "#1F4E79", "#B85A00", "#2D6B28", "#9E1B1E", "#6C3F6B", "#2F7F7A", "#A68A00", "#5E4532",
)  # fmt: skip

# Platforms are the second channel: a line's dash, a bar's opacity.
PLATFORM_DASH: dict[str, list[int]] = {"pc": [1, 0], "console": [6, 3], "all": [1, 0]}
PLATFORM_OPACITY: dict[str, float] = {"pc": 1.0, "console": 0.55, "all": 1.0}


def role_color(role: str | None) -> str:
    return ROLE_COLORS.get(role or "", UNKNOWN_ROLE)


def role_scale(roles: Iterable[str | None]) -> dict[str, list[str]]:
    """A Vega-Lite colour scale of the roles present, keyed by their names as shown (``Tank``...), in the
    game's order; a row's ``role`` field holds :func:`owstream.domain.heroes.role_name` of its role."""
    present = set(roles)
    keys: list[str | None] = [r for r in ROLE_COLORS if r in present]
    keys += sorted(r for r in present if r and r not in ROLE_COLORS)
    if None in present or "" in present:
        keys.append(None)
    return {"domain": [role_name(r) for r in keys], "range": [role_color(r) for r in keys]}


def categorical(names: Sequence[str]) -> dict[str, list[str]]:
    """A colour scale giving each name its own colour, in order (wrapping after 18)."""
    domain = list(dict.fromkeys(names))
    return {"domain": domain, "range": [CATEGORICAL[i % len(CATEGORICAL)] for i in range(len(domain))]}
