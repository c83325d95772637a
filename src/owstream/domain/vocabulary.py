"""The words of the game and of the pipeline, said once: gamemodes, platforms, roles, divisions, regions,
outcomes, services.

Every other module takes these from here (the message models, the settings, the simulator, the dashboard, the
CLI). It imports nothing of owstream: it sits below every layer, the message models included
(docs/architecture.md).
"""

from __future__ import annotations

from typing import Literal, get_args

Gamemode = Literal["quickplay", "competitive"]
GAMEMODES: tuple[Gamemode, ...] = get_args(Gamemode)
GAMEMODE_NAMES: dict[str, str] = {"quickplay": "Quickplay", "competitive": "Competitive"}

Platform = Literal["pc", "console"]
PLATFORMS: tuple[Platform, ...] = get_args(Platform)
PLATFORM_NAMES: dict[str, str] = {"pc": "PC", "console": "Console", "both": "PC + console"}
# The platform of a stats row: one of PLATFORMS (fetched with OverFast's ``platform=`` filter), or ``both``:
# fetched without it, pc and console added together by OverFast (what owstream stored before it asked per
# platform; old snapshots keep it, labelled so, and are never mixed with one platform's numbers).
StatsPlatform = Literal["pc", "console", "both"]
BOTH: StatsPlatform = "both"
STATS_PLATFORMS: tuple[StatsPlatform, ...] = get_args(StatsPlatform)
BOTH_NOTE = "before per-platform fetches"

# Roles of the stats (heroes belong to one); a competitive rank also exists for "open" queue.
Role = Literal["tank", "damage", "support"]
ROLES: tuple[Role, ...] = get_args(Role)

# OverFast's division keys, lowest first. Blizzard shows "ultimate" as Champion.
Division = Literal["bronze", "silver", "gold", "platinum", "diamond", "master", "grandmaster", "ultimate"]
DIVISIONS: tuple[Division, ...] = get_args(Division)
DIVISION_NAMES: dict[str, str] = {d: ("Champion" if d == "ultimate" else d.title()) for d in DIVISIONS}
TIERS = range(1, 6)  # 1 is the highest tier of a division

# OverFast's regions of the hero stats (``GET /heroes/stats?region=``), and its division filter there: the
# seven divisions below Champion, "grandmaster" counting Champion ("ultimate") players too.
Region = Literal["americas", "europe", "asia"]
REGIONS: tuple[Region, ...] = get_args(Region)
REGION_NAMES: dict[str, str] = {r: r.title() for r in REGIONS}
MetaDivision = Literal["bronze", "silver", "gold", "platinum", "diamond", "master", "grandmaster"]
META_DIVISIONS: tuple[MetaDivision, ...] = get_args(MetaDivision)

Outcome = Literal[
    "ok",  # summary + stats per gamemode are in the result
    "private",  # the profile is private: summary only, no stats
    "not_found",  # OverFast does not know the player (retry_after says when to ask again)
    "upstream_error",  # OverFast/Blizzard busy or down after retries (retry_after if known)
    "skipped",  # fetched less than the OverFast cache time ago and not forced: nothing new to fetch
    "expired",  # the request waited longer than the fetcher serves (request_ttl): not fetched, ask again
    "mismatch",  # OverFast's answer is not the player's (another name): never stored as theirs (``error`` says why)
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
# Outcomes that say nothing about the player: the player's last outcome stays what it was.
NO_NEWS: frozenset[str] = frozenset({"skipped", "expired"})

# The services of the pipeline (``owstream run NAME``); ``services`` runs them all in one process.
Service = Literal["fetcher", "processor", "scheduler", "meta", "notifier"]
SERVICES: tuple[str, ...] = get_args(Service)

# The scopes of a stats row within one gamemode: the overall line ("all"), one role, one hero.
Scope = Literal["overall", "role", "hero"]
SCOPE_OVERALL: Scope = "overall"
SCOPE_ROLE: Scope = "role"
SCOPE_HERO: Scope = "hero"
OVERALL_KEY = "all"

# The per-block numbers OverFast gives in ``total`` and in ``average`` (per 10 minutes of play).
TOTAL_FIELDS: tuple[str, ...] = ("eliminations", "assists", "deaths", "damage", "healing")


def division_name(division: str | None) -> str:
    """``Champion`` for OverFast's ``ultimate``, ``Gold`` for ``gold``; ``unranked`` for None."""
    if division is None:
        return "unranked"
    return DIVISION_NAMES.get(division, division.title())


def rank_text(division: str | None, tier: int | None) -> str:
    """``Gold 3``, ``Champion 1``, ``unranked``."""
    if division is None:
        return "unranked"
    return f"{division_name(division)} {tier}" if tier is not None else division_name(division)


def platform_name(platform: str | None) -> str:
    """``PC``, ``Console``, ``PC + console`` (OverFast's total of both: old snapshots)."""
    return PLATFORM_NAMES.get(platform or BOTH, platform or "")


def platform_label(platform: str | None) -> str:
    """:func:`platform_name`, saying what ``both`` is where a page offers it beside one platform's numbers:
    ``PC + console (before per-platform fetches)``."""
    name = platform_name(platform)
    return f"{name} ({BOTH_NOTE})" if (platform or BOTH) == BOTH else name


def rank_score(division: str | None, tier: int | None) -> float | None:
    """Bronze 5 = 1 ... Champion 1 = 40: one number per rank, for charts and comparisons."""
    if division is None or division.lower() not in DIVISIONS:
        return None
    return DIVISIONS.index(division.lower()) * 5 + (6 - (tier or 5))
