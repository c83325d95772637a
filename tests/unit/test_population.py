"""The population's play model (owstream.simulator.population, the population benchmark's players): deterministic by
seed, a tenth of the players on a day in evening sessions of a few games, 40 % of them idle for weeks; the simulator
applies a player's games whenever it is asked, and still answers as OverFast does."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from urllib.parse import quote

import pytest
from test_simulator_openapi import assert_valid, validator

from owstream.simulator import Simulator
from owstream.simulator.population import DAY, PlayModel, daily_share

START = float(20_400 * DAY)  # 2025-11-07 00:00 UTC


class Clock:
    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at


def simulator(seed: int, players: int, clock: Clock | None = None) -> Simulator:
    clock = clock or Clock(START)
    return Simulator(seed=seed, players=players, clock=clock.now, play_from=START)


def model(sim: Simulator) -> PlayModel:
    assert sim.population is not None
    return sim.population.model


def all_games(play: PlayModel, days: int) -> list[tuple[str, int, int, str, str]]:
    return [
        (g.player_id, g.ended_at, g.seconds, g.platform, g.gamemode)
        for pid in play.player_ids()
        for g in play.games(pid, START, START + days * DAY)
    ]


def test_the_same_seed_plays_the_same_games_and_another_seed_others() -> None:
    first, again, other = (model(simulator(seed, 60)) for seed in (4, 4, 5))
    games = all_games(first, 5)
    assert games and games == all_games(again, 5)
    assert [first.habit(p) for p in first.player_ids()] == [again.habit(p) for p in again.player_ids()]
    assert all_games(other, 5) != games


@pytest.fixture(scope="module")
def thousand() -> PlayModel:
    return model(simulator(11, 1001))  # one private player among them: 1000 play


def test_a_tenth_of_the_players_play_on_a_day(thousand: PlayModel) -> None:
    assert daily_share() == pytest.approx(0.10, abs=0.005)
    per_day = [
        sum(1 for pid in thousand.player_ids() if thousand.games(pid, START + d * DAY, START + (d + 1) * DAY))
        for d in range(14)
    ]
    assert len(thousand.player_ids()) == 1000
    assert 0.08 <= statistics.mean(per_day) / 1000 <= 0.12, per_day
    habits = Counter(thousand.habit(pid) for pid in thousand.player_ids())
    expected = {"regular": 80, "casual": 300, "lapsed": 220, "dormant": 400}
    assert all(abs(habits[name] - count) <= 1 for name, count in expected.items()), habits


def test_sessions_are_a_few_games_of_8_to_20_minutes_in_one_gamemode_and_platform(thousand: PlayModel) -> None:
    sessions = [s for pid in thousand.player_ids() for s in thousand.sessions(pid, START, START + 7 * DAY)]
    assert len(sessions) > 500
    sizes = [len(s) for s in sessions]
    assert min(sizes) >= 1 and max(sizes) <= 6 and 2.5 <= statistics.mean(sizes) <= 4.0
    for session in sessions:
        assert all(8 * 60 <= g.seconds <= 20 * 60 for g in session)
        assert len({(g.platform, g.gamemode) for g in session}) == 1
        ends = [g.ended_at for g in session]
        assert ends == sorted(ends) and ends[-1] - session[0].session <= 6 * 24 * 60


def test_sessions_begin_in_their_players_evening(thousand: PlayModel) -> None:
    """Each player's sessions begin at about the same hour of the day (their evening), give or take 2 hours."""
    spread = []
    for pid in thousand.player_ids():
        begins = sorted({g.session for g in thousand.games(pid, START, START + 30 * DAY)})
        if len(begins) >= 3:
            hours = [((b - begins[0]) % DAY) / 3600 for b in begins]
            spread.append(statistics.median(min(h, 24 - h) for h in hours))
    assert spread and statistics.median(spread) < 1.5


def test_dormant_players_were_idle_for_weeks_before_the_start(thousand: PlayModel) -> None:
    idle = {pid: (START - (thousand.last_played(pid) or 0)) / DAY for pid in thousand.player_ids()}
    dormant = [idle[pid] for pid in thousand.player_ids() if thousand.habit(pid) == "dormant"]
    assert len(dormant) == 400 and min(dormant) >= 13 and max(dormant) <= 71
    regular = [idle[pid] for pid in thousand.player_ids() if thousand.habit(pid) == "regular"]
    assert statistics.median(regular) < 2


def _answers(sim: Simulator) -> dict[str, object]:
    out: dict[str, object] = {}
    for pid in sim.player_ids():
        base = f"/players/{quote(pid)}"
        out[pid] = [json.loads(sim.handle("GET", f"{base}/summary").body)] + [
            json.loads(sim.handle("GET", f"{base}/stats/summary?gamemode={m}&platform={p}").body)
            for m in ("quickplay", "competitive")
            for p in ("pc", "console")
        ]
    return out


def test_a_players_games_are_the_same_however_often_it_is_asked() -> None:
    often_clock, once_clock = Clock(START), Clock(START)
    often, once = simulator(2, 30, often_clock), simulator(2, 30, once_clock)
    for step in range(1, 3 * 144 + 1):  # every 10 minutes for 3 days
        often_clock.at = START + step * 600
        for pid in often.player_ids():
            often.handle("GET", f"/players/{quote(pid)}/summary")
    once_clock.at = START + 3 * DAY
    assert _answers(often) == _answers(once)
    played = all_games(model(once), 3)
    assert played  # something was played, and each game is one history entry, Blizzard's update its end
    for pid in once.player_ids():
        ends = [g[1] for g in played if g[0] == pid]
        assert [entry["at"] for entry in once.history(pid)] == ends
        if ends:
            assert once.player(pid).last_updated_at == ends[-1]  # type: ignore[union-attr]


def test_a_game_adds_one_game_to_its_platform_and_gamemode() -> None:
    clock = Clock(START)
    sim = simulator(6, 40, clock)
    before = _answers(sim)
    clock.at = START + 2 * DAY
    after = _answers(sim)
    modes = [(m, p) for m in ("quickplay", "competitive") for p in ("pc", "console")]
    for pid, games in Counter((g[0], g[4], g[3]) for g in all_games(model(sim), 2)).items():
        player, mode, platform = pid
        index = 1 + modes.index((mode, platform))
        was = before[player][index]["general"]["games_played"]  # type: ignore[index]
        assert after[player][index]["general"]["games_played"] == was + games  # type: ignore[index]


def test_a_playing_population_still_answers_as_overfast() -> None:
    clock = Clock(START)
    sim = simulator(8, 40, clock)
    clock.at = START + 4 * DAY
    summary = validator("/players/{player_id}/summary", 200)
    stats = validator("/players/{player_id}/stats/summary", 200)
    player = validator("/players/{player_id}", 200)
    moved = 0
    for pid in sim.player_ids():
        base = f"/players/{quote(pid)}"
        body = json.loads(sim.handle("GET", f"{base}/summary").body)
        assert_valid(summary, body)
        moved += body["last_updated_at"] is not None and body["last_updated_at"] > START
        assert_valid(player, json.loads(sim.handle("GET", base).body))
        for mode in ("quickplay", "competitive"):
            for platform in ("pc", "console"):
                target = f"{base}/stats/summary?gamemode={mode}&platform={platform}"
                assert_valid(stats, json.loads(sim.handle("GET", target).body))
    assert moved >= 4


def test_the_demo_simulator_has_no_population_and_refuses_one_with_a_state_file(tmp_path: object) -> None:
    assert Simulator(seed=0).population is None
    with pytest.raises(ValueError, match="keeps no state file"):
        Simulator(seed=0, play_from=START, state_path=tmp_path / "s.json")  # type: ignore[operator]
