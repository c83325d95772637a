"""Platforms apart through the real CLI, against the recorded answers (the replay server, real Kafka):
KIRIKO-12460 shows pc 67 and console 93 quickplay games with their own winrates and averages in the text and
the JSON, every number OverFast's for the same filter; the export says which platform each row is; a pc-only
player costs the calls it always did."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from owstream.config import Settings
from support.env import owstream_env
from support.replay_server import ReplayServer
from support.results import recorded, stored_block

pytestmark = pytest.mark.kafka


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture
def env(kafka: Settings, replay: ReplayServer) -> dict[str, str]:
    return owstream_env(kafka.replace(overfast_url=replay.url, rate_limit=50.0))


def owstream(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "owstream.cli", *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


def overall(mode: str, platform: str) -> dict[str, object]:
    return stored_block(recorded(f"players_KIRIKO-12460_stats_summary_{mode}_{platform}.json")["general"])


def test_kiriko_shows_each_platform_with_its_own_numbers(
    env: dict[str, str], replay: ReplayServer, tmp_path: Path
) -> None:
    fetched = owstream(env, "fetch", "KIRIKO-12460", "--json")
    assert fetched.returncode == 0, fetched.stderr
    report = json.loads(fetched.stdout)
    assert report["platform"] == "console" and list(report["platforms"]) == ["console", "pc"]
    for platform in ("pc", "console"):
        for mode in ("quickplay", "competitive"):
            assert report["platforms"][platform]["gamemodes"][mode]["overall"] == overall(mode, platform)
    assert report["seasons"] == {"pc": 21, "console": 16}
    stats = [r for r in replay.requests if "/stats/summary" in r]
    assert len(stats) == 4 and all("platform=" in r for r in stats)  # never the summed answer

    text = owstream(env, "show", "KIRIKO-12460")
    assert text.returncode == 0, text.stderr
    assert "Console — quickplay: 93 games, 50 won, 43 lost, winrate 53.76 %" in text.stdout
    assert "PC — quickplay: 67 games, 30 won, 37 lost, winrate 44.78 %" in text.stdout
    assert text.stdout.index("Console — quickplay") < text.stdout.index("PC — quickplay")  # the most played first
    only_pc = json.loads(owstream(env, "show", "KIRIKO-12460", "--platform", "pc", "--json").stdout)
    assert only_pc["platform"] == "pc" and only_pc["gamemodes"]["quickplay"]["overall"]["average"]["damage"] == 2718.16

    season = json.loads(owstream(env, "show", "KIRIKO-12460", "--season", "current", "--json").stdout)
    assert {p: per["season"] for p, per in season["platforms"].items()} == {"console": 16, "pc": 21}
    zero = season["platforms"]["console"]["gamemodes"]["quickplay"]["overall"]
    assert zero["games_played"] == 0 and zero["winrate"] is None  # one snapshot: no games yet, not 0 % won

    out = tmp_path / "kiriko.csv"
    exported = owstream(env, "export", "KIRIKO-12460", "--format", "csv", "--table", "overall", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(out.open()))
    games = {(r["platform"], r["gamemode"]): int(r["games_played"]) for r in rows}
    assert games == {("pc", "quickplay"): 67, ("console", "quickplay"): 93, ("pc", "competitive"): 2,
                     ("console", "competitive"): 8}  # fmt: skip


def test_a_pc_player_costs_what_it_always_did(env: dict[str, str], replay: ReplayServer) -> None:
    fetched = owstream(env, "fetch", "TeKrop-2217", "--json")
    assert fetched.returncode == 0, fetched.stderr
    calls = [r for r in replay.requests if r.startswith("/players/TeKrop-2217")]
    assert len(calls) == 3  # the summary and its two pc stats (the summary names pc only)
    report = json.loads(fetched.stdout)
    assert list(report["platforms"]) == ["pc"]
    competitive = recorded("players_TeKrop-2217_stats_summary_competitive_pc.json")["general"]
    assert report["gamemodes"]["competitive"]["overall"] == stored_block(competitive)
    again = owstream(env, "fetch", "TeKrop-2217", "--force")  # a user's fetch of a known player: all at once
    assert again.returncode == 0, again.stderr
    assert len([r for r in replay.requests if r.startswith("/players/TeKrop-2217")]) == 6
