"""Fetcher, processor and scheduler as services on the real broker, against the simulator."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from owstream.bus import Consumer, Producer, TopicNames
from owstream.config import Settings
from owstream.messages import codec
from owstream.messages.models import DeadLetter, FetchRequest
from owstream.services.fetcher import Fetcher
from owstream.services.processor import Processor
from owstream.services.runner import in_background
from owstream.services.scheduler import Scheduler
from owstream.simulator import Simulator, SimulatorServer
from owstream.store import Store, schema
from support.pipeline import recorded_json, request_and_wait, wait_for
from support.results import encoded, replace, result

pytestmark = pytest.mark.kafka


@pytest.fixture
def sim() -> Iterator[tuple[Simulator, str]]:
    simulator = Simulator(seed=7)
    with SimulatorServer(simulator) as server:
        yield simulator, server.url


@pytest.fixture
def settings(kafka: Settings, sim: tuple[Simulator, str]) -> Settings:
    return kafka.replace(overfast_url=sim[1], rate_limit=100.0)


def _drain(settings: Settings, topic: str, want: int, group: str = "test-drain") -> list[Any]:
    consumer = Consumer(settings, f"{settings.topic_prefix}.{group}", [topic])
    got: list[Any] = []
    try:
        wait_for(lambda: got.extend(consumer.poll_batch(100, 0.5)) or len(got) >= want, timeout=60)
    finally:
        consumer.close()
    return got


def test_two_fetchers_in_one_group_share_the_work_without_doubles(settings: Settings, sim: Any) -> None:
    simulator, _ = sim
    players = simulator.player_ids()
    names = TopicNames(settings.topic_prefix)
    # two instances: two transactional ids (the same one would fence the other, as it should)
    first, second = Fetcher(settings.replace(instance_id="a")), Fetcher(settings.replace(instance_id="b"))
    with in_background([first, second]):
        # both members must hold partitions before the work arrives
        wait_for(lambda: first.assigned and second.assigned and len(first.assigned | second.assigned) == 3)
        producer = Producer(settings)
        for pid in players:
            producer.send(names.fetch_requests, codec.encode(FetchRequest(player_id=pid)), key=pid)
        producer.flush()
        results = [codec.decode_result(r.value) for r in _drain(settings, names.fetch_results, len(players))]
        assert first.fetched + second.fetched == len(players)
    assert sorted(r.player_id for r in results) == sorted(players)
    assert first.fetched > 0 and second.fetched > 0


def test_sessions_across_three_refreshes_match_the_simulators_record(settings: Settings, sim: Any) -> None:
    simulator, _ = sim
    pid = next(p for p in simulator.player_ids() if p not in simulator.private_player_ids())
    store = Store.open(settings.resolved_store_url)
    with in_background([Fetcher(settings), Processor(settings, store)]):
        assert request_and_wait(settings, pid).outcome == "ok"
        for _ in range(3):
            simulator.advance(pid)
            assert request_and_wait(settings, pid, force=True).outcome == "ok"
    expected: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry in simulator.history(pid):
        row = expected[(entry["refresh"], entry["gamemode"])]
        row[0] += entry["games"]
        row[1] += entry["wins"]
        row[2] += entry["losses"]
    sessions = schema.sessions
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(sessions.c.gamemode, sessions.c.games, sessions.c.wins, sessions.c.losses, sessions.c.is_reset)
            .where(sessions.c.player_id == pid)
            .order_by(sessions.c.to_snapshot_id, sessions.c.gamemode)
        ).all()
    store.close()
    refreshes = sorted({refresh for refresh, _ in expected})
    assert len(refreshes) == 3
    want = [(mode, *expected[(r, mode)]) for r in refreshes for mode in sorted(m for rr, m in expected if rr == r)]
    assert [(m, g, w, lo) for m, g, w, lo, _ in rows] == want
    assert not any(reset for *_, reset in rows)


def test_poison_messages_go_to_the_dead_letter_topic_and_the_rest_is_stored(settings: Settings) -> None:
    names = TopicNames(settings.topic_prefix)
    good = result(
        result_id="good",
        request_ids=["r1"],
        player_id="TeKrop-2217",
        fetched_at=time.time(),
        outcome="ok",
        summary=recorded_json("players_TeKrop-2217_summary.json"),
        stats={"competitive": recorded_json("players_TeKrop-2217_stats_summary_competitive.json")},
    )
    unnormalisable = replace(good, result_id="bad-shape", stats={"competitive": {"general": 42}})
    producer = Producer(settings)
    producer.send(names.fetch_results, b"\x00garbage", key="TeKrop-2217")
    producer.send(names.fetch_results, encoded(unnormalisable), key="TeKrop-2217")
    producer.send(names.fetch_results, encoded(good), key="TeKrop-2217")
    producer.send(names.fetch_requests, b'{"player_id": 7}', key="x")
    producer.flush()

    store = Store.open(settings.resolved_store_url)
    processor = Processor(settings, store)
    with in_background([processor, Fetcher(settings)]):
        wait_for(lambda: store.request_status("r1"))
        dead = _drain(settings, names.dead_letter, 3)
    report = store.player_report("TeKrop-2217")
    store.close()
    assert report is not None
    assert (
        report["gamemodes"]["competitive"]["overall"]["games_played"]
        == good.stats["competitive"]["general"]["games_played"]
    )
    assert processor.dead == 2
    letters = [codec.decode_as(r.value, DeadLetter) for r in dead]
    by_value = {letter.value: letter for letter in letters}
    assert set(by_value) == {"\x00garbage", encoded(unnormalisable).decode(), '{"player_id": 7}'}
    garbage = by_value["\x00garbage"]
    assert (garbage.source_topic, garbage.service, garbage.value_bytes) == (names.fetch_results, "processor", 8)
    assert garbage.error.startswith("not a FetchResult")
    assert by_value['{"player_id": 7}'].service == "fetcher"
    assert "player_id: expected `str`, got `int`" in by_value['{"player_id": 7}'].error
    shape = by_value[encoded(unnormalisable).decode()]
    assert shape.source_offset == 1 and "stats.competitive.general: expected `object | null`, got `int`" in shape.error
    assert all(r.headers["schema"] == b"dead-letter/1" for r in dead)


def test_scheduler_requests_watchlist_players_once_per_interval(settings: Settings, sim: Any) -> None:
    simulator, _ = sim
    watched = simulator.player_ids()[:2]
    store = Store.open(settings.resolved_store_url)
    for pid in watched:
        store.watch_add(pid, time.time())
    scheduler = Scheduler(settings.replace(refresh_interval=600, refresh_adaptive=False), store)
    producer = Producer(settings)
    with in_background([Fetcher(settings), Processor(settings, store)]):
        assert sorted(scheduler.step(producer)) == sorted(watched)
        wait_for(lambda: all(e.last_fetched_at for e in store.watchlist()), timeout=60)
        assert scheduler.step(producer) == []  # fetched just now: not due for 10 minutes
    assert sorted(scheduler.due(time.time() + 601)) == sorted(watched)  # due again once the interval has passed
    # adaptive (the default): the public simulated player last played weeks ago, so it is refreshed hourly; the
    # private one's last play is not known: every 10 minutes
    adaptive = Scheduler(settings.replace(refresh_interval=600), store)
    private = [pid for pid in watched if pid in simulator.private_player_ids()]
    assert private and adaptive.due(time.time() + 601) == private
    assert sorted(adaptive.due(time.time() + 3601)) == sorted(watched)
    store.close()
