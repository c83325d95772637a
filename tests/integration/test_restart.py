"""The processor across a broker killed with SIGKILL, on a private broker and a machine kept busy (spinning
processes, load >= 7 on 2 cores, as on the CI machine where a restart once failed), with messages in flight:
the processor between its batches (more results waiting than one batch takes) and a producer's messages not
yet acknowledged when the JVM dies. Afterwards every result is stored once, every request's ``fetch_stored``
event is visible exactly once (the transactions), every offset is committed."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import confluent_kafka as ck
import pytest
from sqlalchemy import func, select

from owstream.bus import Admin, Producer, TopicNames, read_all
from owstream.config import Settings
from owstream.localkafka import LocalBroker, free_port
from owstream.localkafka.jars import ensure_jars, jars_dir
from owstream.messages import codec
from owstream.runtime.kafka import ensure_kafka
from owstream.services.processor import SERVICE, Processor
from owstream.services.runner import in_background
from owstream.store import Store, schema
from support.contracts import check_broker
from support.pipeline import recorded_json, wait_for
from support.results import Result, encoded, result

pytestmark = pytest.mark.kafka

PLAYERS = 5
FIRST, LAST = 1200, 1240  # results before the kill (over two batches of 500), and all of them


@pytest.fixture
def own_broker(tmp_path: Path, jar_home: Path) -> Iterator[Settings]:
    ensure_jars(jar_home)
    (tmp_path / "home" / "kafka" / "jars").mkdir(parents=True)
    jars_dir(tmp_path / "home").symlink_to(jars_dir(jar_home), target_is_directory=True)
    settings = Settings(
        home=tmp_path / "home", kafka_port=free_port(), kafka_controller_port=free_port(),
        store_url=f"sqlite:///{tmp_path / 'store.db'}", topic_prefix="restart",
    )  # fmt: skip
    broker = LocalBroker(settings)
    broker.start()
    try:
        yield settings
        check_broker(settings)
    finally:
        broker.stop()


def _results(first: int, last: int) -> list[Result]:
    summary = recorded_json("players_KIRIKO-12460_summary.json")
    stats = {"quickplay": recorded_json("players_KIRIKO-12460_stats_summary_quickplay_all.json")}
    return [
        result(
            result_id=f"r{i}",
            request_ids=[f"q{i}"],
            player_id=f"Player{i % PLAYERS}-1000",
            fetched_at=1_000.0 + i,
            outcome="ok",
            summary=summary,
            stats=stats,
        )
        for i in range(first, last)
    ]


def _send(settings: Settings, results: list[Result]) -> None:
    producer = Producer(settings)
    for item in results:
        producer.send(TopicNames(settings.topic_prefix).fetch_results, encoded(item), key=item.player_id)
    producer.close()


def _stored(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.raw_results)).scalar_one())


def _kill_broker(settings: Settings) -> None:
    """SIGKILL the broker's JVM: no shutdown, no flush, no leadership handed over."""
    state = LocalBroker(settings).state()
    assert state is not None
    os.kill(state.pid, signal.SIGKILL)
    wait_for(lambda: not state.nodes[0].running, timeout=30)


def test_a_broker_killed_mid_batch_and_mid_produce_loses_nothing_and_stores_nothing_twice(
    own_broker: Settings, busy_machine: list[int]
) -> None:
    settings = own_broker
    names = ensure_kafka(settings, start_local=False)
    _send(settings, _results(0, FIRST))  # more than one batch of the processor's
    store = Store.open(settings.resolved_store_url)
    processor = Processor(settings, store)
    # a producer of the test's own, whose queue shows what the broker has not acknowledged yet
    sender = ck.Producer({"bootstrap.servers": settings.bootstrap_servers, "enable.idempotence": True, "acks": "all"})
    with in_background([processor]) as died:
        wait_for(lambda: _stored(store) > 0, timeout=60, interval=0.005)  # the processor is between batches
        for item in _results(FIRST, LAST):
            sender.produce(names.fetch_results, encoded(item), key=item.player_id)
        in_flight = len(sender)
        _kill_broker(settings)
        stored_at_kill = _stored(store)
        assert in_flight > 0 and stored_at_kill < FIRST, (in_flight, stored_at_kill)  # the kill hit its window
        LocalBroker(settings).start()  # the same home: topics, results and committed offsets survive
        assert sender.flush(120) == 0  # the idempotent producer delivers what was in flight, once

        def announced() -> list[str]:
            events = [codec.decode_event(r.value) for batch in read_all(settings, names.player_events) for r in batch]
            return [str(e.request_id) for e in events if e.type == "fetch_stored"]

        # the batch that was in flight when the broker died is read and announced again: wait for it
        wait_for(lambda: set(announced()) == {f"q{i}" for i in range(LAST)}, timeout=180, interval=0.5)
        assert not died()
    assert _stored(store) == LAST
    store.close()
    assert sorted(announced()) == sorted(f"q{i}" for i in range(LAST))  # each visible once: none lost, none twice

    admin = Admin(settings)
    try:
        ends = {
            (names.fetch_results, p.partition): p.end_offset
            for topic in admin.topics([names.fetch_results])
            for p in topic.partitions
            if p.end_offset > 0
        }
        assert admin.committed(names.group(SERVICE)) == ends  # the processor left nothing to re-read
    finally:
        admin.close()
