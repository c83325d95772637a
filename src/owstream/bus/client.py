"""The Kafka clients owstream uses, wrapped: the only module family that imports confluent_kafka.

The rest of the code sees :class:`Record`, :class:`Producer`, :class:`TransactionalProducer` and
:class:`Consumer`, and the errors of :mod:`owstream.errors` (``BusError`` and below).

Three habits hold everywhere here:

* **Return as soon as there is work.** :meth:`Consumer.poll_batch` waits for the first message only, then
  takes what is already fetched with a zero timeout (``consume(N > 1, timeout)`` waits out the whole window).
* **Outages are waited out.** Producers keep messages for minutes (``delivery.timeout.ms``), the
  transactional producer retries what Kafka says is retriable, and librdkafka's own log lines are let
  through once a few seconds per kind (:class:`RateLimitedLog`), not hundreds a second.
* **Vendor errors are translated** (``raise ... from exc``): KafkaUnavailable for an unreachable cluster,
  TransactionAborted (bus/transactions.py) for a transaction that must be redone,
  BusError for the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import confluent_kafka as ck

from owstream.config import Settings
from owstream.errors import BusError, KafkaUnavailable
from owstream.retry import OUTAGE_LOG_EVERY

if TYPE_CHECKING:
    from owstream.bus.topics import Outgoing

log = logging.getLogger(__name__)

Headers = Sequence[tuple[str, str | bytes | None]]
Delivered = Callable[[str | None], None]  # a message's fate: None once acknowledged, else why it was not
Offsets = dict[tuple[str, int], int]  # (topic, partition) -> the next offset to read
DELIVERY_TIMEOUT_MS = 15 * 60 * 1000  # a message waits this long for a broker that is away


class RateLimitedLog(logging.Filter):
    """Lets one record per (logger, message start) through every ``every`` seconds and counts the rest:
    librdkafka repeats "Connection refused" for every broker every few hundred milliseconds."""

    def __init__(self, every: float = OUTAGE_LOG_EVERY) -> None:
        super().__init__()
        self.every = every
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        key = (record.name, text.split(":", 3)[-1][:60])
        now = time.monotonic()
        last, skipped = self._last.get(key, (0.0, 0))
        if now - last < self.every:
            self._last[key] = (last, skipped + 1)
            return False
        self._last[key] = (now, 0)
        if skipped:
            record.msg, record.args = f"{text} ({skipped} more like it in the last {self.every:.0f} s)", ()
        return True


_LIBRDKAFKA = logging.getLogger("owstream.bus.librdkafka")
_LIBRDKAFKA.addFilter(RateLimitedLog())


def client_config(settings: Settings) -> dict[str, Any]:
    """Bootstrap address and the security settings shared by every client."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "security.protocol": settings.kafka_security_protocol,
        "logger": _LIBRDKAFKA,  # librdkafka's own log lines, through ours (rate-limited)
        "reconnect.backoff.max.ms": 2000,  # a broker that comes back is found within 2 s
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


def record_of(msg: Any) -> Record:
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


def next_offsets(records: Iterable[Record]) -> Offsets:
    """Per partition, the offset after the last of ``records``: what to commit once they are done."""
    out: Offsets = {}
    for r in records:
        tp = (r.topic, r.partition)
        out[tp] = max(out.get(tp, 0), r.offset + 1)
    return out


def partitions_of(offsets: Offsets) -> list[Any]:
    """Offsets as confluent_kafka TopicPartitions."""
    return [ck.TopicPartition(t, p, o) for (t, p), o in sorted(offsets.items())]


class Producer:
    """An idempotent producer (acks=all). ``send`` never blocks for long; a message waits up to
    DELIVERY_TIMEOUT_MS for a broker that is away; ``flush`` says how many are still waiting.

    ``idempotent=False`` is for a producer that sends one message and closes (a command's fetch request):
    librdkafka's idempotent producer takes ~0.5 s to get its producer id before its first message goes out,
    most of a command's time, to guard against duplicates of a retried send, which a request tolerates (its
    id is stable; a duplicate is answered from the store's freshness or fetched once more)."""

    def __init__(self, settings: Settings, *, idempotent: bool = True, **overrides: Any) -> None:
        self.settings = settings
        self._producer = ck.Producer(self._config(settings) | {"enable.idempotence": idempotent} | overrides)
        self._failures: list[str] = []

    @staticmethod
    def _config(settings: Settings) -> dict[str, Any]:
        return client_config(settings) | {
            "acks": "all",
            "compression.type": "zstd",
            "linger.ms": 2,
            "message.max.bytes": 8 * 1024 * 1024 + 64 * 1024,  # the topics' 8 MiB plus room for headers
            "delivery.timeout.ms": DELIVERY_TIMEOUT_MS,
        }

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
        hdrs = list(headers) if headers else None
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=hdrs, on_delivery=on_delivery)
                break
            except BufferError:
                self._producer.poll(0.1)  # the local queue is full (the broker is slow or away): serve deliveries
            except ck.KafkaException as exc:
                raise _translated(exc, f"cannot produce to {topic}") from exc
        self._producer.poll(0)

    def publish(self, message: Outgoing, delivered: Delivered | None = None) -> None:
        """:meth:`send` a message a topic made (:meth:`owstream.bus.topics.Topic.message`): its topic, value,
        key and headers as they are."""
        self.send(message.topic, message.value, key=message.key, headers=message.headers, delivered=delivered)

    def _on_delivery(self, err: Any, msg: Any) -> None:
        if err is not None:
            self._failures.append(f"{msg.topic()}: {err.str()}")

    @staticmethod
    def _tracked(delivered: Delivered) -> Callable[[Any, Any], None]:
        """A message sent with ``delivered``: its fate is told to the sender, who sends it again or not (not
        kept for :meth:`flush` to raise: a sender that retries would see its old failures raised forever)."""

        def on_delivery(err: Any, msg: Any) -> None:
            delivered(None if err is None else f"{msg.topic()}: {err.str()}")

        return on_delivery

    def poll(self, timeout: float = 0.0) -> None:
        """Serve delivery callbacks that are due (waiting at most ``timeout``)."""
        self._producer.poll(timeout)

    def flush(self, timeout: float = 30.0) -> int:
        """Wait up to ``timeout`` until every message sent so far is acknowledged; the number still waiting.
        BusError if Kafka gave up on any sent without a ``delivered`` callback (after DELIVERY_TIMEOUT_MS, or a
        message it refuses); those sent with one were told."""
        remaining = int(self._producer.flush(timeout))
        failures, self._failures = self._failures, []
        if failures:
            raise BusError("delivery failed: " + "; ".join(failures[:3]))
        return remaining

    def flush_or_raise(self, timeout: float) -> None:
        """:meth:`flush`, and KafkaUnavailable if messages are still waiting after ``timeout`` (commands)."""
        remaining = self.flush(timeout)
        if remaining:
            raise KafkaUnavailable(
                f"{remaining} message(s) not delivered within {timeout:.0f} s: is Kafka up at "
                f"{self.settings.bootstrap_servers}?"
            )

    def close(self, timeout: float = 10.0) -> None:
        self._producer.flush(timeout)


class Consumer:
    """A group member. Two ways to move its offsets: ``store`` then librdkafka's background commit
    (at-least-once), or inside a producer's transaction (``transactional=True``: nothing is committed outside
    :meth:`TransactionalProducer.commit`). It reads only committed transactional messages."""

    def __init__(
        self,
        settings: Settings,
        group_id: str,
        topics: Sequence[str],
        *,
        from_beginning: bool = True,
        transactional: bool = False,
        config: dict[str, Any] | None = None,
    ) -> None:
        conf = client_config(settings) | {
            "group.id": group_id,
            "enable.auto.commit": not transactional,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest" if from_beginning else "latest",
            "isolation.level": "read_committed",
            "session.timeout.ms": 10000,
            "partition.assignment.strategy": "cooperative-sticky",
            "fetch.wait.max.ms": 100,
        }
        self._consumer = ck.Consumer(conf | (config or {}))
        # The partitions this member holds, kept by the rebalance callbacks (which run inside poll), so that
        # other threads can read it without calling into the client while it polls.
        self.assigned: frozenset[tuple[str, int]] = frozenset()
        # Pausing: librdkafka keeps a partition's pause across a lost assignment, so a partition paused before
        # the group dropped this member would come back paused (and silent) when assigned again: every
        # partition assigned is paused or resumed as this member is now (see _on_assign).
        self.pausing = False
        self._consumer.subscribe(
            list(topics), on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_revoke
        )

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        consumer.incremental_assign(partitions)  # then paused or resumed: never a pause left from before
        try:
            (consumer.pause if self.pausing else consumer.resume)(partitions)
        except ck.KafkaException as exc:
            log.info("cannot %s newly assigned partitions: %s", "pause" if self.pausing else "resume", exc.args[0])
        self.assigned = self.assigned | {(tp.topic, tp.partition) for tp in partitions}
        log.debug("assigned %s", sorted(self.assigned))

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        self.assigned = self.assigned - {(tp.topic, tp.partition) for tp in partitions}

    def poll_batch(self, max_messages: int = 500, timeout: float = 0.5) -> list[Record]:
        """Wait up to ``timeout`` for a first message, then take at most ``max_messages`` in all of what has
        already arrived (without waiting again). Errors librdkafka reports on the way (a broker that is
        away) are logged, rate-limited, and do not end the wait early."""
        deadline = time.monotonic() + timeout
        while True:
            first = self._consumer.poll(max(0.0, deadline - time.monotonic()))
            if first is None:
                return []
            msgs = [first]
            if max_messages > 1:
                msgs += self._consumer.consume(num_messages=max_messages - 1, timeout=0)
            records = _records(msgs)
            if records or time.monotonic() >= deadline:
                return records

    def store(self, records: Iterable[Record]) -> None:
        """Mark records done: their offsets (+1) will be committed by the background commit."""
        offsets = next_offsets(records)
        if not offsets:
            return
        try:
            self._consumer.store_offsets(offsets=partitions_of(offsets))
        except ck.KafkaException as exc:
            # The partition was revoked meanwhile: its new owner will see the records again (at-least-once).
            log.info("offsets not stored (partition revoked?): %s", exc.args[0])

    def committed(self, partitions: Iterable[tuple[str, int]], timeout: float = 10.0) -> Offsets:
        """The group's committed offsets of ``partitions``, a partition with none left out. A transaction still
        committing offsets on them is waited for (``read_committed`` asks for stable offsets, KIP-447).
        KafkaUnavailable when the group's coordinator does not answer within ``timeout`` seconds."""
        wanted = [ck.TopicPartition(t, p) for t, p in sorted(set(partitions))]
        if not wanted:
            return {}
        try:
            got = self._consumer.committed(wanted, timeout=timeout)
        except ck.KafkaException as exc:
            raise KafkaUnavailable(f"cannot read the group's committed offsets: {exc.args[0]}") from exc
        return {(tp.topic, tp.partition): tp.offset for tp in got if tp.error is None and tp.offset >= 0}

    def rewind(self, records: Iterable[Record]) -> None:
        """Read ``records`` again (after an aborted transaction): seek each partition back to its first one.
        Partitions no longer assigned are left to their new owner, which starts at the committed offset."""
        first: Offsets = {}
        for r in records:
            tp = (r.topic, r.partition)
            first[tp] = min(first.get(tp, r.offset), r.offset)
        for (topic, partition), offset in first.items():
            if (topic, partition) not in self.assigned:
                continue
            try:
                self._consumer.seek(ck.TopicPartition(topic, partition, offset))
            except ck.KafkaException as exc:
                log.info("cannot rewind %s[%d] to %d: %s", topic, partition, offset, exc.args[0])

    def pause(self) -> None:
        """Stop fetching every assigned partition, and those assigned later until :meth:`resume` (the group
        membership stays alive while ``poll_batch`` is still called): backpressure while a sink is away."""
        self.pausing = True
        try:
            self._consumer.pause(self._consumer.assignment())
        except ck.KafkaException as exc:
            log.info("cannot pause: %s", exc.args[0])

    def resume(self) -> None:
        self.pausing = False
        try:
            self._consumer.resume(self._consumer.assignment())
        except ck.KafkaException as exc:
            log.info("cannot resume: %s", exc.args[0])

    def group_metadata(self) -> Any:
        return self._consumer.consumer_group_metadata()

    def commit(self) -> None:
        try:
            self._consumer.commit(asynchronous=False)
        except ck.KafkaException as exc:
            if exc.args[0].code() != ck.KafkaError._NO_OFFSET:
                log.warning("commit failed: %s", exc.args[0])

    def close(self, *, commit: bool = True) -> None:
        if commit:
            self.commit()
        self._consumer.close()


_CONSUMER_NOISE = {ck.KafkaError._PARTITION_EOF}


def _records(msgs: Iterable[Any]) -> list[Record]:
    out = []
    for msg in msgs:
        err = msg.error()
        if err is None:
            out.append(record_of(msg))
        elif err.code() not in _CONSUMER_NOISE:
            _LIBRDKAFKA.warning("consumer: %s", err.str())  # rate-limited with librdkafka's own lines
    return out


def _translated(exc: Any, what: str) -> BusError:
    err = exc.args[0]
    if err.code() in (ck.KafkaError._TRANSPORT, ck.KafkaError._ALL_BROKERS_DOWN, ck.KafkaError._TIMED_OUT):
        return KafkaUnavailable(f"{what}: {err.str()}")
    return BusError(f"{what}: {err.str()}")
