"""owstream.normalize against the recorded OverFast responses, malformed bodies and generated ones."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from owstream.errors import ProcessingError
from owstream.messages import FetchResult
from owstream.normalize import normalize_result, normalize_stats, normalize_summary

OVERFAST = Path(__file__).resolve().parents[2].parent / "shared" / "overfast"
PLAYERS = ("TeKrop-2217", "KIRIKO-12460", "JohnV1-1190")
MODES = ("quickplay", "competitive")


def recorded(name: str) -> Any:
    return json.loads((OVERFAST / "responses2" / name).read_text())


def stats_body(player: str, mode: str) -> dict[str, Any]:
    body: dict[str, Any] = recorded(f"players_{player}_stats_summary_{mode}_all.json")
    return body


def block_of(row: Any) -> dict[str, Any]:
    names = ("eliminations", "assists", "deaths", "damage", "healing")
    return {
        "games_played": row.games_played,
        "games_won": row.games_won,
        "games_lost": row.games_lost,
        "time_played": row.time_played,
        "winrate": row.winrate,
        "kda": row.kda,
        "total": {n: getattr(row, n) for n in names},
        "average": {n: getattr(row, f"avg_{n}") for n in names},
    }


@pytest.mark.parametrize("player", PLAYERS)
@pytest.mark.parametrize("mode", MODES)
def test_recorded_stats_field_for_field(player: str, mode: str) -> None:
    body = stats_body(player, mode)
    rows = normalize_stats(mode, body)
    by_key = {(r.scope, r.key): r for r in rows}
    assert block_of(by_key[("overall", "all")]) == body["general"]
    assert {k for s, k in by_key if s == "role"} == set(body["roles"])
    assert {k for s, k in by_key if s == "hero"} == set(body["heroes"])
    for role, block in body["roles"].items():
        assert block_of(by_key[("role", role)]) == block
    for hero, block in body["heroes"].items():
        assert block_of(by_key[("hero", hero)]) == block
    assert all(r.extra is None and r.gamemode == mode for r in rows)


def test_summary_profile_and_ranks() -> None:
    profile, ranks, updated = normalize_summary("TeKrop-2217", recorded("players_TeKrop-2217_summary.json"))
    assert (profile.name, profile.title, profile.endorsement_level) == ("TeKrop", "Harbinger", 2)
    assert updated == 1678536999
    assert [(r.platform, r.role, r.season, r.division, r.tier) for r in ranks] == [("pc", "support", 22, "silver", 4)]
    assert ranks[0].rank_icon is not None and "Rank_SilverTier" in ranks[0].rank_icon
    # KIRIKO played competitive but has no rank: platforms with only nulls give no rank rows
    _, kiriko_ranks, _ = normalize_summary("KIRIKO-12460", recorded("players_KIRIKO-12460_summary.json"))
    assert kiriko_ranks == []


def test_private_result_has_profile_but_no_stats() -> None:
    summary = json.loads((OVERFAST / "responses" / "private_Player-137712_summary.json").read_text())
    result = FetchResult(
        request_ids=["r"],
        player_id="Player-137712",
        fetched_at=1.0,
        outcome="private",
        summary=summary,
        stats={m: recorded(f"private_Player-137712_stats_summary_{m}_all.json") for m in MODES},
    )
    snap = normalize_result(result)
    assert snap is not None and snap.private and snap.stats == [] and snap.ranks == []
    assert snap.last_updated_at is None and snap.profile.name == "Player"


def test_outcomes_without_body_normalise_to_none() -> None:
    for outcome in ("not_found", "upstream_error", "skipped"):
        result = FetchResult(request_ids=["r"], player_id="Unknown-1234", fetched_at=1.0, outcome=outcome)
        assert normalize_result(result) is None


def test_unknown_heroes_and_fields_are_kept() -> None:
    body = copy.deepcopy(stats_body("JohnV1-1190", "quickplay"))
    body["heroes"]["newhero-2027"] = copy.deepcopy(body["heroes"]["ana"])
    body["heroes"]["newhero-2027"]["mvp_cards"] = 3
    body["heroes"]["newhero-2027"]["total"]["objective_time"] = 120
    body["highlights"] = {"best": "ana"}
    rows = {(r.scope, r.key): r for r in normalize_stats("quickplay", body)}
    new = rows[("hero", "newhero-2027")]
    assert block_of(new) == block_of(rows[("hero", "ana")])
    assert new.extra == {"mvp_cards": 3, "total": {"objective_time": 120}}
    assert rows[("overall", "all")].extra == {"body": {"highlights": {"best": "ana"}}}


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b: b.__setitem__("general", []), "general"),
        (lambda b: b["heroes"]["ana"].__setitem__("games_played", "12"), "games_played"),
        (lambda b: b["heroes"]["ana"].__setitem__("time_played", -5), "time_played"),
        (lambda b: b["roles"]["support"]["total"].__setitem__("damage", -1.5), "damage"),
        (lambda b: b["general"].__setitem__("games_won", True), "games_won"),
        (lambda b: b["general"].__setitem__("games_lost", 1.5), "games_lost"),
        (lambda b: b["heroes"]["ana"].__setitem__("average", "fast"), "average"),
        (lambda b: b.__setitem__("heroes", ["ana"]), "heroes"),
    ],
)
def test_malformed_stats_raise_processing_error(mutate: Any, reason: str) -> None:
    body = copy.deepcopy(stats_body("TeKrop-2217", "competitive"))
    mutate(body)
    with pytest.raises(ProcessingError, match=reason) as info:
        normalize_stats("competitive", body)
    assert "\n" not in str(info.value)


def test_malformed_summary_and_body_types() -> None:
    with pytest.raises(ProcessingError, match="not an object"):
        normalize_stats("quickplay", ["general"])
    with pytest.raises(ProcessingError, match="division"):
        normalize_summary("X-1", {"competitive": {"pc": {"season": 3, "tank": {"tier": 2}}}})
    with pytest.raises(ProcessingError, match="last_updated_at"):
        normalize_summary("X-1", {"last_updated_at": "yesterday"})
    result = FetchResult(request_ids=["r"], player_id="X-1", fetched_at=1.0, outcome="ok")
    with pytest.raises(ProcessingError, match="without a summary"):
        normalize_result(result)


def test_whole_floats_are_accepted_as_counts() -> None:
    body = copy.deepcopy(stats_body("JohnV1-1190", "competitive"))
    body["general"]["games_played"] = float(body["general"]["games_played"])
    rows = normalize_stats("competitive", body)
    assert rows[0].games_played == body["general"]["games_played"]
    assert isinstance(rows[0].games_played, int)


# --- properties ---------------------------------------------------------------------------------

_count = st.integers(min_value=0, max_value=50_000)
_amount = st.one_of(st.integers(min_value=0, max_value=10**8), st.floats(min_value=0, max_value=1e8))


@st.composite
def stat_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Bodies shaped like stats/summary: heroes first, roles and general as their sums."""
    hero_keys = draw(st.lists(st.from_regex(r"[a-z][a-z0-9-]{1,14}", fullmatch=True), unique=True, max_size=8))
    heroes = {}
    for key in hero_keys:
        won, lost, draws = draw(_count), draw(_count), draw(st.integers(0, 3))
        heroes[key] = {
            "games_played": won + lost + draws,
            "games_won": won,
            "games_lost": lost,
            "time_played": draw(_count),
            "winrate": draw(st.floats(0, 100)),
            "kda": draw(st.floats(0, 50)),
            "total": {n: draw(_amount) for n in ("eliminations", "assists", "deaths", "damage", "healing")},
            "average": {n: draw(_amount) for n in ("eliminations", "assists", "deaths", "damage", "healing")},
        }
    general = _sum(list(heroes.values()))
    general["games_played"] += draw(st.integers(0, 2))  # OverFast's general can exceed the hero sum
    return {"general": general, "roles": {"support": _sum(list(heroes.values()))}, "heroes": heroes}


def _sum(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    counts = ("games_played", "games_won", "games_lost", "time_played")
    names = ("eliminations", "assists", "deaths", "damage", "healing")
    return {
        **{c: sum(b[c] for b in blocks) for c in counts},
        "winrate": 0.0,
        "kda": 0.0,
        "total": {n: sum(b["total"][n] for b in blocks) for n in names},
        "average": dict.fromkeys(names, 0.0),
    }


@settings(max_examples=60, deadline=None)
@given(stat_bodies())
def test_properties_of_normalised_rows(body: dict[str, Any]) -> None:
    rows = normalize_stats("quickplay", body)
    overall = rows[0]
    heroes = [r for r in rows if r.scope == "hero"]
    assert overall.scope == "overall" and len(heroes) == len(body["heroes"])
    for row in rows:
        numbers = (row.games_played, row.games_won, row.games_lost, row.time_played, row.eliminations)
        assert all(v is not None and v >= 0 for v in numbers)
        assert all(v is None or v >= 0 for v in (row.damage, row.healing, row.deaths, row.assists))
    for key, block in body["heroes"].items():
        row = next(r for r in heroes if r.key == key)
        if block["games_won"] + block["games_lost"] == block["games_played"]:
            assert row.games_won + row.games_lost == row.games_played
    assert sum(h.games_played for h in heroes) <= overall.games_played
    assert sum(h.time_played for h in heroes) <= overall.time_played


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5), st.lists))
def test_garbage_blocks_raise_processing_error_or_normalise(garbage: Any) -> None:
    body = copy.deepcopy(stats_body("JohnV1-1190", "competitive"))
    body["heroes"]["ana"] = garbage if garbage is not None else "x"
    with pytest.raises(ProcessingError):
        normalize_stats("competitive", body)
