"""``OverFastClient.hero_stats``: the recorded real answer handed on as it came, the query OverFast expects,
and every failure mapped like the other endpoints (replay server and simulator over HTTP)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from owstream.errors import ClientBug, MalformedResponse, UpstreamBusy
from owstream.overfast import OverFastClient, RateLimiter
from owstream.simulator import Simulator, SimulatorServer
from support.replay_server import RESPONSES, ReplayServer, Reply, recorded

RECORDED = "heroes_stats_console_competitive_europe_master.json"
MASTER = "/heroes/stats?platform=console&gamemode=competitive&region=europe&competitive_division=master"


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


def client(url: str, sleeps: list[float], **options: Any) -> OverFastClient:
    settings: dict[str, Any] = {
        "rate_limit": 10_000,
        "timeout": 5.0,
        "max_attempts": 3,
        "max_backoff": 60.0,
        "limiter": RateLimiter(10_000, burst=10_000),
        "sleep": sleeps.append,
        "rng": random.Random(3),
    }
    return OverFastClient(url, **(settings | options))


def test_the_recorded_answer_is_handed_on_as_it_came(replay: ReplayServer) -> None:
    replay.script(MASTER, [recorded(RECORDED)])
    with client(replay.url, []) as api:
        answer = api.hero_stats("console", "competitive", "europe", "master")
    assert answer.body == (RESPONSES / RECORDED).read_bytes()
    assert answer.status == 200
    assert answer.cache_headers["x-cache-ttl"] == "3600"
    assert answer.cache_headers["cache-control"] == "public, max-age=3600"
    rows = json.loads(answer.body)
    assert [(r.hero, r.pickrate, r.winrate) for r in answer.checked] == [
        (r["hero"], r["pickrate"], r["winrate"]) for r in rows
    ]
    assert replay.count(MASTER) == 1


def test_the_query_names_only_what_is_filtered(replay: ReplayServer) -> None:
    replay.script("/heroes/stats?platform=pc&gamemode=quickplay&region=asia", [Reply.json(200, [])])
    replay.script("/heroes/stats?platform=pc&gamemode=competitive&region=asia&role=tank", [Reply.json(200, [])])
    with client(replay.url, []) as api:
        assert api.hero_stats("pc", "quickplay", "asia").checked == []
        assert api.hero_stats("pc", "competitive", "asia", role="tank").checked == []
    assert replay.requests == [
        "/heroes/stats?gamemode=quickplay&platform=pc&region=asia",
        "/heroes/stats?gamemode=competitive&platform=pc&region=asia&role=tank",
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"hero": "ana", "pickrate": 1.0, "winrate": 50.0},  # an object, not an array
        [{"hero": "ana", "pickrate": 101.0, "winrate": 50.0}],  # more than 100 %
        [{"hero": "Ana Amari", "pickrate": 1.0, "winrate": 50.0}],  # not a hero key
        [{"hero": "ana", "winrate": 50.0}],  # no pick rate
    ],
    ids=["object", "over-100", "bad-key", "missing"],
)
def test_a_malformed_answer_is_refused(replay: ReplayServer, body: Any) -> None:
    replay.script(MASTER, [Reply.json(200, body)])
    with client(replay.url, []) as api, pytest.raises(MalformedResponse) as caught:
        api.hero_stats("console", "competitive", "europe", "master")
    assert "/heroes/stats" in str(caught.value)
    assert replay.count(MASTER) == 1  # not retried


def test_new_fields_and_new_heroes_are_kept(replay: ReplayServer) -> None:
    rows = [{"hero": "brand-new-hero", "pickrate": 3.5, "winrate": 51.25, "bans": 2}]
    replay.script(MASTER, [Reply.json(200, rows)])
    with client(replay.url, []) as api:
        answer = api.hero_stats("console", "competitive", "europe", "master")
    assert json.loads(answer.body) == rows
    assert answer.checked[0].hero == "brand-new-hero"


def test_simulator_422_busy_and_recovery() -> None:
    sim = Simulator(seed=8, players=2)
    sleeps: list[float] = []
    with SimulatorServer(sim) as server, client(server.url, sleeps) as api:
        with pytest.raises(ClientBug) as bug:
            api.hero_stats("pc", "competitive", "europe", "ultimate")  # OverFast's filter stops at grandmaster
        assert bug.value.status == 422 and "competitive_division" in str(bug.value)
        sim.handle("POST", "/_sim/faults", json.dumps({"status": 503, "count": 1, "retry_after": 2}).encode())
        answer = api.hero_stats("pc", "competitive", "europe", "gold")
        assert sleeps == [2.0] and answer.checked
        sim.handle("POST", "/_sim/faults", json.dumps({"status": 429, "count": 3}).encode())
        with pytest.raises(UpstreamBusy) as busy:
            api.hero_stats("pc", "competitive", "europe")
        assert (busy.value.status, busy.value.retry_after) == (429, 1.0)
