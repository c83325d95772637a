"""The simulator's ``GET /heroes/stats``: synthetic pick rates and winrates per hero, deterministic from the
seed and the query, drifting one step each time the simulator advances.

Every query parameter is validated the way OverFast's FastAPI app does it (its OpenAPI spec): the required
``platform``, ``gamemode`` and ``region``; the optional ``role``, ``map``, ``competitive_division`` and
``order_by``; every error of a request reported at once in FastAPI's 422 body, in the order the parameters are
declared. Unknown parameters are ignored, as FastAPI does.

The numbers look like the real ones: rounded to one decimal, pick rates of a role add up to that role's
share of a team's five slots (tank 100 %, damage and support 200 % each), winrates around 50 %.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from owstream.domain.vocabulary import META_DIVISIONS
from owstream.simulator.data import HEROES

__all__ = ["CACHE_TTL", "MAP_KEYS", "hero_stats"]

CACHE_TTL = 3600  # OverFast caches /heroes/stats for an hour

# The enums as OverFast's spec declares them (FastAPI's messages list the values in this order).
_PLATFORMS = ("console", "pc")
_GAMEMODES = ("quickplay", "competitive")
_REGIONS = ("europe", "americas", "asia")
_ROLES = ("damage", "support", "tank")
MAP_KEYS = (
    "aatlis", "antarctic-peninsula", "anubis", "arena-victoriae", "ayutthaya", "black-forest", "blizzard-world",
    "busan", "castillo", "chateau-guillard", "circuit-royal", "colosseo", "dorado", "ecopoint-antarctica",
    "eichenwalde", "esperanca", "gogadoro", "hanamura", "hanaoka", "havana", "hollywood", "horizon", "ilios",
    "junkertown", "lijiang-tower", "kanezaka", "kings-row", "malevento", "midtown", "necropolis", "nepal",
    "neon-junction", "new-junk-city", "new-queen-street", "numbani", "oasis", "paraiso", "paris", "petra",
    "place-lacroix", "powder-keg-mine", "practice-range", "redwood-dam", "rialto", "route-66", "runasapi", "samoa",
    "shambali-monastery", "suravasa", "thames-district", "throne-of-anubis", "volskaya", "watchpoint-gibraltar",
    "workshop-chamber", "workshop-expanse", "workshop-green-screen", "workshop-island", "wuxing-university",
)  # fmt: skip
_ORDER_BY = "^(hero|winrate|pickrate):(asc|desc)$"
_ROLE_SLOTS = {"tank": 100.0, "damage": 200.0, "support": 200.0}  # percent of games: 1 tank, 2 damage, 2 support


def hero_stats(seed: int, step: int, query: Mapping[str, str]) -> tuple[int, Any, dict[str, str]]:
    """(status, JSON body, headers) of ``/heroes/stats?<query>`` at drift step ``step``."""
    errors = _validate(query)
    if errors:
        return 422, {"detail": errors}, {}
    role = query.get("role")
    rows = [
        {"hero": row["hero"], "pickrate": row["pickrate"], "winrate": row["winrate"]}
        for row in _rows(seed, step, query)
        if role is None or row["role"] == role
    ]
    field, _, direction = query.get("order_by", "hero:asc").partition(":")
    rows.sort(key=lambda row: (row[field], row["hero"]), reverse=direction == "desc")
    headers = {
        "X-Cache-TTL": str(CACHE_TTL),
        "Cache-Control": f"public, max-age={CACHE_TTL}",
        "Age": "0",
        "X-Cache-Status": "hit",
    }
    return 200, rows, headers


# --- validation, as FastAPI (pydantic 2) reports it ----------------------------------------------------------


def _expected(allowed: Sequence[str]) -> str:
    """pydantic's list of enum values: ``'a' or 'b'``, ``'a', 'b' or 'c'``."""
    quoted = [f"'{value}'" for value in allowed]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _enum_error(name: str, value: str, allowed: Sequence[str]) -> dict[str, Any]:
    expected = _expected(allowed)
    return {
        "type": "enum",
        "loc": ["query", name],
        "msg": f"Input should be {expected}",
        "input": value,
        "ctx": {"expected": expected},
    }


def _validate(query: Mapping[str, str]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    enums: tuple[tuple[str, Sequence[str], bool], ...] = (
        ("platform", _PLATFORMS, True),
        ("gamemode", _GAMEMODES, True),
        ("region", _REGIONS, True),
        ("role", _ROLES, False),
        ("map", MAP_KEYS, False),
        ("competitive_division", META_DIVISIONS, False),
    )
    for name, allowed, required in enums:
        value = query.get(name)
        if value is None:
            if required:
                errors.append({"type": "missing", "loc": ["query", name], "msg": "Field required", "input": None})
        elif value not in allowed:
            errors.append(_enum_error(name, value, allowed))
    order_by = query.get("order_by")
    if order_by is not None and re.search(_ORDER_BY, order_by) is None:
        errors.append(
            {
                "type": "string_pattern_mismatch",
                "loc": ["query", "order_by"],
                "msg": f"String should match pattern '{_ORDER_BY}'",
                "input": order_by,
                "ctx": {"pattern": _ORDER_BY},
            }
        )
    return errors


# --- the numbers ------------------------------------------------------------------------------------------


def _uniform(*parts: object) -> list[float]:
    """Eight numbers in [0, 1) from ``parts`` (the same parts, the same numbers)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in range(0, 32, 4)]


def _rows(seed: int, step: int, query: Mapping[str, str]) -> list[dict[str, Any]]:
    """One row per simulated hero (with its role), for every parameter that filters games."""
    scope = [seed, query["platform"], query["gamemode"], query["region"]]
    scope += [query.get("competitive_division", ""), query.get("map", "")]
    weights: dict[str, float] = {}
    winrates: dict[str, float] = {}
    for hero in HEROES:
        u = _uniform(*scope, hero.key)
        popularity = 0.15 + 3.0 * u[0] ** 2  # a few popular heroes, many rare ones
        weights[hero.key] = popularity * (1.0 + 0.35 * math.sin(step * (0.3 + 0.6 * u[1]) + 2 * math.pi * u[2]))
        swing = 2.5 * math.sin(step * (0.2 + 0.5 * u[3]) + 2 * math.pi * u[4])
        winrates[hero.key] = 50.0 + 14.0 * (u[5] - 0.5) + swing
    totals = {role: sum(weights[h.key] for h in HEROES if h.role == role) for role in _ROLE_SLOTS}
    return [
        {
            "hero": hero.key,
            "pickrate": round(min(100.0, _ROLE_SLOTS[hero.role] * weights[hero.key] / totals[hero.role]), 1),
            "winrate": round(min(100.0, max(0.0, winrates[hero.key])), 1),
            "role": hero.role,
        }
        for hero in HEROES
    ]
