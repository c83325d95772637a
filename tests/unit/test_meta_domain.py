"""Which /heroes/stats answers the meta service keeps, and which one speaks of a player's rank."""

from __future__ import annotations

import pytest

from owstream.domain.meta import Combination, as_region, combinations, division_label, meta_division


def test_every_combination_once() -> None:
    every = combinations()
    keys = [c.key for c in every]
    assert len(keys) == len(set(keys)) == 2 * 3 * 8 + 2 * 3 + 3
    competitive = [c for c in every if c.gamemode == "competitive" and c.role is None]
    assert {c.division for c in competitive} == {None, "bronze", "silver", "gold", "platinum", "diamond", "master",
                                                 "grandmaster"}  # fmt: skip
    assert all(c.division is None and c.role is None for c in every if c.gamemode == "quickplay")
    roles = [c for c in every if c.role is not None]
    assert {(c.platform, c.region, c.division) for c in roles} == {("pc", "europe", None)}
    assert {c.region for c in combinations(role_region="asia") if c.role} == {"asia"}


def test_key_query_and_words() -> None:
    gold = Combination("competitive", "console", "asia", "gold")
    assert gold.key == "competitive.console.asia.gold.all"
    assert gold.query() == {"platform": "console", "gamemode": "competitive", "region": "asia",
                            "competitive_division": "gold"}  # fmt: skip
    assert gold.describe() == "Competitive, console, Asia, Gold"
    tanks = Combination("competitive", "pc", "europe", role="tank")
    assert tanks.query()["role"] == "tank" and tanks.key.endswith(".all.tank")
    assert Combination("quickplay", "pc", "americas").describe() == "Quickplay, PC, Americas"
    assert division_label("grandmaster") == "Grandmaster (with Champion)"
    assert division_label(None) == division_label("all") == "all divisions"


def test_a_rank_reads_the_division_filter_that_holds_it() -> None:
    assert meta_division("ultimate") == "grandmaster"  # Champion: OverFast counts it in grandmaster
    assert meta_division("gold") == "gold"
    assert meta_division(None) is None and meta_division("wood") is None
    assert as_region("asia") == "asia"
    with pytest.raises(ValueError, match="americas, europe, asia"):
        as_region("mars")
