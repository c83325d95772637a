"""owstream.domain.deltas: sessions between real and derived snapshots, resets, rank changes. Each session is
computed as the processor does it (ModeStats.diff, then session_between), with the previous blocks known
(a warm writer cache) and unknown (a cold one): both must give the same session."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from owstream.domain.deltas import Session, rank_changes, session_between
from owstream.domain.events import session_data
from owstream.domain.normalize import ModeStats, RankRow, mode_blocks
from owstream.messages import codec
from owstream.messages.bodies import StatsBlocks

OVERFAST = Path(__file__).resolve().parents[1] / "fixtures" / "overfast"
TOTALS = ("eliminations", "assists", "deaths", "damage", "healing")


def current(mode: str, player: str = "TeKrop-2217") -> dict[str, Any]:
    body: dict[str, Any] = json.loads(
        (OVERFAST / "responses2" / f"players_{player}_stats_summary_{mode}_all.json").read_text()
    )
    return body


def earlier(mode: str) -> dict[str, Any]:
    """TeKrop-2217 in November 2024 (same endpoint and filters)."""
    path = OVERFAST / "history-2024" / "stats-summary-filtered" / f"TeKrop-2217-{mode}-None.json"
    body: dict[str, Any] = json.loads(path.read_text())
    return body


def stats(mode: str, body: dict[str, Any]) -> ModeStats:
    return ModeStats(mode, mode_blocks(codec.decode_as(codec.encode(body), StatsBlocks)))


def between(mode: str, before: dict[str, Any], after: dict[str, Any]) -> Session | None:
    """The session from ``before`` to ``after``; the same whether the writer knew the previous blocks or not."""
    old, new = stats(mode, before), stats(mode, after)
    found = []
    for blocks in (old.blocks, None):
        _, changed, vanished = new.diff(old.rows(), blocks)
        found.append(session_between(mode, old.rows(), changed, vanished))
    assert found[0] == found[1]
    return found[0]


def play(block: dict[str, Any], games: int, won: int, seconds: int, kills: int = 10) -> None:
    block["games_played"] += games
    block["games_won"] += won
    block["games_lost"] += games - won
    block["time_played"] += seconds
    for i, name in enumerate(TOTALS):
        block["total"][name] += kills * (i + 1)


def assert_no_negatives(session: Session) -> None:
    lines = [session.overall, *(p.line for p in session.parts)]
    for line in lines:
        values = (line.games, line.wins, line.losses, line.time_played, line.winrate, line.kda)
        assert all(v >= 0 for v in values + tuple(getattr(line, n) for n in TOTALS))


def test_session_matches_what_was_added() -> None:
    before = current("quickplay")
    after = copy.deepcopy(before)
    play(after["heroes"]["ana"], games=3, won=2, seconds=1500, kills=10)
    play(after["heroes"]["mercy"], games=1, won=0, seconds=700, kills=2)
    play(after["roles"]["support"], games=4, won=2, seconds=2200, kills=12)
    play(after["general"], games=4, won=2, seconds=2200, kills=12)
    session = between("quickplay", before, after)
    assert session is not None and not session.is_reset
    o = session.overall
    assert (o.games, o.wins, o.losses, o.time_played) == (4, 2, 2, 2200)
    assert (o.eliminations, o.assists, o.deaths, o.damage, o.healing) == (12, 24, 36, 48, 60)
    assert o.winrate == 50.0 and o.kda == round((12 + 24) / 36, 2)
    assert session.heroes == ["ana", "mercy"]  # most time first
    parts = {(p.scope, p.key): p.line for p in session.parts}
    assert set(parts) == {("hero", "ana"), ("hero", "mercy"), ("role", "support")}
    ana = parts[("hero", "ana")]
    assert (ana.games, ana.wins, ana.losses, ana.time_played, ana.deaths) == (3, 2, 1, 1500, 30)
    assert round(ana.winrate, 2) == 66.67
    assert parts[("hero", "mercy")].kda == round((2 + 4) / 6, 2)
    summary = session_data(session, 100, 200)  # the session event's data
    assert (summary.games, summary.heroes, summary.is_reset) == (4, ["ana", "mercy"], False)
    assert (summary.started_at, summary.ended_at, summary.eliminations) == (100, 200, 12.0)


def test_session_between_two_real_snapshots() -> None:
    """TeKrop-2217's quickplay from November 2024 to the current recording: a plain session."""
    old, new = earlier("quickplay"), current("quickplay")
    session = between("quickplay", old, new)
    assert session is not None and not session.is_reset
    o, g0, g1 = session.overall, old["general"], new["general"]
    assert o.games == g1["games_played"] - g0["games_played"] == 11
    assert o.wins == g1["games_won"] - g0["games_won"]
    assert o.time_played == g1["time_played"] - g0["time_played"]
    assert o.healing == g1["total"]["healing"] - g0["total"]["healing"]
    played = {
        k for k, b in new["heroes"].items() if b["games_played"] != old["heroes"].get(k, {}).get("games_played", 0)
    }
    assert played <= set(session.heroes)
    assert {"ana", "baptiste", "cassidy", "reinhardt", "tracer"} <= played
    parts = {(p.scope, p.key): p.line for p in session.parts}
    assert parts[("hero", "baptiste")].games == 609 - 604
    assert_no_negatives(session)


def test_real_competitive_season_change_is_a_reset() -> None:
    """Between the same snapshots competitive heroes vanished and counts went down: flagged, not negative."""
    session = between("competitive", earlier("competitive"), current("competitive"))
    assert session is not None and session.is_reset
    assert_no_negatives(session)
    parts = {(p.scope, p.key) for p in session.parts}
    assert ("hero", "orisa") not in parts  # vanished heroes are not sessions


def test_fewer_games_is_a_reset_with_no_negatives() -> None:
    before = current("competitive")
    after = copy.deepcopy(before)
    for block in [after["general"], *after["roles"].values(), *after["heroes"].values()]:
        block["games_played"] //= 3
        block["games_won"] //= 3
        block["games_lost"] = block["games_played"] - block["games_won"]
        block["time_played"] //= 3
        block["total"] = {k: v // 3 for k, v in block["total"].items()}
    session = between("competitive", before, after)
    assert session is not None and session.is_reset
    assert session.overall.games == 0
    assert_no_negatives(session)


def test_unchanged_stats_give_no_session() -> None:
    body = current("quickplay")
    assert between("quickplay", body, copy.deepcopy(body)) is None


def test_time_without_a_finished_game_is_no_session() -> None:
    before = current("quickplay")
    after = copy.deepcopy(before)
    for block in (after["general"], after["roles"]["support"], after["heroes"]["ana"]):
        block["time_played"] += 120
    assert between("quickplay", before, after) is None


def test_new_hero_in_the_new_snapshot_counts_fully() -> None:
    before = current("quickplay")
    after = copy.deepcopy(before)
    after["heroes"]["newhero"] = copy.deepcopy(after["heroes"]["ana"])
    for key in ("games_played", "games_won", "games_lost", "time_played"):
        after["heroes"]["newhero"][key] = {"games_played": 2, "games_won": 1, "games_lost": 1}.get(key, 800)
    play(after["general"], 2, 1, 800)
    session = between("quickplay", before, after)
    assert session is not None and session.heroes == ["newhero"] and not session.is_reset


def rank(platform: str, role: str, division: str, tier: int, season: int = 12) -> RankRow:
    return RankRow(platform, role, season, division, tier, None)


def test_rank_changes_per_platform_and_role() -> None:
    before = [
        rank("pc", "support", "silver", 4),
        rank("pc", "tank", "gold", 1),
        rank("console", "damage", "master", 3),
    ]
    after = [rank("pc", "support", "gold", 5), rank("pc", "tank", "gold", 1), rank("pc", "open", "bronze", 2)]
    changes = {(c.platform, c.role): c for c in rank_changes(before, after)}
    assert set(changes) == {("pc", "support"), ("pc", "open"), ("console", "damage")}
    up = changes[("pc", "support")]
    assert (up.from_division, up.from_tier, up.to_division, up.to_tier) == ("silver", 4, "gold", 5)
    gone = changes[("console", "damage")]
    assert (gone.to_division, gone.to_tier, gone.season) == (None, None, 12)
    new = changes[("pc", "open")]
    assert (new.from_division, new.to_division) == (None, "bronze")
    assert rank_changes(before, before) == []


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["ana", "mercy", "kiriko", "lucio", "newhero"]),
        st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 5000)),
        max_size=5,
    )
)
def test_added_games_come_back_as_the_session(added: dict[str, tuple[int, int, int]]) -> None:
    before = current("quickplay")
    after = copy.deepcopy(before)
    template = copy.deepcopy(before["heroes"]["ana"])
    for hero, (won, lost, seconds) in added.items():
        if hero not in after["heroes"]:
            zero = {"games_played": 0, "games_won": 0, "games_lost": 0, "time_played": 0}
            after["heroes"][hero] = {**template, **zero, "total": dict.fromkeys(TOTALS, 0)}
        play(after["heroes"][hero], won + lost, won, seconds, kills=1)
        play(after["general"], won + lost, won, seconds, kills=1)
    session = between("quickplay", before, after)
    games = sum(w + lo for w, lo, _ in added.values())
    if games == 0:
        assert session is None
        return
    assert session is not None and not session.is_reset
    assert session.overall.games == games
    assert session.overall.wins == sum(w for w, _, _ in added.values())
    played = {h for h, (w, lo, s) in added.items() if w + lo or s}
    assert set(session.heroes) == played
    assert_no_negatives(session)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-30, 30), st.integers(-3000, 3000)), min_size=4, max_size=4))
def test_arbitrary_moves_never_store_negatives(moves: list[tuple[int, int, int]]) -> None:
    before = current("competitive")
    after = copy.deepcopy(before)
    blocks = [
        after["general"],
        after["heroes"]["ana"],
        after["heroes"]["baptiste"],
        after["roles"]["support"],
    ]
    for block, (_, games, seconds) in zip(blocks, moves, strict=True):
        block["games_played"] = max(0, block["games_played"] + games)
        block["time_played"] = max(0, block["time_played"] + seconds)
    session = between("competitive", before, after)
    if any(g < 0 or s < 0 for _, g, s in moves):  # every block starts above zero: a real decrease
        assert session is not None and session.is_reset
    if session is not None:
        assert_no_negatives(session)
