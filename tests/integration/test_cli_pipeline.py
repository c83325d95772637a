"""The CLI on the real broker: `owstream fetch` runs the fetcher/processor in-process when none runs,
`show`, `track`, `export` and `replay` (which must rebuild a store identical to the live one)."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from owstream.bus import Producer, TopicNames
from owstream.config import Settings
from owstream.store import Store
from owstream.store.exports import TABLES
from support.databases import table_dump
from support.env import owstream_env
from support.pipeline import recorded_json
from support.replay_server import ReplayServer
from support.results import advanced, encoded, ok_result, replace

pytestmark = pytest.mark.kafka


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture
def env(kafka: Settings, replay: ReplayServer) -> dict[str, str]:
    return owstream_env(kafka.replace(overfast_url=replay.url, rate_limit=50.0))


def owstream(
    env: dict[str, str], *args: str, timeout: float = 180, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "owstream.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def test_fetch_json_prints_the_recorded_numbers(env: dict[str, str]) -> None:
    proc = owstream(env, "fetch", "TeKrop#2217", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # one JSON object, nothing else on stdout
    summary = recorded_json("players_TeKrop-2217_summary.json")
    assert data["player"]["name"] == summary["username"]
    assert data["player"]["title"] == summary["title"]
    for mode, name in (
        ("competitive", "players_TeKrop-2217_stats_summary_competitive.json"),
        ("quickplay", "players_TeKrop-2217_stats_summary_quickplay_all.json"),
    ):
        recorded = recorded_json(name)
        block = data["gamemodes"][mode]
        for key in ("games_played", "games_won", "games_lost", "time_played", "winrate", "kda", "total", "average"):
            assert block["overall"][key] == recorded["general"][key], (mode, key)
        for role, stats in recorded["roles"].items():
            assert block["roles"][role]["games_played"] == stats["games_played"]
            assert block["roles"][role]["average"] == stats["average"]
        assert {h: b["time_played"] for h, b in block["heroes"].items()} == {
            h: s["time_played"] for h, s in recorded["heroes"].items()
        }
    ranks = {(r["platform"], r["role"]): (r["division"], r["tier"]) for r in data["ranks"]}
    for platform, block in (summary["competitive"] or {}).items():
        for role in ("tank", "damage", "support", "open"):
            if block and block.get(role):
                assert ranks[(platform, role)] == (block[role]["division"], block[role]["tier"])

    only = owstream(env, "show", "TeKrop-2217", "--json", "--gamemode", "competitive")
    assert only.returncode == 0, only.stderr
    assert set(json.loads(only.stdout)["gamemodes"]) == {"competitive"}
    human = owstream(env, "show", "TeKrop-2217")
    assert "competitive" in human.stdout and "quickplay" in human.stdout


@pytest.mark.parametrize(
    ("tag", "needle", "kind"),
    [
        ("Unknown-1234", "not found", "not_found"),
        ("Player-137712", "private", "private"),
        ("bad tag!", "not a BattleTag", "invalid_battle_tag"),
    ],
)
def test_fetch_errors_are_one_line_one_json_object_and_non_zero(
    env: dict[str, str], tag: str, needle: str, kind: str
) -> None:
    proc = owstream(env, "fetch", tag, "--json")
    assert proc.returncode == 1
    error = json.loads(proc.stdout)["error"]  # one JSON object on stdout, nothing else
    assert error["type"] == kind and needle in error["message"]
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    if kind == "not_found":
        assert error["player_id"] == tag and error["retry_after"] > 0


def test_show_unknown_player_says_how_to_fetch(env: dict[str, str]) -> None:
    proc = owstream(env, "show", "Nobody-1234")
    assert proc.returncode == 1
    assert "owstream fetch" in proc.stderr and proc.stdout == ""
    as_json = owstream(env, "show", "Nobody-1234", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["error"]["type"] == "not_stored"


def test_track_add_list_remove(env: dict[str, str]) -> None:
    assert owstream(env, "track", "add", "TeKrop#2217").returncode == 0
    assert "already" in owstream(env, "track", "add", "TeKrop-2217").stdout
    listing = json.loads(owstream(env, "track", "list", "--json").stdout)
    assert [e["player_id"] for e in listing["watchlist"]] == ["TeKrop-2217"]
    assert owstream(env, "track", "remove", "TeKrop-2217").returncode == 0
    assert owstream(env, "track", "remove", "TeKrop-2217").returncode == 1
    assert json.loads(owstream(env, "track", "list", "--json").stdout)["watchlist"] == []


def test_replay_rebuilds_an_identical_store_and_export_writes_history(
    env: dict[str, str], kafka: Settings, tmp_path: Path
) -> None:
    for tag, code in (("TeKrop-2217", 0), ("KIRIKO-12460", 0), ("JohnV1-1190", 0), ("Player-137712", 1)):
        proc = owstream(env, "fetch", tag, "--force")
        assert proc.returncode == code, (tag, proc.stderr)  # the three public players fetched, one private
    assert "private" in proc.stderr
    # a poison message on fetch-results: replay skips it, like the processor dead-letters it
    names = TopicNames(kafka.topic_prefix)
    producer = Producer(kafka)
    producer.send(names.fetch_results, b"{not json", key="TeKrop-2217")
    producer.flush()

    store = Store.open(kafka.resolved_store_url)
    live = table_dump(store)
    store.close()
    assert live["snapshots"], "nothing was stored live"

    proc = owstream(env, "replay")
    assert proc.returncode == 0, proc.stderr
    assert "1 unreadable skipped" in proc.stdout
    store = Store.open(kafka.resolved_store_url)
    rebuilt = table_dump(store)
    store.close()
    assert rebuilt.keys() == live.keys()
    for table in live:
        assert rebuilt[table] == live[table], table

    check_export(env, tmp_path)


def check_export(env: dict[str, str], tmp_path: Path) -> None:
    """`owstream export` of a stored player: every table, UTC timestamps, the recorded numbers."""
    recorded = recorded_json("players_TeKrop-2217_stats_summary_competitive.json")
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"tekrop-{fmt}"
        proc = owstream(env, "export", "TeKrop-2217", "--format", fmt, "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        read = pd.read_csv if fmt == "csv" else pd.read_parquet
        tables = {name: read(out / f"{name}.{fmt}") for name in TABLES}
        assert all(f"{out / name}.{fmt}" in proc.stdout for name in TABLES)
        overall = tables["overall"]
        assert set(overall["gamemode"]) == {"quickplay", "competitive"}
        competitive = overall[overall["gamemode"] == "competitive"].iloc[-1]
        assert competitive["games_played"] == recorded["general"]["games_played"]
        assert competitive["games_won"] == recorded["general"]["games_won"]
        assert competitive["time_played_hours"] == pytest.approx(recorded["general"]["time_played"] / 3600)
        assert competitive["eliminations_per_10min"] == recorded["general"]["average"]["eliminations"]
        heroes = tables["heroes"]
        last = heroes[(heroes["gamemode"] == "competitive") & (heroes["result_id"] == competitive["result_id"])]
        assert dict(zip(last["hero"], last["games_played"], strict=True)) == {
            hero: block["games_played"] for hero, block in recorded["heroes"].items()
        }
        assert "Soldier 76" in set(heroes["hero_name"]) or "soldier-76" not in set(heroes["hero"])
        assert set(tables["roles"]["role"]) <= {"tank", "damage", "support"}
        assert {"season", "fetched_at", "last_updated_at"} <= set(tables["snapshots"].columns)
        fetched = tables["snapshots"]["fetched_at"]
        if fmt == "csv":  # ISO 8601 in UTC
            assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value) for value in fetched)
        else:
            assert str(fetched.dtype) in ("datetime64[ns, UTC]", "datetime64[us, UTC]", "datetime64[ms, UTC]")

    one = owstream(env, "export", "TeKrop-2217", "--table", "sessions", "--format", "parquet", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert (tmp_path / "TeKrop-2217-sessions.parquet").is_file()  # the default name follows the format
    private = owstream(env, "export", "Player-137712", "--out", str(tmp_path / "private"))
    assert private.returncode == 0, private.stderr
    assert list(pd.read_csv(tmp_path / "private" / "snapshots.csv")["outcome"]) == ["private"]
    assert "private" in private.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--out", "/nonexistent/dir/x"), "the folder /nonexistent/dir does not exist"),
        (("--out", "history.csv"), "names a file, but export writes a folder of tables"),
        (
            ("--table", "heroes", "--format", "parquet", "--out", "heroes.csv"),
            "names a csv file, but --format is parquet",
        ),
    ],
)
def test_export_refuses_what_it_cannot_write_with_one_line(
    env: dict[str, str], tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:
    proc = owstream(env, "export", "TeKrop-2217", *args, cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not Path("/nonexistent").exists() and list(tmp_path.iterdir()) == []


def test_show_season_gives_the_numbers_since_the_season_began(env: dict[str, str], kafka: Settings) -> None:
    """Three answers on fetch-results (season 22, then 3 more games, then season 23 with 2 more), stored by
    `owstream replay`; `show --season` gives each season's numbers in `show --json`'s shape."""
    first = ok_result("TeKrop-2217", "season-a", time.time() - 7200)
    second = advanced(first, "season-b", first.fetched_at + 3600, {"ana": (2, 1, 1800)})
    third = advanced(second, "season-c", first.fetched_at + 7200, {"ana": (1, 1, 1200)})
    assert third.summary is not None
    summary = copy.deepcopy(third.summary)
    summary["competitive"]["pc"]["season"] = 23
    third = replace(third, summary=summary)
    producer = Producer(kafka)
    for item in (first, second, third):
        producer.send(TopicNames(kafka.topic_prefix).fetch_results, encoded(item), key=item.player_id)
    producer.flush()
    producer.close()
    assert owstream(env, "replay").returncode == 0

    current = owstream(env, "show", "TeKrop#2217", "--season", "current", "--json")
    assert current.returncode == 0, current.stderr
    data = json.loads(current.stdout)
    shown = owstream(env, "show", "TeKrop-2217", "--json")
    assert set(data) == set(json.loads(shown.stdout)) | {"season", "season_label", "since", "until"}
    assert (data["season"], data["since"]["since_tracking_began"], data["since"]["at"]) == (
        23,
        False,
        second.fetched_at,
    )
    assert "that snapshot reports Season 23 itself" in data["since"]["boundary"]
    overall = data["gamemodes"]["competitive"]["overall"]
    assert (overall["games_played"], overall["games_won"], overall["winrate"]) == (2, 1, 50.0)
    assert data["gamemodes"]["quickplay"]["overall"]["games_played"] == 0

    earlier = json.loads(owstream(env, "show", "TeKrop-2217", "--season", "22", "--json").stdout)
    assert earlier["since"]["since_tracking_began"] and earlier["since"]["at"] == first.fetched_at
    assert earlier["gamemodes"]["competitive"]["overall"]["games_played"] == 3

    human = owstream(env, "show", "TeKrop-2217", "--season", "current", "--gamemode", "competitive")
    assert human.returncode == 0, human.stderr
    assert "Season 23: numbers since" in human.stdout and "competitive, Season 23: 2 games, 1 won" in human.stdout
    assert "counted in Season 23" in human.stdout
    for wrong, needle in (("5", "stored seasons: 22, 23"), ("soon", "--season takes current, last or")):
        proc = owstream(env, "show", "TeKrop-2217", "--season", wrong, "--json")
        assert proc.returncode == 1 and needle in json.loads(proc.stdout)["error"]["message"]
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and needle in lines[0], proc.stderr
