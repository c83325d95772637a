"""The simulator's state file: a restarted simulator goes on where it stopped (the demo keeps its clock)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from owstream.simulator import Simulator

NOW = 1_800_000_000.0


def answers(sim: Simulator) -> dict[str, Any]:
    """Every public body of every player, and the meta."""
    bodies: dict[str, Any] = {}
    for pid in sim.player_ids():
        for path in (f"/players/{quote(pid)}/summary", f"/players/{quote(pid)}/stats/summary?gamemode=competitive"):
            bodies[path] = json.loads(sim.handle("GET", path).body)
    bodies["meta"] = json.loads(sim.handle("GET", "/heroes/stats?platform=pc&gamemode=competitive&region=europe").body)
    return bodies


def clock(now: list[float]) -> Any:
    return lambda: now[0]


def test_a_restarted_simulator_answers_what_it_answered_before_and_goes_on_from_there(tmp_path: Path) -> None:
    state, now = tmp_path / "sim.json", [NOW]
    first = Simulator(seed=4, clock=clock(now), state_path=state)
    for _ in range(3):
        now[0] += 60
        first.advance()
    before = answers(first)
    assert before != answers(Simulator(seed=4, clock=clock(now)))  # it moved on from the seed

    again = Simulator(seed=4, clock=clock(now), state_path=state)  # the demo restarted
    assert answers(again) == before
    now[0] += 60
    assert again.advance() == first.advance()  # the same players, the same random draws: the same future
    assert answers(again) == answers(first)


def test_time_and_games_never_go_back_across_a_restart(tmp_path: Path) -> None:
    state, now = tmp_path / "sim.json", [NOW]
    sim = Simulator(seed=7, players=4, clock=clock(now), state_path=state)
    public = [pid for pid in sim.player_ids() if pid not in sim.private_player_ids()]
    seen: dict[str, tuple[int, int]] = {}
    for restart in range(3):
        for _ in range(2):
            now[0] += 60
            sim.advance()
        for pid in public:
            summary = json.loads(sim.handle("GET", f"/players/{quote(pid)}/summary").body)
            games = json.loads(sim.handle("GET", f"/players/{quote(pid)}/stats/summary").body)["general"]
            current = (summary["last_updated_at"], games["games_played"])
            if pid in seen:
                assert current[0] > seen[pid][0] and current[1] > seen[pid][1], (restart, pid)
            seen[pid] = current
        sim = Simulator(seed=7, players=4, clock=clock(now), state_path=state)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "cannot be read"),
        (None, "not this simulator's"),  # another seed's
        ('{"format": 1, "seed": 0, "players": "many"}', "not this simulator's"),
    ],
)
def test_a_state_of_another_simulator_or_a_broken_one_is_left_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str | None, why: str
) -> None:
    state = tmp_path / "sim.json"
    if content is None:
        other = Simulator(seed=1, state_path=state)
        other.advance()
    else:
        state.write_text(content)
    with caplog.at_level(logging.WARNING):
        sim = Simulator(seed=0, state_path=state)
    assert answers(sim) == answers(Simulator(seed=0))  # started from its seed
    assert why in caplog.text


def test_without_a_state_file_nothing_is_written(tmp_path: Path) -> None:
    sim = Simulator(seed=2, players=3)
    sim.advance()
    assert sim.state_path is None and list(tmp_path.iterdir()) == []


def test_the_demo_keeps_its_simulator_state_in_the_home(tmp_path: Path) -> None:
    from owstream.config import Settings
    from owstream.runtime.up import demo_settings, parts

    settings = demo_settings(Settings(home=tmp_path), 18080)
    (simulator,) = [spec for spec in parts(settings, simulator_port=18080) if spec.name == "simulator"]
    at = simulator.argv.index("--state")
    assert simulator.argv[at + 1] == str(tmp_path / "demo-simulator.json")
