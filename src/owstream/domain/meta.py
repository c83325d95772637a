"""The meta: which answers of OverFast's ``GET /heroes/stats`` owstream keeps, and which one speaks of a player.

One *combination* is one set of query parameters: gamemode, platform, region and, for competitive, a division
(None: every division). OverFast caches each for an hour; the meta service asks for each at most once per
interval. Three more competitive answers, filtered by role, tell which role each hero plays (OverFast's rows
name heroes, not roles; the hero list changes every season, so it is never written down here).

Divisions: OverFast's filter has bronze to grandmaster, and "grandmaster" counts Champion players too, so a
Champion ("ultimate") rank reads the grandmaster answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from owstream.domain.vocabulary import (
    GAMEMODE_NAMES,
    META_DIVISIONS,
    PLATFORMS,
    REGION_NAMES,
    REGIONS,
    ROLES,
    Gamemode,
    MetaDivision,
    Platform,
    Region,
    Role,
    division_name,
)

ALL = "all"  # the store's and the CLI's word for "no filter" (every division, every role)


@dataclass(frozen=True, order=True)
class Combination:
    """The parameters of one ``/heroes/stats`` request."""

    gamemode: Gamemode
    platform: Platform
    region: Region
    division: MetaDivision | None = None  # competitive_division; None: every division
    role: Role | None = None  # None: every role

    @property
    def key(self) -> str:
        """``competitive.pc.europe.gold.all``: the Kafka key of its answers and the scheduling key."""
        return ".".join((self.gamemode, self.platform, self.region, self.division or ALL, self.role or ALL))

    def query(self) -> dict[str, str]:
        """The request's query parameters (OverFast's names)."""
        params: dict[str, str] = {"platform": self.platform, "gamemode": self.gamemode, "region": self.region}
        if self.division is not None:
            params["competitive_division"] = self.division
        if self.role is not None:
            params["role"] = self.role
        return params

    def describe(self) -> str:
        """``Competitive, PC, Europe, Gold`` / ``Quickplay, console, Asia``."""
        words = [GAMEMODE_NAMES[self.gamemode], "PC" if self.platform == "pc" else "console"]
        words.append(REGION_NAMES.get(self.region, self.region))
        if self.gamemode == "competitive":
            words.append(division_label(self.division))
        if self.role is not None:
            words.append(f"{self.role} only")
        return ", ".join(words)


def division_label(division: str | None) -> str:
    """``Gold``, ``Grandmaster (with Champion)``, ``all divisions``."""
    if division is None or division == ALL:
        return "all divisions"
    return "Grandmaster (with Champion)" if division == "grandmaster" else division_name(division)


def combinations(role_region: Region = "europe") -> list[Combination]:
    """Every combination the meta service keeps: competitive per platform, region and division (all, then
    bronze..grandmaster), quickplay per platform and region, and the three role-filtered answers (competitive,
    PC, ``role_region``, every division) that give each hero's role."""
    out = [
        Combination("competitive", platform, region, division)
        for platform in PLATFORMS
        for region in REGIONS
        for division in (None, *META_DIVISIONS)
    ]
    out += [Combination("quickplay", platform, region) for platform in PLATFORMS for region in REGIONS]
    out += [Combination("competitive", "pc", role_region, None, role) for role in ROLES]
    return out


def meta_division(division: str | None) -> MetaDivision | None:
    """The division filter that holds a player of ``division`` (OverFast's rank key): Champion ("ultimate")
    is counted in grandmaster; None (unranked) or an unknown key: None (every division)."""
    if division == "ultimate":
        return "grandmaster"
    for known in META_DIVISIONS:
        if division == known:
            return known
    return None


def as_region(text: str) -> Region:
    """``text`` as one of OverFast's regions (ValueError saying which exist otherwise)."""
    for region in REGIONS:
        if text == region:
            return region
    raise ValueError(f"{text!r} is not a region of OverFast's hero stats ({', '.join(REGIONS)})")


@dataclass(frozen=True, slots=True)
class Versus:
    """One hero of a player next to the meta of the player's rank in the hero's role."""

    key: str
    division: str  # which answer: "Silver", or "all divisions (why)"
    winrate: float | None  # percent, as OverFast gave it; None: no answer holds the hero
    pickrate: float | None
    fetched_at: float | None
    ranked: bool  # read at the player's own division (not the all-divisions fallback)


def ranked_platform(ranks: Sequence[Mapping[str, Any]]) -> Platform:
    """The platform a player is ranked on (the one with more ranked roles; PC when even or unranked)."""
    count = {p: sum(1 for r in ranks if r.get("platform") == p) for p in PLATFORMS}
    return "console" if count["console"] > count["pc"] else "pc"


def versus(
    heroes: Sequence[str],
    ranks: Sequence[Mapping[str, Any]],
    by_division: Sequence[Mapping[str, Any]],
    roles: Mapping[str, str],
    platform: str,
) -> list[Versus]:
    """For each hero key: that hero's winrate and pick rate in the division of the player's rank in the hero's
    role on ``platform`` (``by_division``: the newest answer's rows of each division, ``all`` included), or in
    every division, saying why (role unknown, unranked in the role, that division's answer missing or
    without the hero)."""
    rank_of = {str(r["role"]): meta_division(r.get("division")) for r in ranks if r.get("platform") == platform}
    answers = {(str(r["division"]), str(r["hero"])): r for r in by_division}
    divisions = {str(r["division"]) for r in by_division}
    out = []
    for key in heroes:
        role = roles.get(key)
        division = rank_of.get(role) if role else None
        row = answers.get((division, key)) if division else None
        label, ranked = division_label(division), row is not None
        if row is None:
            if role is None:
                why = "role unknown"
            elif division is None:
                why = f"unranked as {role}"
            elif division not in divisions:
                why = f"no {label} answer yet"
            else:
                why = f"not in the {label} answer"
            row, label = answers.get((ALL, key)), f"all divisions ({why})"
        out.append(
            Versus(
                key,
                label,
                row["winrate"] if row is not None else None,
                row["pickrate"] if row is not None else None,
                row["fetched_at"] if row is not None else None,
                ranked,
            )
        )
    return out
