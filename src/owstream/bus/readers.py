"""Reading ranges of a topic outside any consumer group (nothing committed): replay, the dashboard's newest
messages, and following a request's events from the end of player-events."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import confluent_kafka as ck

from owstream.bus.client import Record, client_config, record_of
from owstream.config import Settings
from owstream.errors import BusError, KafkaUnavailable

IDLE = 2.0  # seconds without a message after which a range read counts as done


def _reader(settings: Settings, purpose: str) -> Any:
    """A consumer outside any group that commits nothing, reading committed messages only."""
    conf = client_config(settings) | {
        "group.id": f"owstream-{purpose}-{time.time_ns()}",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "fetch.wait.max.ms": 50,
    }
    return ck.Consumer(conf)


def _watermarks(consumer: Any, settings: Settings, topic: str, timeout: float) -> dict[int, tuple[int, int]]:
    """(first, end) offset of each partition of ``topic``; BusError if it does not exist."""
    try:
        meta = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
        if meta is None or meta.error is not None:
            raise BusError(f"topic {topic} does not exist")
        return {
            p: consumer.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=timeout) for p in meta.partitions
        }
    except ck.KafkaException as exc:
        raise KafkaUnavailable(f"Kafka is not reachable at {settings.bootstrap_servers}: {exc.args[0]}") from exc


def _arrived(consumer: Any, timeout: float, most: int) -> list[Any]:
    """Wait up to ``timeout`` for one message, then take what has already arrived (at most ``most``)."""
    first = consumer.poll(timeout)
    if first is None:
        return []
    return [first, *consumer.consume(num_messages=most - 1, timeout=0)]


class TailReader:
    """Reads a topic from its current end (no group, nothing committed): for watching events."""

    def __init__(self, settings: Settings, topic: str, *, timeout: float = 10.0) -> None:
        self._consumer = _reader(settings, "tail")
        try:
            marks = _watermarks(self._consumer, settings, topic, timeout)
        except BusError:
            self._consumer.close()
            raise
        self._consumer.assign([ck.TopicPartition(topic, p, high) for p, (_low, high) in marks.items()])

    def poll(self, timeout: float = 0.5) -> list[Record]:
        """The messages that arrived, as soon as there is one (waiting at most ``timeout``)."""
        return [record_of(m) for m in _arrived(self._consumer, timeout, 100) if m.error() is None]

    def close(self) -> None:
        self._consumer.close()


def _read_range(
    settings: Settings,
    topic: str,
    first: Callable[[int, int], int],
    *,
    timeout: float,
    deadline: float | None = None,
) -> Iterator[list[Record]]:
    """Batches of each partition's messages from ``first(start, end)`` up to its end offset at the time
    of the call (later messages are left out), until every partition is read or ``deadline`` passes.
    A partition's last offsets may be transaction markers or aborted messages, never returned to a
    read_committed reader: a partition is done when its position reaches its end, or when nothing arrived
    for IDLE seconds of waiting on the broker (what is left can only be such records); a caller slow with a
    batch (a replay into a busy store) stops nothing."""
    consumer = _reader(settings, "range")
    try:
        marks = _watermarks(consumer, settings, topic, timeout)
        ends = {p: high for p, (low, high) in marks.items() if high > low}
        consumer.assign(
            [ck.TopicPartition(topic, p, first(low, high)) for p, (low, high) in marks.items() if high > low]
        )
        quiet_since = time.monotonic()
        while ends and (deadline is None or time.monotonic() < deadline):
            if time.monotonic() - quiet_since > IDLE:
                break
            batch = []
            for msg in _arrived(consumer, 0.2, 1000):
                if msg.error() is not None:
                    continue
                rec = record_of(msg)
                end = ends.get(rec.partition)
                if end is None or rec.offset >= end:
                    continue
                batch.append(rec)
            if batch:
                yield batch
                quiet_since = time.monotonic()  # the caller's time with the batch is not the topic's silence
            _drop_finished(consumer, topic, ends)
    except ck.KafkaException as exc:
        raise KafkaUnavailable(f"Kafka is not reachable at {settings.bootstrap_servers}: {exc.args[0]}") from exc
    finally:
        consumer.close()


def _drop_finished(consumer: Any, topic: str, ends: dict[int, int]) -> None:
    """Forget the partitions whose position reached their end (transaction markers included)."""
    positions = consumer.position([ck.TopicPartition(topic, p) for p in ends])
    for tp in positions:
        if tp.offset >= 0 and tp.offset >= ends[tp.partition]:
            del ends[tp.partition]


def read_all(settings: Settings, topic: str, *, timeout: float = 10.0) -> Iterable[list[Record]]:
    """Every message of a topic from its first offset to its end at the time of the call, in batches
    (used by ``owstream replay``). No group, nothing committed."""
    return _read_range(settings, topic, lambda low, _high: low, timeout=timeout)


def read_tail(settings: Settings, topic: str, count: int = 20, *, timeout: float = 5.0) -> list[Record]:
    """The last ``count`` messages of a topic (for a live view), oldest first by time; [] if it does not exist."""
    records: list[Record] = []
    try:
        batches = _read_range(
            settings, topic, lambda low, high: max(low, high - count), timeout=timeout,
            deadline=time.monotonic() + timeout,
        )  # fmt: skip
        for batch in batches:
            records.extend(batch)
    except KafkaUnavailable:
        raise
    except BusError:  # the topic does not exist (yet)
        return []
    records.sort(key=lambda r: (r.timestamp_ms or 0, r.partition, r.offset))
    return records[-count:]
