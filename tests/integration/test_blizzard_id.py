"""Blizzard's player id through the real CLI: accepted wherever a BattleTag is, learned once from OverFast's
search, then used to ask OverFast; a new BattleTag with the same Blizzard id (a name change) continues the
same history."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from owstream.config import Settings
from owstream.store import Store, schema
from support.env import owstream_env
from support.replay_server import ReplayServer, Reply, load_recordings

pytestmark = pytest.mark.kafka

BLIZZARD_ID = "c65b8798bc61d6ffbba120|cfe9dd77a4382165e2b920bdcc035949"  # TeKrop-2217's, as OverFast's search says
MODES = ("quickplay", "competitive")


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


def tekrop(path: str) -> Reply:
    return load_recordings()[f"/players/TeKrop-2217{path}"][0]


def serve_as(replay: ReplayServer, player_id: str, *, username: str | None = None, later: int = 0) -> None:
    """The next fetch of ``player_id`` gets TeKrop-2217's recorded answers (renamed, updated ``later`` s after)."""
    summary = json.loads(tekrop("/summary").body)
    summary["username"] = username or summary["username"]
    summary["last_updated_at"] += later
    replay.script(f"/players/{player_id}/summary", [Reply.json(200, summary)])
    for mode in MODES:
        replay.script(
            f"/players/{player_id}/stats/summary?gamemode={mode}", [tekrop(f"/stats/summary?gamemode={mode}")]
        )


def test_one_history_across_a_name_change_by_blizzard_id(
    env: dict[str, str], replay: ReplayServer, kafka: Settings
) -> None:
    first = owstream(env, "fetch", "TeKrop#2217", "--json")
    assert first.returncode == 0, first.stderr
    assert replay.count("/players?name=TeKrop-2217") == 1  # its Blizzard id, learned once

    serve_as(replay, BLIZZARD_ID, later=60)
    again = owstream(env, "fetch", "TeKrop-2217", "--force", "--json")
    assert again.returncode == 0, again.stderr
    assert replay.count(f"/players/{BLIZZARD_ID}/summary") == 1  # asked by the id that survives a rename
    assert replay.count("/players/TeKrop-2217/summary") == 1
    assert replay.count("/players?name=TeKrop-2217") == 1

    # TeKrop changes their BattleTag: OverFast's search gives the new one the same Blizzard id
    serve_as(replay, "NewName-4321", username="NewName", later=120)
    search = {"total": 1, "results": [{"player_id": "NewName-4321", "name": "NewName", "avatar": None,
              "namecard": None, "title": None, "career_url": "http://x/players/NewName-4321",
              "blizzard_id": BLIZZARD_ID.replace("|", "%7C"), "last_updated_at": 1, "is_public": True}]}  # fmt: skip
    replay.script("/players?name=NewName-4321", [Reply.json(200, search)])
    renamed = owstream(env, "fetch", "NewName#4321", "--json")
    assert renamed.returncode == 0, renamed.stderr
    report = json.loads(renamed.stdout)
    assert report["player"]["player_id"] == "TeKrop-2217" and report["player"]["name"] == "NewName"

    # the Blizzard id itself (as typed, or URL-encoded) is accepted and is the same player, fetched just now
    by_id = owstream(env, "fetch", BLIZZARD_ID.replace("|", "%7C"), "--json")
    assert by_id.returncode == 0, by_id.stderr
    assert json.loads(by_id.stdout)["player"]["player_id"] == "TeKrop-2217"
    assert replay.count(f"/players/{BLIZZARD_ID}/summary") == 1  # fresh: OverFast not asked
    shown = owstream(env, "show", BLIZZARD_ID)
    assert shown.returncode == 0, shown.stderr

    with Store.open(kafka.resolved_store_url) as store, store.engine.connect() as conn:
        s, p = schema.snapshots.c, schema.players.c
        per_player = dict(conn.execute(select(s.player_id, func.count()).group_by(s.player_id)).all())
        players = set(conn.execute(select(p.player_id)).scalars())
    assert per_player == {"TeKrop-2217": 3} and players == {"TeKrop-2217"}  # one history

    assert owstream(env, "track", "add", "NewName-4321").returncode == 0
    listing = json.loads(owstream(env, "track", "list", "--json").stdout)
    assert [e["player_id"] for e in listing["watchlist"]] == ["TeKrop-2217"]


def test_a_bad_player_reference_says_what_is_accepted(env: dict[str, str]) -> None:
    proc = owstream(env, "fetch", "abc|xyz")
    assert proc.returncode == 1
    assert "not a BattleTag" in proc.stderr and "hex|hex" in proc.stderr
