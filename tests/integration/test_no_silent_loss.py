"""Nothing vanishes in silence: a store file removed under a running processor stops it before it announces
what no file keeps (and a restart on the new empty file names ``owstream replay``); a request that waited
longer than the fetchers serve is answered ``expired`` (stored, announced, asked again by the scheduler); a
request read twice is listed once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from owstream.bus import Producer, TopicNames, Topics, read_all
from owstream.config import Settings
from owstream.domain.outcomes import outcome_wording
from owstream.errors import StoreLost
from owstream.messages.models import FetchRequest
from owstream.services.fetcher import Fetcher
from owstream.services.processor import Processor
from owstream.services.runner import in_background
from owstream.services.scheduler import Scheduler
from owstream.simulator import Simulator, SimulatorServer
from owstream.store import Store
from support.pipeline import recorded_json, wait_for
from support.results import encoded, result

pytestmark = pytest.mark.kafka


@pytest.fixture
def sim() -> Iterator[tuple[Simulator, str]]:
    simulator = Simulator(seed=7)
    with SimulatorServer(simulator) as server:
        yield simulator, server.url


def _results(settings: Settings, first: int, last: int) -> None:
    summary = recorded_json("players_KIRIKO-12460_summary.json")
    producer = Producer(settings)
    for i in range(first, last):
        item = result(
            result_id=f"r{i}", request_ids=[f"q{i}"], player_id=f"Player{i % 3}-1000", fetched_at=1_000.0 + i,
            outcome="private", summary=summary,
        )  # fmt: skip
        producer.send(TopicNames(settings.topic_prefix).fetch_results, encoded(item), key=item.player_id)
    producer.flush_or_raise(30)
    producer.close()


def _stored_events(settings: Settings) -> list[Any]:
    topic = Topics(settings.topic_prefix).player_events
    events = [topic.read(r) for batch in read_all(settings, topic.name) for r in batch]
    return [e for e in events if e.type == "fetch_stored"]


def _store_file(settings: Settings) -> Path:
    return Path(settings.resolved_store_url.removeprefix("sqlite:///"))


def test_a_store_file_removed_under_the_processor_stops_it_before_it_announces_and_names_replay(
    kafka: Settings,
) -> None:
    settings = kafka
    store = Store.open(settings.resolved_store_url)
    processor = Processor(settings, store)
    with in_background([processor]) as died:
        _results(settings, 0, 5)
        wait_for(lambda: store.request_status("q4"), timeout=60)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{_store_file(settings)}{suffix}").unlink(missing_ok=True)
        _results(settings, 5, 10)
        errors = wait_for(died, timeout=60)
    assert len(errors) == 1 and isinstance(errors[0], StoreLost)
    assert "was removed" in str(errors[0]) and "owstream replay" in str(errors[0])
    announced = sorted(str(e.request_id) for e in _stored_events(settings))
    assert announced == [f"q{i}" for i in range(5)]  # none of what went to the removed file
    store.close()

    restarted = Processor(settings, Store.open(settings.resolved_store_url))  # a new, empty file at the path
    with pytest.raises(StoreLost, match=r"holds no result, but the processor group already took 5 .*owstream replay"):
        restarted.run(threading.Event())
    restarted.store.close()


def test_a_request_older_than_the_ttl_is_answered_expired_stored_and_announced(kafka: Settings, sim: Any) -> None:
    simulator, url = sim
    settings = kafka.replace(overfast_url=url, rate_limit=100.0)
    player = simulator.player_ids()[0]
    store = Store.open(settings.resolved_store_url)
    old = FetchRequest(player_id=player, request_id="old", requested_at=time.time() - 3600)
    fresh = FetchRequest(player_id=player, request_id="fresh", requested_at=time.time())
    topic = Topics(settings.topic_prefix).fetch_requests
    producer = Producer(settings)
    for request in (old, fresh, fresh):  # "fresh" read twice: listed once
        message = topic.message(request, key=player)
        producer.publish(message)
    producer.flush_or_raise(30)
    with in_background([Fetcher(settings, request_ttl=600), Processor(settings, store)]) as died:
        wait_for(lambda: store.request_status("old") and store.request_status("fresh"), timeout=60)
        assert not died()
    expired = store.request_status("old")
    assert expired is not None and expired.outcome == "expired" and "waited 60 min" in (expired.error or "")
    assert store.request_status("fresh").outcome == "ok"  # type: ignore[union-attr]
    outcomes = {str(e.request_id): e.data.outcome for e in _stored_events(settings)}
    assert outcomes == {"old": "expired", "fresh": "ok"}
    results = [
        Topics(settings.topic_prefix).fetch_results.read(r)
        for batch in read_all(settings, topic.name.replace("fetch-requests", "fetch-results"))
        for r in batch
    ]
    assert sorted(r.request_ids for r in results) == [["fresh"], ["old"]]  # each request listed once
    store.close()
    wording = outcome_wording(player, "expired", error=expired.error)
    assert wording.failed and "Ask again" in wording.text


def test_the_scheduler_asks_again_for_a_request_answered_expired(kafka: Settings, sim: Any) -> None:
    simulator, url = sim
    settings = kafka.replace(overfast_url=url, rate_limit=100.0, refresh_interval=600)
    player = simulator.player_ids()[0]
    store = Store.open(settings.resolved_store_url)
    store.watch_add(player, time.time())
    scheduler = Scheduler(settings, store)
    producer = Producer(settings)
    # a fetcher that serves nothing in time (its ttl below any wait): every request it reads expires
    with in_background([Fetcher(settings, request_ttl=-1.0), Processor(settings, store)]):
        assert scheduler.step(producer) == [player]
        wait_for(lambda: any(e.data.outcome == "expired" for e in _stored_events(settings)), timeout=60)
        assert scheduler.step(producer) == [player]  # asked again, not 10 minutes later
    producer.close()
    store.close()


def test_a_locked_store_pauses_the_processor_partitions_and_keeps_it_in_its_group(kafka: Settings) -> None:
    """The store locked longer than the group's max.poll.interval.ms: the kernel pauses the partitions and
    keeps polling between tries, so the member is never dropped from its group; once the lock goes, every
    result is stored and announced once."""
    settings = kafka
    store = Store.open(settings.resolved_store_url)
    processor = Processor(settings, store)
    stop = threading.Event()
    stream = processor.make_stream(stop)
    stream.consumer_config = {"max.poll.interval.ms": 35_000}  # above SQLite's 30 s busy timeout, below the lock
    runner = threading.Thread(target=stream.run, daemon=True)
    runner.start()
    held: list[frozenset[tuple[str, int]]] = []
    watching = threading.Event()

    def watch() -> None:
        while not watching.wait(0.2):
            held.append(processor.assigned)

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        _results(settings, 0, 3)
        wait_for(lambda: store.request_status("q2"), timeout=60)
        full = processor.assigned
        watcher.start()
        locker = create_engine(settings.resolved_store_url)
        with locker.connect() as conn:
            conn.exec_driver_sql("BEGIN EXCLUSIVE")
            _results(settings, 3, 9)
            wait_for(lambda: stream.paused, timeout=60)  # the processor met the lock: partitions paused
            time.sleep(70)  # the lock held past max.poll.interval.ms: what is tested is the group over this time
            conn.exec_driver_sql("ROLLBACK")
        locker.dispose()
        every = [f"q{i}" for i in range(9)]
        wait_for(lambda: sorted(str(e.request_id) for e in _stored_events(settings)) == every, timeout=120)
        assert not stream.paused
    finally:
        watching.set()
        stop.set()
        runner.join(30)
    assert full and all(now == full for now in held), "the member lost its partitions while the store was locked"
    announced = sorted(str(e.request_id) for e in _stored_events(settings))
    assert announced == [f"q{i}" for i in range(9)]
    store.close()
