"""What the CLI prints for people: tables that fit the terminal (80 and 120 columns), roles and heroes apart,
hero names, plurals, topic names never cut."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from owstream.cli.render import print_kafka_status, print_report

HEROES = ["wrecking-ball", "junker-queen", "soldier-76", "ana", "dva", "lucio", "mercy", "kiriko", "genji",
          "tracer", "sigma", "zarya", "reinhardt", "baptiste", "widowmaker"]  # fmt: skip


def block(games: int, seconds: int) -> dict[str, Any]:
    return {
        "games_played": games, "games_won": games // 2, "games_lost": games - games // 2, "time_played": seconds,
        "winrate": 49.87, "kda": 12.35, "average": {"eliminations": 123.45, "deaths": 10.07},
    }  # fmt: skip


def report() -> dict[str, Any]:
    heroes = {key: block(1000 + i, 3_600_000 - i * 3600) for i, key in enumerate(HEROES)}
    session = {"games": 1, "wins": 1, "losses": 0, "winrate": 100, "time_played": 700, "ended_at": 1.8e9}
    return {
        "player": {"player_id": "Zephyr-13429", "name": "Zephyr", "title": "Peacekeeper", "endorsement_level": 3},
        "freshness": {"fetched_at": 1.8e9, "last_updated_at": 1.8e9 - 60},
        "ranks": [
            {"platform": "pc", "role": role, "season": 21, "division": "grandmaster", "tier": 1}
            for role in ("tank", "damage", "support")
        ],
        "gamemodes": {
            "competitive": {
                "overall": block(1, 700),
                "roles": {"tank": block(12_345, 999_999), "damage": block(2, 1200), "support": block(3, 1800)},
                "heroes": heroes,
                "latest_session": session,
            }
        },
    }


def printed(width: int, draw: Any, data: dict[str, Any]) -> list[str]:
    stream = io.StringIO()
    draw(Console(file=stream, width=width, color_system=None), data)
    return stream.getvalue().splitlines()


@pytest.mark.parametrize("width", [80, 120])
def test_show_tables_fit_the_terminal_with_one_line_per_role_and_hero(width: int) -> None:
    lines = printed(width, print_report, report())
    assert max(map(len, lines)) <= width
    header = [i for i, line in enumerate(lines) if line.split()[:2] in (["role", "games"], ["hero", "games"])]
    assert len(header) == 2, "\n".join(lines)  # a table of roles, then one of heroes
    roles, heroes = lines[header[0] : header[1]], lines[header[1] :]
    assert [line.split()[0] for line in roles[2:5]] == ["Tank", "Support", "Damage"]  # most played first
    assert any(line.startswith("Tank") and "12,345" in line for line in roles)
    for name, games in (("Wrecking Ball", "1,000"), ("Junker Queen", "1,001"), ("Soldier 76", "1,002")):
        (row,) = [line for line in heroes if line.startswith(name)]  # the name and its numbers on one line
        assert games in row and "49.87" in row and "123.45" in row
    assert sum(1 for line in heroes if line[:1].isupper() and "49.87" in line) == 8
    assert any("8 of 15 heroes, most played first" in line for line in heroes)


def test_counts_are_said_with_their_plural() -> None:
    text = "\n".join(printed(120, print_report, report()))
    assert "competitive: 1 game, 0 won, 1 lost" in text
    assert "latest session: 1 game, 1-0" in text
    assert "1 games" not in text
    assert "ranks, season 21, pc: tank Grandmaster 1, damage Grandmaster 1, support Grandmaster 1" in text


def kafka_status(prefix: str) -> dict[str, Any]:
    names = [f"{prefix}.{t}" for t in ("fetch-requests", "fetch-results", "player-events", "dead-letter")]
    partition = {"partition": 0, "leader": 1, "replicas": [1], "isr": [1], "start_offset": 0, "end_offset": 12345}
    topics = [
        {"name": n, "partitions": 6, "replication_factor": 1, "min_insync_replicas": 1, "end_offsets": [12345] * 6,
         "messages": 74070, "partition_details": [partition] * 6}
        for n in names
    ]  # fmt: skip
    return {
        "broker": {"bootstrap": "127.0.0.1:29092", "local": True, "version": "4.1.2", "reachable": True, "pid": 9},
        "brokers": [],
        "topics": topics,
        "under_replicated": [],
        "groups": [{"group": f"{prefix}.processor", "state": "stable", "members": 1, "total_lag": 3}],
        "stack": None,
    }


@pytest.mark.parametrize("width", [80, 120])
def test_kafka_status_shows_whole_topic_and_group_names_on_one_line(width: int) -> None:
    status = kafka_status("owstream-demo")
    lines = printed(width, print_kafka_status, status)
    assert max(map(len, lines)) <= width and not any("…" in line for line in lines)
    for name in [*(t["name"] for t in status["topics"]), "owstream-demo.processor"]:
        assert any(line.startswith(name + " ") for line in lines), name
    assert any(line.split()[1:] == ["6", "1", "1", "74,070"] for line in lines)


def test_kafka_status_folds_names_too_long_for_the_terminal_and_never_cuts_anything() -> None:
    status = kafka_status("a-prefix-much-longer-than-anyone-would-choose-for-owstream")
    lines = printed(80, print_kafka_status, status)
    assert max(map(len, lines)) <= 80 and not any("…" in line for line in lines)
    text = "".join(line.split()[0] if line.split() else "" for line in lines)
    assert all(t["name"] in text for t in status["topics"])  # every name whole, over two lines
    assert sum("74,070" in line for line in lines) == 4 and sum("0-12345" in line for line in lines) == 24
