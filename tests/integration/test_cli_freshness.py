"""`owstream fetch` as a user runs it, twice: the second plain fetch of a fresh player and of an unknown
player inside OverFast's retry time do not call OverFast (decided from the store, not one process's memory)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from owstream.config import Settings
from support.env import owstream_env
from support.replay_server import ReplayServer

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


def test_two_plain_fetches_within_the_cache_time_call_overfast_once(env: dict[str, str], replay: ReplayServer) -> None:
    first = owstream(env, "fetch", "TeKrop-2217", "--json")
    assert first.returncode == 0, first.stderr
    assert replay.count("/players/TeKrop-2217/summary") == 1
    second = owstream(env, "fetch", "TeKrop#2217")  # another process: nothing of the first one's memory
    assert second.returncode == 0, second.stderr
    assert replay.count("/players/TeKrop-2217/summary") == 1
    assert "fetched less than 10 min ago" in second.stderr
    assert json.loads(first.stdout)["player"]["player_id"] == "TeKrop-2217"
    forced = owstream(env, "fetch", "TeKrop-2217", "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert replay.count("/players/TeKrop-2217/summary") == 2


def test_an_unknown_player_is_not_asked_for_again_before_its_retry_time(
    env: dict[str, str], replay: ReplayServer
) -> None:
    first = owstream(env, "fetch", "Unknown-1234")
    assert first.returncode == 1
    assert "OverFast will check Blizzard again in 10 min" in first.stderr
    assert replay.count("/players/Unknown-1234/summary") == 1
    second = owstream(env, "fetch", "Unknown-1234", "--json")
    assert second.returncode == 1 and json.loads(second.stdout)["error"]["type"] == "not_found"
    lines = [line for line in second.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, second.stderr
    assert "Player not found" in lines[0]
    assert "try again then" in lines[0] and "not asked again" in lines[0]
    assert "check Blizzard again in 10 min" in lines[0] or "check Blizzard again in 9 min" in lines[0]
    assert replay.count("/players/Unknown-1234/summary") == 1  # OverFast's backoff was not raised
    forced = owstream(env, "fetch", "Unknown-1234", "--force")
    assert forced.returncode == 1
    assert replay.count("/players/Unknown-1234/summary") == 2
    assert "in 30 min" in forced.stderr  # the recorded second 404: retry_after 1800
