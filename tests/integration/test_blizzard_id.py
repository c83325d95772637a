"""Blizzard's player id and proven identities through the real CLI: a Blizzard id is accepted wherever a
BattleTag is, learned once from OverFast's search when the hit is proven to be the player, then used to ask
OverFast; a new BattleTag proven to have the same Blizzard id (a name change) continues the same history. A
search hit that is someone else (OverFast #382), or an answer by Blizzard id named otherwise, never becomes
the player's data."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from owstream.config import Settings
from owstream.simulator import Simulator, SimulatorServer
from owstream.store import Store, schema
from owstream.store.aliases import Alias
from support.env import owstream_env
from support.replay_server import ReplayServer, Reply, load_recordings

pytestmark = pytest.mark.kafka

BLIZZARD_ID = "c65b8798bc61d6ffbba120|cfe9dd77a4382165e2b920bdcc035949"  # TeKrop-2217's, as OverFast's search says
JOHN_ID = "a1b2c3d4e5f6a7b8c9d0e1|0123456789abcdef0123456789abcdef"  # JohnV1-1190's, for the scripted answers
TEKROP_UPDATED = 1678536999  # TeKrop-2217's recorded last_updated_at
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
    for mode in MODES:  # asked per platform: TeKrop plays on pc (console answers {})
        for platform in ("pc", "console"):
            path = f"/stats/summary?gamemode={mode}&platform={platform}"
            replay.script(f"/players/{player_id}{path}", [tekrop(path)])


def search(label: str, name: str, blizzard_id: str, updated: int) -> Reply:
    """A search answer of the recorded shape with one hit, labelled ``label`` (as OverFast labels any single hit
    with the search input)."""
    hit = {"player_id": label, "name": name, "avatar": None, "namecard": None, "title": None,
           "career_url": f"http://x/players/{label}", "blizzard_id": blizzard_id.replace("|", "%7C"),
           "last_updated_at": updated, "is_public": True}  # fmt: skip
    return Reply.json(200, {"total": 1, "results": [hit]})


def serve_john_as(replay: ReplayServer, player_id: str) -> None:
    """JohnV1-1190's recorded answers for ``player_id`` (what a wrong Blizzard id would give)."""
    john = load_recordings()
    replay.script(f"/players/{player_id}/summary", [john["/players/JohnV1-1190/summary"][0]] * 3)
    for mode in MODES:
        path = f"/stats/summary?gamemode={mode}&platform=pc"
        replay.script(f"/players/{player_id}{path}", [john[f"/players/JohnV1-1190{path}"][0]] * 3)


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
    replay.script("/players?name=NewName-4321", [search("NewName-4321", "NewName", BLIZZARD_ID, TEKROP_UPDATED + 120)])
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


def stored(kafka: Settings, player_id: str) -> tuple[int, int, str | None]:
    """(snapshots, stats rows, stored name) of a player id."""
    with Store.open(kafka.resolved_store_url) as store, store.engine.connect() as conn:
        s, st, p = schema.snapshots.c, schema.stats.c, schema.players.c
        snapshots = conn.execute(select(func.count()).where(s.player_id == player_id)).scalar_one()
        rows = conn.execute(
            select(func.count())
            .select_from(schema.stats.join(schema.snapshots, st.snapshot_id == s.id))
            .where(s.player_id == player_id)
        ).scalar_one()
        name = conn.execute(select(p.name).where(p.player_id == player_id)).scalar()
    return snapshots, rows, name


def test_a_private_profile_whose_search_hit_is_someone_else_never_shows_that_someone(
    env: dict[str, str], replay: ReplayServer, kafka: Settings
) -> None:
    # what owstream before 0009 stored: OverFast's search labelled the only public "Player" (JohnV1's account)
    # with Player-137712, and its Blizzard id was taken as Player-137712's
    john_updated = 1670258731
    replay.script("/players?name=Player-137712", [search("Player-137712", "JohnV1", JOHN_ID, john_updated)] * 3)
    serve_john_as(replay, JOHN_ID)
    with Store.open(kafka.resolved_store_url) as store:
        store.aliases.record(Alias("Player-137712", "Player-137712", JOHN_ID, "legacy", "old", 1.0, 0.0, 0, 1.0))
    for args in (("fetch", "Player-137712"), ("fetch", "Player-137712", "--force")):
        proc = owstream(env, *args)
        assert proc.returncode == 1 and "Private profile" in proc.stderr, proc.stderr
    assert replay.count(f"/players/{JOHN_ID}/summary") == 0  # the legacy Blizzard id is never asked
    assert replay.count("/players?name=Player-137712") == 0  # a private profile is not searched
    snapshots, rows, name = stored(kafka, "Player-137712")
    assert (snapshots, rows, name) == (2, 0, "Player")
    shown = json.loads(owstream(env, "show", "Player-137712", "--json").stdout)
    assert shown["player"]["private"] is True and shown["gamemodes"] == {}
    assert shown["identity"]["verdict"] == "private" and "public profiles only" in shown["identity"]["why"]
    with Store.open(kafka.resolved_store_url) as store:
        assert store.aliases.owner_of(JOHN_ID) is None


def test_a_wrongly_labelled_hit_of_a_public_player_is_not_learned(
    env: dict[str, str], replay: ReplayServer, kafka: Settings
) -> None:
    replay.script("/players?name=TeKrop-2217", [search("TeKrop-2217", "TeKrop", JOHN_ID, 1670258731)])
    serve_john_as(replay, JOHN_ID)
    for args in (("fetch", "TeKrop-2217"), ("fetch", "TeKrop-2217", "--force")):
        proc = owstream(env, *args, "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["player"]["name"] == "TeKrop"
    assert replay.count(f"/players/{JOHN_ID}/summary") == 0
    assert replay.count("/players/TeKrop-2217/summary") == 2  # still asked by its BattleTag
    assert replay.count("/players?name=TeKrop-2217") == 1  # and not searched again before the backoff
    shown = json.loads(owstream(env, "show", "TeKrop-2217", "--json").stdout)
    assert shown["identity"]["verdict"] == "mismatch" and "another account" in shown["identity"]["why"]


def test_an_answer_by_blizzard_id_named_otherwise_is_a_mismatch_not_data(
    env: dict[str, str], replay: ReplayServer, kafka: Settings
) -> None:
    first = owstream(env, "fetch", "TeKrop-2217")
    assert first.returncode == 0, first.stderr
    serve_as(replay, BLIZZARD_ID, username="Somebody", later=60)
    renamed = owstream(env, "fetch", "TeKrop-2217", "--force")
    assert renamed.returncode == 1
    assert "named Somebody" in renamed.stderr and f"Blizzard id {BLIZZARD_ID}" in renamed.stderr
    snapshots, _rows, name = stored(kafka, "TeKrop-2217")
    assert (snapshots, name) == (1, "TeKrop")  # nothing of Somebody's stored
    shown = json.loads(owstream(env, "show", "TeKrop-2217", "--json").stdout)
    assert shown["player"]["last_outcome"] == "mismatch"
    assert shown["last_fetch"]["outcome"] == "mismatch" and "Somebody" in shown["last_fetch"]["error"]
    again = owstream(env, "fetch", "TeKrop-2217", "--force")  # asked by its BattleTag again
    assert again.returncode == 0, again.stderr
    assert replay.count("/players/TeKrop-2217/summary") == 2


@pytest.fixture
def simulated(kafka: Settings) -> Iterator[dict[str, str]]:
    with SimulatorServer(Simulator(seed=0)) as server:
        yield owstream_env(kafka.replace(overfast_url=server.url, rate_limit=50.0))


def test_a_battletag_in_the_wrong_case_is_offered_never_switched(simulated: dict[str, str], kafka: Settings) -> None:
    proc = owstream(simulated, "fetch", "rook#33834")
    assert proc.returncode == 1
    assert "did you mean Rook#33834?" in proc.stderr
    assert stored(kafka, "rook-33834") == (0, 0, None) and stored(kafka, "Rook-33834") == (0, 0, None)
    again = owstream(simulated, "fetch", "rook#33834")  # answered from the store, the offer with it
    assert again.returncode == 1 and "did you mean Rook#33834?" in again.stderr
