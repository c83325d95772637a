"""The stream kernel against a broker frozen mid-transaction (SIGSTOP: its connections stay open, nothing
answers, librdkafka's calls time out as after the broker restart that kept a fetcher stuck for 10 minutes),
on a private broker and a machine kept busy: the producer is renewed once an operation stays stuck past its
total deadline, every record's output is visible exactly once after the broker continues, and a stop ends
every wait at once."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from owstream.bus import Outgoing, Output, Producer, Record, Stream, TopicNames, Topics, TransactionalProducer, read_all
from owstream.config import Settings
from owstream.errors import KafkaUnavailable
from owstream.localkafka import LocalBroker, free_port
from owstream.localkafka.jars import ensure_jars, jars_dir
from owstream.runtime.kafka import ensure_kafka
from support.pipeline import wait_for

pytestmark = pytest.mark.kafka


class Frozen:
    """A broker that can be frozen (SIGSTOP of its process group) and continued; always continued at the end."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.broker = LocalBroker(settings)
        self.pgid = self.broker.start().pid
        self.frozen = False

    def freeze(self) -> None:
        os.killpg(self.pgid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        if self.frozen:
            os.killpg(self.pgid, signal.SIGCONT)
            self.frozen = False

    def stop(self) -> None:
        self.thaw()
        self.broker.stop()


@pytest.fixture
def frozen_broker(tmp_path: Path, jar_home: Path) -> Iterator[Frozen]:
    ensure_jars(jar_home)
    (tmp_path / "home" / "kafka" / "jars").mkdir(parents=True)
    jars_dir(tmp_path / "home").symlink_to(jars_dir(jar_home), target_is_directory=True)
    settings = Settings(
        home=tmp_path / "home", kafka_port=free_port(), kafka_controller_port=free_port(),
        store_url=f"sqlite:///{tmp_path / 'store.db'}", topic_prefix="stuck", kafka_partitions=1,
    )  # fmt: skip
    broker = Frozen(settings)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def quick_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The producer's bounds shortened so that a test sees them pass in seconds, not minutes."""
    monkeypatch.setattr(TransactionalProducer, "CALL_LIMIT", 4.0)
    monkeypatch.setattr(TransactionalProducer, "STUCK_AFTER", 6.0)


def _send(settings: Settings, count: int, start: int = 0, *, wait: bool = True) -> Producer:
    """Send ``count`` values; ``wait=False``: without waiting for the broker's acknowledgements (the caller
    flushes later: the broker may be frozen by then, before it has acknowledged them all)."""
    producer = Producer(settings)
    for i in range(start, start + count):
        producer.send(TopicNames(settings.topic_prefix).fetch_requests, f"v{i}".encode(), key=f"k{i % 3}")
    if wait:
        producer.flush_or_raise(30)
        producer.close()
    return producer


def _echo(settings: Settings, freeze_on: bytes, broker: Frozen) -> tuple[Stream, threading.Event, list[int]]:
    """A stream that copies each fetch request's value to fetch-results; it freezes the broker after handling
    the batch that holds the value ``freeze_on``, before that batch's transaction (chosen by content, not by
    count: on a busy machine the batches' boundaries are not known in advance)."""
    stop = threading.Event()
    batches: list[int] = []
    target = Topics(settings.topic_prefix).fetch_results.name

    def handle(records: list[Record]) -> Output:
        batches.append(len(records))
        if any(r.value == freeze_on for r in records):
            broker.freeze()  # the produce and the commit of this batch meet a broker that answers nothing
        return Output(messages=[Outgoing(target, r.value, r.key, []) for r in records])

    topics = Topics(settings.topic_prefix)
    return Stream(settings, "echo", [topics.fetch_requests], handle, stop=stop, batch_size=5), stop, batches


def _outputs(settings: Settings) -> list[bytes]:
    """What a read_committed reader sees on the results topic now; nothing while a thawed broker still reloads
    its partitions (librdkafka answers "unknown partition" for a moment: the reader asks again)."""
    try:
        return [r.value for batch in read_all(settings, TopicNames(settings.topic_prefix).fetch_results) for r in batch]
    except KafkaUnavailable:
        return []


def test_a_commit_stuck_on_a_frozen_broker_renews_the_producer_and_every_output_is_visible_once(
    frozen_broker: Frozen, quick_bounds: None, busy_machine: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TransactionalProducer, "CALL_LIMIT", 12.0)  # a hung call outlasts the session timeout
    settings = frozen_broker.settings
    ensure_kafka(settings, start_local=False)
    stream, stop, _batches = _echo(settings, freeze_on=b"v5", broker=frozen_broker)
    runner = threading.Thread(target=stream.run, daemon=True)
    runner.start()
    try:
        _send(settings, 5)
        wait_for(lambda: stream.batches >= 1, timeout=60)
        # the batch holding v5 is the one frozen mid-transaction (maybe before the broker acknowledged v6-v14)
        sender = _send(settings, 10, start=5, wait=False)
        wait_for(lambda: frozen_broker.frozen, timeout=60)
        # stuck past its bound: renewed, not looping for ever (the broker stays frozen until then); the call
        # hung past the group's session timeout (10 s) too: the member lost its partitions while it paused them
        # between two tries, and must get them back unpaused
        wait_for(lambda: stream.producer is not None and stream.producer.renewals >= 1, timeout=60)
        frozen_broker.thaw()
        sender.flush_or_raise(60)
        sender.close()
        expected = sorted(f"v{i}".encode() for i in range(15))
        wait_for(lambda: sorted(set(_outputs(settings))) == expected, timeout=120, interval=1.0)
        assert sorted(_outputs(settings)) == expected  # every output visible once, none twice
        assert runner.is_alive()
    finally:
        frozen_broker.thaw()
        stop.set()
        runner.join(30)
    assert not runner.is_alive()


def test_a_stop_ends_a_transaction_stuck_on_a_frozen_broker_at_once(frozen_broker: Frozen) -> None:
    settings = frozen_broker.settings
    ensure_kafka(settings, start_local=False)
    stream, stop, batches = _echo(settings, freeze_on=b"v0", broker=frozen_broker)
    runner = threading.Thread(target=stream.run, daemon=True)
    runner.start()
    try:
        _send(settings, 5)
        wait_for(lambda: frozen_broker.frozen and batches, timeout=60)  # the batch handled, its commit waiting
        asked = time.monotonic()
        stop.set()
        runner.join(Stream.CLOSE_LIMIT + 5)
        took = time.monotonic() - asked
    finally:
        frozen_broker.thaw()
    assert not runner.is_alive(), "the stream did not stop while its broker was frozen"
    assert took < Stream.CLOSE_LIMIT + 5
    assert stream.batches == 0  # nothing committed: the next instance reads the batch again


def test_a_batch_read_again_after_its_commit_is_not_handled_twice(frozen_broker: Frozen) -> None:
    """A group that forgot this member while the broker was away hands its partitions back from the offsets
    it fetched before the member's last commit: the records of that commit come again. They are skipped."""
    settings = frozen_broker.settings
    ensure_kafka(settings, start_local=False)
    handled: list[Record] = []
    target = Topics(settings.topic_prefix).fetch_results.name

    def handle(records: list[Record]) -> Output:
        handled.extend(records)
        return Output(messages=[Outgoing(target, r.value, r.key, []) for r in records])

    stream = Stream(settings, "again", [Topics(settings.topic_prefix).fetch_requests], handle, stop=threading.Event())
    stream.open()
    try:
        _send(settings, 5)
        wait_for(lambda: stream.step() >= 0 and len(handled) >= 5, timeout=60, interval=0.01)
        assert stream.consumer is not None
        stream.consumer.rewind(list(handled))  # the position the group would hand back: before the commit
        _send(settings, 2, start=5)
        wait_for(lambda: stream.step() >= 0 and any(r.value == b"v6" for r in handled), timeout=60, interval=0.01)
    finally:
        stream.close()
    assert sorted(r.value for r in handled) == sorted(f"v{i}".encode() for i in range(7))  # each handled once
    assert sorted(_outputs(settings)) == sorted(f"v{i}".encode() for i in range(7))  # and visible once
