"""owstream.domain.normalize on checked results: the recorded OverFast responses field for field, private
profiles, outcomes without bodies, new heroes, and properties of generated bodies."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from owstream.domain.normalize import ModeStats, StatRow, mode_blocks, normalize_result, normalize_summary
from owstream.errors import ProcessingError
from owstream.messages import codec
from owstream.messages.bodies import PlayerSummary, StatsBlocks
from support.results import MODES, PLAYERS, TOTALS, recorded, result, stored


def stats_body(player: str, mode: str) -> dict[str, Any]:
    body: dict[str, Any] = recorded(f"players_{player}_stats_summary_{mode}_all.json")
    return body


def rows_of(mode: str, body: Any) -> list[StatRow]:
    """The rows of one stats/summary body as the processor builds them (decoded first, as results are)."""
    blocks = mode_blocks(codec.decode_as(codec.encode(body), StatsBlocks))
    return list(ModeStats(mode, blocks).rows().values())


def block_of(row: StatRow) -> dict[str, Any]:
    return {
        "games_played": row.games_played,
        "games_won": row.games_won,
        "games_lost": row.games_lost,
        "time_played": row.time_played,
        "winrate": row.winrate,
        "kda": row.kda,
        "total": {n: getattr(row, n) for n in TOTALS},
        "average": {n: getattr(row, f"avg_{n}") for n in TOTALS},
    }


@pytest.mark.parametrize("player", PLAYERS)
@pytest.mark.parametrize("mode", MODES)
def test_recorded_stats_field_for_field(player: str, mode: str) -> None:
    body = stats_body(player, mode)
    rows = rows_of(mode, body)
    by_key = {(r.scope, r.key): r for r in rows}
    assert block_of(by_key[("overall", "all")]) == body["general"]
    assert {k for s, k in by_key if s == "role"} == set(body["roles"])
    assert {k for s, k in by_key if s == "hero"} == set(body["heroes"])
    for role, block in body["roles"].items():
        assert block_of(by_key[("role", role)]) == block
    for hero, block in body["heroes"].items():
        assert block_of(by_key[("hero", hero)]) == block
    assert all(r.gamemode == mode for r in rows)
    assert [r.key for r in rows if r.scope == "hero"] == sorted(body["heroes"])  # overall, roles, heroes: sorted


def test_summary_profile_and_ranks() -> None:
    summary = codec.decode_as(codec.encode(recorded("players_TeKrop-2217_summary.json")), PlayerSummary)
    profile, ranks = normalize_summary("TeKrop-2217", summary)
    assert (profile.name, profile.title, profile.endorsement_level) == ("TeKrop", "Harbinger", 2)
    assert summary.last_updated_at == 1678536999
    assert [(r.platform, r.role, r.season, r.division, r.tier) for r in ranks] == [("pc", "support", 22, "silver", 4)]
    assert ranks[0].rank_icon is not None and "Rank_SilverTier" in ranks[0].rank_icon
    # KIRIKO played competitive but has no rank: platforms with only nulls give no rank rows
    kiriko = codec.decode_as(codec.encode(recorded("players_KIRIKO-12460_summary.json")), PlayerSummary)
    assert normalize_summary("KIRIKO-12460", kiriko)[1] == []


def test_private_result_has_profile_but_no_stats() -> None:
    private = result(
        player_id="Player-137712",
        fetched_at=1.0,
        outcome="private",
        summary=recorded("private_Player-137712_summary.json"),
        stats={m: recorded(f"private_Player-137712_stats_summary_{m}_all.json") for m in MODES},
    )
    snap = normalize_result(stored(private))
    assert snap is not None and snap.private and snap.stats == [] and snap.ranks == []
    assert snap.last_updated_at is None and snap.profile.name == "Player"


def test_outcomes_without_body_normalise_to_none() -> None:
    for outcome in ("not_found", "upstream_error", "skipped"):
        assert normalize_result(stored(result(player_id="Unknown-1234", fetched_at=1.0, outcome=outcome))) is None


def test_an_ok_result_without_a_summary_is_a_processing_error() -> None:
    with pytest.raises(ProcessingError, match="without a summary"):
        normalize_result(stored(result(player_id="Xyz-123", fetched_at=1.0, outcome="ok")))


def test_new_heroes_are_rows_like_any_other() -> None:
    body = copy.deepcopy(stats_body("JohnV1-1190", "quickplay"))
    body["heroes"]["newhero-2027"] = copy.deepcopy(body["heroes"]["ana"])
    rows = {(r.scope, r.key): r for r in rows_of("quickplay", body)}
    assert block_of(rows[("hero", "newhero-2027")]) == block_of(rows[("hero", "ana")])


@pytest.mark.parametrize("body", [{}, {"general": None, "roles": {}, "heroes": {}}, {"general": None, "heroes": {}}])
def test_a_gamemode_without_general_has_no_rows(body: dict[str, Any]) -> None:
    assert rows_of("competitive", body) == []


def test_null_role_and_hero_blocks_are_left_out() -> None:
    body = copy.deepcopy(stats_body("TeKrop-2217", "quickplay"))
    body["heroes"]["ana"] = None
    body["roles"]["damage"] = None
    keys = {(r.scope, r.key) for r in rows_of("quickplay", body)}
    assert ("hero", "ana") not in keys and ("role", "damage") not in keys
    assert ("role", "support") in keys and ("hero", "ashe") in keys


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
            "total": {n: draw(_amount) for n in TOTALS},
            "average": {n: draw(_amount) for n in TOTALS},
        }
    general = _sum(list(heroes.values()))
    general["games_played"] += draw(st.integers(0, 2))  # OverFast's general can exceed the hero sum
    return {"general": general, "roles": {"support": _sum(list(heroes.values()))}, "heroes": heroes}


def _sum(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    counts = ("games_played", "games_won", "games_lost", "time_played")
    return {
        **{c: sum(b[c] for b in blocks) for c in counts},
        "winrate": 0.0,
        "kda": 0.0,
        "total": {n: sum(b["total"][n] for b in blocks) for n in TOTALS},
        "average": dict.fromkeys(TOTALS, 0.0),
    }


@settings(max_examples=60, deadline=None)
@given(stat_bodies())
def test_properties_of_normalised_rows(body: dict[str, Any]) -> None:
    rows = rows_of("quickplay", body)
    overall = rows[0]
    heroes = [r for r in rows if r.scope == "hero"]
    assert overall.scope == "overall" and len(heroes) == len(body["heroes"])
    for row in rows:
        numbers = (row.games_played, row.games_won, row.games_lost, row.time_played, row.eliminations)
        assert all(v is not None and v >= 0 for v in numbers)
        assert all(v is None or v >= 0 for v in (row.damage, row.healing, row.deaths, row.assists))
    for key, block in body["heroes"].items():
        row = next(r for r in heroes if r.key == key)
        assert block_of(row) == block  # every number as OverFast gave it (ints read as floats compare equal)
        if block["games_won"] + block["games_lost"] == block["games_played"]:
            assert row.games_won + row.games_lost == row.games_played
    assert sum(h.games_played for h in heroes) <= overall.games_played
    assert sum(h.time_played for h in heroes) <= overall.time_played
