"""The meta on the real broker: the meta service asks the simulator's /heroes/stats (over HTTP) for every
combination once per interval, the processor stores the answers, a restarted service does not ask again,
upstream trouble pauses it without stopping it, and `owstream meta` prints what OverFast answered."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from owstream.bus import Producer, TopicNames, read_all
from owstream.config import Settings
from owstream.domain.meta import combinations
from owstream.messages import codec, contracts
from owstream.overfast.client import OverFastClient
from owstream.services.meta import FIRST_BACKOFF, MetaService
from owstream.services.processor import Processor
from owstream.services.runner import in_background
from owstream.simulator import Simulator, SimulatorServer
from owstream.store import Store
from support.env import owstream_env
from support.pipeline import wait_for

pytestmark = pytest.mark.kafka

EVERY = len(combinations())  # 48 competitive + 6 quickplay + 3 role-filtered


@pytest.fixture
def sim() -> Iterator[tuple[Simulator, str]]:
    simulator = Simulator(seed=7, players=2)
    with SimulatorServer(simulator) as server:
        yield simulator, server.url


@pytest.fixture
def settings(kafka: Settings, sim: tuple[Simulator, str]) -> Settings:
    return kafka.replace(overfast_url=sim[1], rate_limit=500.0)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def requests_to_meta(sim: Simulator) -> int:
    return sum(sim.served.values())


def owstream(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "owstream.cli", *args],
        capture_output=True, text=True, env=owstream_env(settings), timeout=120, check=False,
    )  # fmt: skip


def test_every_combination_once_stored_and_printed_as_overfast_answered(settings: Settings, sim: Any) -> None:
    simulator, _ = sim
    store = Store.open(settings.resolved_store_url)
    producer = Producer(settings)
    clock = Clock()
    with in_background([Processor(settings, store)]), OverFastClient.from_settings(settings) as client:
        service = MetaService(settings, store, client=client, clock=clock)
        service.step(producer, client)
        assert service.published == EVERY == requests_to_meta(simulator) - service.heroes_asked
        assert service.heroes_asked == 1  # the hero catalogue, at start, stored by the service itself
        catalogue = store.heroes()
        assert catalogue["soldier-76"].name == "Soldier: 76" and catalogue["soldier-76"].role == "damage"
        assert catalogue["lucio"].name == "Lúcio" and catalogue["lucio"].portrait.endswith("/hero/lucio.svg")
        wait_for(lambda: len(store.hero_stats_fetched()) == EVERY, timeout=60)
        clock.now += 3599  # within OverFast's hour: nothing is asked again
        service.step(producer, client)
        restarted = MetaService(settings, store, client=client, clock=clock)  # knows only the store
        restarted.step(producer, client)
        asked = service.heroes_asked + restarted.heroes_asked
        assert service.published + restarted.published == EVERY == requests_to_meta(simulator) - asked
        clock.now += 1  # an hour on: every combination once more
        restarted.step(producer, client)
        assert restarted.published == EVERY
        wait_for(lambda: min(store.hero_stats_fetched().values()) == clock.now, timeout=60)
    producer.close()

    expected = json.loads(simulator.handle("GET", "/heroes/stats?platform=pc&gamemode=competitive&region=europe").body)
    stored = store.hero_stats("competitive", "pc", "europe")
    assert stored is not None and json.loads(stored.heroes) == expected
    gold = json.loads(
        simulator.handle(
            "GET", "/heroes/stats?platform=console&gamemode=competitive&region=asia&competitive_division=gold"
        ).body
    )
    store.close()

    proc = owstream(settings, "meta", "--json", "--platform", "console", "--region", "asia", "--division", "gold")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # one object: OverFast's rows as they came, with the combination
    assert data["heroes"] == gold
    assert (data["gamemode"], data["platform"], data["region"], data["division"]) == (
        "competitive",
        "console",
        "asia",
        "gold",
    )
    assert data["fetched_at"] == clock.now and data["cache_headers"]["x-cache-ttl"] == "3600"
    human = owstream(settings, "meta", "--gamemode", "quickplay")
    assert human.returncode == 0, human.stderr
    assert "Quickplay, PC, Europe" in human.stdout and "pick rate (%)" in human.stdout
    top = max(json.loads(simulator.handle("GET", "/heroes/stats?platform=pc&gamemode=quickplay&region=europe").body),
              key=lambda row: row["pickrate"])  # fmt: skip
    assert top["hero"] in human.stdout and str(top["pickrate"]) in human.stdout


def test_nothing_stored_yet_is_one_line_saying_how_to_get_it(settings: Settings) -> None:
    proc = owstream(settings, "meta")
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "no hero stats stored yet for Competitive, PC, Europe, all divisions" in lines[0]
    assert "owstream run meta" in lines[0] and "owstream up" in lines[0]


def test_a_restart_before_the_processor_stored_anything_reads_the_topic(settings: Settings, sim: Any) -> None:
    simulator, _ = sim
    store = Store.open(settings.resolved_store_url)  # no processor runs: the store stays empty
    first = MetaService(settings, store, tick=0.05)
    with in_background([first]):
        wait_for(lambda: first.published == EVERY, timeout=60)
    asked = requests_to_meta(simulator)
    assert store.hero_stats_fetched() == {}
    again = MetaService(settings, store)
    again.remember(again.published_lately())
    producer = Producer(settings)
    with OverFastClient.from_settings(settings) as client:
        again.step(producer, client)
    producer.close()
    store.close()
    assert again.published == 0 and requests_to_meta(simulator) == asked + again.heroes_asked


def test_upstream_trouble_pauses_the_pass_and_never_stops_the_service(settings: Settings, sim: Any) -> None:
    simulator, _ = sim
    store = Store.open(settings.resolved_store_url)
    producer = Producer(settings)
    clock = Clock()
    fault = lambda **body: simulator.handle("POST", "/_sim/faults", json.dumps(body).encode())  # noqa: E731
    with OverFastClient.from_settings(settings, max_attempts=2, sleep=lambda _s: None) as client:
        service = MetaService(settings, store, client=client, clock=clock)
        # Blizzard rate-limits OverFast for longer than the client waits: reported, the pass paused that long
        fault(status=503, count=1, retry_after=120)
        assert service.step(producer, client) <= service.tick
        assert service.published == 0 and requests_to_meta(simulator) == 1
        clock.now += 60
        service.step(producer, client)
        assert requests_to_meta(simulator) == 1  # still waiting it out
        clock.now += 61
        fault(status=504, count=2)  # Blizzard down: both attempts of the first request
        service.step(producer, client)
        assert service.published == 0 and requests_to_meta(simulator) == 3
        clock.now += 2 * FIRST_BACKOFF - 1  # the second pass in a row cut short: twice the first backoff
        service.step(producer, client)
        assert requests_to_meta(simulator) == 3
        clock.now += 1
        fault(garbage=1)  # one malformed answer: that combination waits for its next interval
        service.step(producer, client)
        assert service.published == EVERY - 1
        clock.now += 3600
        service.step(producer, client)
        assert service.published == 2 * EVERY - 1  # an hour on: all of them again, the bad one included
    producer.close()
    store.close()
    names = TopicNames(settings.topic_prefix)
    published = [codec.decode_hero_stats(r.value)[0] for batch in read_all(settings, names.hero_stats) for r in batch]
    assert len(published) == 2 * EVERY - 1
    assert len({(a.gamemode, a.platform, a.region, a.division, a.role) for a in published}) == EVERY


def test_the_processor_dead_letters_what_it_cannot_decode_and_stores_the_rest(settings: Settings) -> None:
    names = TopicNames(settings.topic_prefix)
    good = codec.wire_hero_stats(
        b'[{"hero":"ana","pickrate":12.5,"winrate":48.0}]',
        fetched_at=1.0, gamemode="competitive", platform="pc", region="europe", division="gold",
    )  # fmt: skip
    over = codec.encode(good).replace(b"12.5", b"120.5")  # a pick rate above 100 %
    producer = Producer(settings)
    for value in (b"{not json", over, codec.encode(good)):  # the bad ones without schema header: not ours
        headers = contracts.HERO_STATS.headers if value == codec.encode(good) else None
        producer.send(names.hero_stats, value, key="competitive.pc.europe.gold.all", headers=headers)
    producer.flush()
    producer.close()
    store = Store.open(settings.resolved_store_url)
    processor = Processor(settings, store)
    with in_background([processor]):
        wait_for(lambda: store.hero_stats("competitive", "pc", "europe", "gold") is not None, timeout=60)
        wait_for(lambda: processor.dead == 2, timeout=60)
    letters = [codec.decode_as(r.value, dict) for batch in read_all(settings, names.dead_letter) for r in batch]
    assert sorted(letter["source_offset"] for letter in letters) == [0, 1]
    assert any("heroes[0].pickrate" in letter["error"] for letter in letters)
    stored = store.hero_stats("competitive", "pc", "europe", "gold")
    assert stored is not None and stored.heroes == b'[{"hero":"ana","pickrate":12.5,"winrate":48.0}]'
    store.close()
