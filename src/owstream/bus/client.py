"""The Kafka clients owstream uses, wrapped: the only module family that imports confluent_kafka.

The rest of the code sees :class:`Record`, :class:`Producer` and :class:`Consumer` and the errors
of :mod:`owstream.errors` (``BusError`` and below).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import confluent_kafka as ck

from owstream.config import Settings
from owstream.errors import BusError, KafkaUnavailable

log = logging.getLogger(__name__)

Headers = Sequence[tuple[str, str | bytes | None]]
Delivered = Callable[[str | None], None]  # a message's fate: None once acknowledged, else why it was not


def client_config(settings: Settings) -> dict[str, Any]:
    """Bootstrap address and the security settings shared by every client."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "security.protocol": settings.kafka_security_protocol,
        # librdkafka logs connection refusals at ERROR through its own logger: route them to ours.
        "logger": logging.getLogger("owstream.bus.librdkafka"),
    }
    if settings.kafka_sasl_mechanism:
        conf["sasl.mechanism"] = settings.kafka_sasl_mechanism
        conf["sasl.username"] = settings.kafka_sasl_username
        conf["sasl.password"] = settings.kafka_sasl_password.get_secret_value()
    if settings.kafka_ssl_ca_location:
        conf["ssl.ca.location"] = settings.kafka_ssl_ca_location
    return conf


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed message."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: dict[str, bytes] = field(default_factory=dict)
    timestamp_ms: int | None = None


def _record(msg: Any) -> Record:
    key = msg.key()
    ts_type, ts = msg.timestamp()
    return Record(
        topic=msg.topic(),
        partition=msg.partition(),
        offset=msg.offset(),
        key=key.decode("utf-8", "replace") if key is not None else None,
        value=msg.value() or b"",
        headers={k: (v or b"") for k, v in (msg.headers() or [])},
        timestamp_ms=ts if ts_type != ck.TIMESTAMP_NOT_AVAILABLE else None,
    )


class Producer:
    """An idempotent producer (acks=all); ``send`` never blocks for long, ``flush`` waits for delivery."""

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        conf = client_config(settings) | {
            "enable.idempotence": True,
            "compression.type": "zstd",
            "linger.ms": 5,
            "message.max.bytes": 8 * 1024 * 1024,
        }
        self._producer = ck.Producer(conf | overrides)
        self._failures: list[str] = []

    def send(
        self,
        topic: str,
        value: bytes,
        *,
        key: str | None = None,
        headers: Headers | None = None,
        delivered: Delivered | None = None,
    ) -> None:
        """Queue a message. ``delivered`` is called from a later ``poll``/``flush`` once the broker
        acknowledged it (None) or gave up on it (the reason)."""
        on_delivery = self._on_delivery if delivered is None else self._tracked(delivered)
        while True:
            try:
                self._producer.produce(
                    topic, value=value, key=key, headers=list(headers) if headers else None, on_delivery=on_delivery
                )
                break
            except BufferError:
                self._producer.poll(0.1)  # the local queue is full: serve deliveries, then retry
            except ck.KafkaException as exc:
                raise BusError(f"cannot produce to {topic}: {exc.args[0]}") from exc
        self._producer.poll(0)

    def _on_delivery(self, err: Any, msg: Any) -> None:
        if err is not None:
            self._failures.append(f"{msg.topic()}: {err.str()}")

    def _tracked(self, delivered: Delivered) -> Callable[[Any, Any], None]:
        def on_delivery(err: Any, msg: Any) -> None:
            self._on_delivery(err, msg)
            delivered(None if err is None else f"{msg.topic()}: {err.str()}")

        return on_delivery

    def poll(self) -> None:
        """Serve delivery callbacks that are due, without waiting."""
        self._producer.poll(0)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every message sent so far is acknowledged; raise BusError if any was not."""
        remaining = self._producer.flush(timeout)
        failures, self._failures = self._failures, []
        if remaining:
            raise KafkaUnavailable(f"{remaining} message(s) not delivered within {timeout:.0f} s: is Kafka up?")
        if failures:
            raise BusError("delivery failed: " + "; ".join(failures[:3]))

    def close(self) -> None:
        self._producer.flush(10)


class Consumer:
    """A group member with at-least-once semantics: offsets are stored only when told (``store``),
    and committed in the background by librdkafka after that."""

    def __init__(
        self,
        settings: Settings,
        group_id: str,
        topics: Sequence[str],
        *,
        from_beginning: bool = True,
        **overrides: Any,
    ) -> None:
        conf = client_config(settings) | {
            "group.id": group_id,
            "enable.auto.commit": True,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest" if from_beginning else "latest",
            "session.timeout.ms": 10000,
            "partition.assignment.strategy": "cooperative-sticky",
        }
        self._consumer = ck.Consumer(conf | overrides)
        # The partitions this member holds, kept by the rebalance callbacks (which run inside poll), so that
        # other threads can read it without calling into the client while it polls.
        self.assigned: frozenset[tuple[str, int]] = frozenset()
        self._consumer.subscribe(
            list(topics), on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_revoke
        )

    def _on_assign(self, _consumer: Any, partitions: list[Any]) -> None:
        self.assigned = self.assigned | {(tp.topic, tp.partition) for tp in partitions}
        log.debug("assigned %s", sorted(self.assigned))

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        self.assigned = self.assigned - {(tp.topic, tp.partition) for tp in partitions}

    def poll_batch(self, max_messages: int = 500, timeout: float = 0.5) -> list[Record]:
        msgs = self._consumer.consume(num_messages=max_messages, timeout=timeout)
        records = []
        for msg in msgs:
            err = msg.error()
            if err is None:
                records.append(_record(msg))
            elif err.code() != ck.KafkaError._PARTITION_EOF:
                log.warning("consumer error: %s", err.str())
        return records

    def store(self, records: Iterable[Record]) -> None:
        """Mark records done: their offsets (+1) will be committed."""
        latest: dict[tuple[str, int], int] = {}
        for r in records:
            latest[(r.topic, r.partition)] = max(latest.get((r.topic, r.partition), -1), r.offset)
        if not latest:
            return
        tps = [ck.TopicPartition(t, p, o + 1) for (t, p), o in latest.items()]
        try:
            self._consumer.store_offsets(offsets=tps)
        except ck.KafkaException as exc:
            # The partition was revoked meanwhile: its new owner will see the records again (at-least-once).
            log.info("offsets not stored (partition revoked?): %s", exc.args[0])

    def commit(self) -> None:
        try:
            self._consumer.commit(asynchronous=False)
        except ck.KafkaException as exc:
            if exc.args[0].code() != ck.KafkaError._NO_OFFSET:
                log.warning("commit failed: %s", exc.args[0])

    def close(self) -> None:
        self.commit()
        self._consumer.close()


def _reader(settings: Settings, purpose: str) -> Any:
    """A consumer outside any group that commits nothing: for reading a range of a topic."""
    conf = client_config(settings) | {"group.id": f"owstream-{purpose}-{time.time_ns()}", "enable.auto.commit": False}
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
        msgs = self._consumer.consume(num_messages=100, timeout=timeout)
        return [_record(m) for m in msgs if m.error() is None]

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
    of the call (later messages are left out), until every partition is read or ``deadline`` passes."""
    consumer = _reader(settings, "range")
    try:
        marks = _watermarks(consumer, settings, topic, timeout)
        ends = {p: high for p, (low, high) in marks.items() if high > low}
        consumer.assign(
            [ck.TopicPartition(topic, p, first(low, high)) for p, (low, high) in marks.items() if high > low]
        )
        while ends and (deadline is None or time.monotonic() < deadline):
            batch = []
            for msg in consumer.consume(num_messages=1000, timeout=0.5):
                if msg.error() is not None:
                    continue
                rec = _record(msg)
                end = ends.get(rec.partition)
                if end is None or rec.offset >= end:
                    continue
                batch.append(rec)
                if rec.offset >= end - 1:
                    del ends[rec.partition]
            if batch:
                yield batch
    except ck.KafkaException as exc:
        raise KafkaUnavailable(f"Kafka is not reachable at {settings.bootstrap_servers}: {exc.args[0]}") from exc
    finally:
        consumer.close()


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
