"""How numbers and words are written (owstream.domain.format), heroes named (owstream.domain.heroes), and
the quotas' sliding windows (owstream.domain.quotas): one writer for every page and the CLI."""

from __future__ import annotations

import math

from owstream.domain import format as fmt
from owstream.domain.heroes import Hero, hero_name, hero_role, name_from_key, role_name
from owstream.domain.quotas import Window


def test_decimals_follow_the_quantity_and_percentages_keep_overfasts_digits() -> None:
    assert fmt.stat("games_played", 1110) == "1,110"
    assert fmt.stat("winrate", 54.31) == "54.31 %"
    assert fmt.stat("winrate", 100.0) == "100 %"  # never "100.0000"
    assert fmt.stat("winrate", 14.5) == "14.5 %"  # never "14.5000"
    assert fmt.stat("pickrate", 47.8) == "47.8 %"
    assert fmt.stat("kda", 2.1) == "2.10"
    assert fmt.stat("avg_eliminations", 14.7) == "14.70"
    assert fmt.stat("avg_damage", 10493.13) == "10,493"  # damage per 10 min: whole numbers
    assert fmt.stat("time_played", 266_040) == "73.9 h" and fmt.stat("time_played", 3_600_000) == "1,000 h"
    assert fmt.minutes(1500) == "25 min" and fmt.minutes(3900) == "1 h 05 min"
    assert fmt.points(1.24) == "+1.2 pts" and fmt.points(-0.04) == "±0 pts"


def test_missing_values_are_a_dash_never_nan_or_a_bullet() -> None:
    for name in ("winrate", "kda", "avg_damage", "games_played", "time_played"):
        assert fmt.stat(name, None) == fmt.MISSING == "–"
        assert fmt.stat(name, math.nan) == "–"


def test_plurals_and_labels_with_units() -> None:
    assert fmt.plural(1, "game") == "1 game" and fmt.plural(2, "game") == "2 games"
    assert fmt.plural(1110, "game") == "1,110 games" and fmt.plural(0, "session") == "0 sessions"
    assert fmt.plural(3, "hero", "heroes") == "3 heroes"
    assert fmt.label("avg_damage") == "Damage / 10 min" and fmt.label("games_played") == "Games"
    assert fmt.won_lost(3, 1) == "3 W – 1 L"


def test_heroes_by_their_display_names_the_key_when_not_catalogued() -> None:
    catalogue = {"soldier-76": Hero("soldier-76", "Soldier: 76", "damage"), "dva": Hero("dva", "D.Va", "tank")}
    assert hero_name("soldier-76", catalogue) == "Soldier: 76"
    assert hero_name("soldier-76") == name_from_key("soldier-76") == "Soldier 76"
    assert hero_name("wrecking-ball", catalogue) == "Wrecking Ball"
    assert hero_name("dva", {"dva": "D.Va"}) == "D.Va"  # show --json's hero_names
    assert hero_role("dva", catalogue) == "tank" and hero_role("ana", catalogue, {"ana": "support"}) == "support"
    assert hero_role("ana", catalogue) is None and role_name(None) == "Unknown role" and role_name("tank") == "Tank"


def test_a_window_counts_what_happened_in_it_and_says_when_the_next_is_possible() -> None:
    window = Window(2, 60.0, "Fetch requests from one browser session")
    assert window.take(0.0) is None and window.take(10.0) is None
    refused = window.take(20.0)
    assert refused is not None and "limited to 2 per 60 s" in refused and "possible in 40 s" in refused
    assert window.used(20.0) == 2
    assert window.take(60.5) is None  # the first one left the window
    off = Window(0, 60.0, "Forced refreshes")
    assert off.take(0.0) == "Forced refreshes are turned off on this dashboard"
