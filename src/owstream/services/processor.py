"""The processor service: ``fetch-results`` -> the store (+ ``player-events``, ``dead-letter``); ``hero-stats`` ->
the store too (:mod:`owstream.services.hero_stats`).

The only writer of the store's derived tables. For each batch of what has arrived:

1. decode the results (a message that is not one goes to the dead letters, with why);
2. store them in one store transaction (idempotent by result id: a result stored before writes nothing, its
   events are derived again from the store with the same ids);
3. in one Kafka transaction, publish the batch's events and dead letters and commit its offsets.

A processor killed between 2 and 3 leaves no event visible (the Kafka transaction never committed) and the
batch's offsets where they were: it is read again, stored as a no-op, and its events published then, once.
Readers use ``isolation.level=read_committed`` (librdkafka's default), so every event is visible exactly once.
A database that is locked or down is waited out; data it refuses (StoreRejected) and results that cannot be
normalised are dead-lettered one by one and the rest carry on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from owstream.bus import Consumer, Record, TopicNames, TransactionalProducer, dead_letter, next_offsets
from owstream.bus.client import OUTAGE_LOG_EVERY
from owstream.config import Settings
from owstream.errors import ProcessingError, StoreRejected, StoreUnavailable, TransactionAborted
from owstream.messages import codec
from owstream.messages.models import PlayerEvent
from owstream.services import hero_stats
from owstream.services.runner import Ready
from owstream.store import SourcedResult, Store
from owstream.store.writer import paused_gc

log = logging.getLogger(__name__)

SERVICE = "processor"
MAX_EVENT = 1024 * 1024  # an event larger than this is dead-lettered with its result, not published
_EVENT_HEADERS = codec.headers("PlayerEvent")


def parse_result(record: Record) -> SourcedResult:
    """A consumed message as a result with its origin; ProcessingError if it is not a FetchResult."""
    codec.check_schema("FetchResult", record.headers.get("schema"))
    result = codec.decode_stored(record.value)
    codec.check_fetched_at(result, time.time())  # a fetch time ahead would make the player look fresh for ever
    return SourcedResult(result, record.topic, record.partition, record.offset, raw=record.value)


Apply = Callable[[Sequence[SourcedResult]], list[PlayerEvent]]


def apply_isolating(
    apply: Apply, items: list[SourcedResult]
) -> tuple[list[PlayerEvent], list[tuple[SourcedResult, str]]]:
    """Apply a batch in one transaction; if the store refuses it because of one result (it cannot be
    normalised, or the database rejects its data), apply the others one by one and return the bad ones with
    why. StoreUnavailable passes through: a database that is away is not the data's fault."""
    try:
        return apply(items), []
    except (ProcessingError, StoreRejected):
        pass
    events: list[PlayerEvent] = []
    bad: list[tuple[SourcedResult, str]] = []
    for item in items:
        try:
            events.extend(apply([item]))
        except (ProcessingError, StoreRejected) as exc:
            bad.append((item, str(exc)))
    return events, bad


@dataclass
class Batch:
    """What one batch of records gives: events to publish, dead letters (record, why), results stored."""

    records: list[Record]
    events: list[tuple[PlayerEvent, bytes]] = field(default_factory=list)
    letters: list[tuple[Record, str]] = field(default_factory=list)
    stored: int = 0


class Processor:
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.names = TopicNames(settings.topic_prefix)
        self.store = store or Store.open(settings.resolved_store_url)
        self.stored = 0
        self.dead = 0
        self.batches = 0
        self._stop = threading.Event()
        self._consumer: Consumer | None = None

    @property
    def assigned(self) -> frozenset[tuple[str, int]]:
        """The partitions this processor holds now (empty before it joined its group)."""
        return self._consumer.assigned if self._consumer is not None else frozenset()

    @property
    def transactional_id(self) -> str:
        return f"{self.names.group(SERVICE)}.{self.settings.instance}"

    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        self._stop = stop
        consumer = self._consumer = self.consumer()
        producer = TransactionalProducer(self.settings, self.transactional_id, wait=self._going_on)
        log.info("processor: consuming %s into %s", self.names.fetch_results, self.store.engine.url)
        if ready is not None:
            ready()
        try:
            while not stop.is_set():
                self.step(consumer, producer)
        finally:
            producer.abort()
            producer.close()
            consumer.close(commit=False)
            log.info("processor: stopped (%d results stored, %d dead-lettered)", self.stored, self.dead)

    def consumer(self) -> Consumer:
        # A database that is away is waited out without polling: allow that much time between two polls.
        return Consumer(
            self.settings,
            self.names.group(SERVICE),
            [self.names.fetch_results, self.names.hero_stats],
            transactional=True,
            config={"max.poll.interval.ms": 15 * 60 * 1000},
        )

    def _going_on(self) -> bool:
        return not self._stop.is_set()

    def step(self, consumer: Consumer, producer: TransactionalProducer, timeout: float = 0.5) -> int:
        """One batch of what has arrived (waiting at most ``timeout`` for the first result): stored, then its
        events, dead letters and offsets in one Kafka transaction. Returns the records handled (0 if the
        transaction was aborted: they are read again)."""
        records = consumer.poll_batch(max_messages=self.settings.processor_batch_size, timeout=timeout)
        if not records:
            return 0
        try:
            batch = self.process(records)
        except StoreUnavailable:
            if self._stop.is_set():  # stopping while the store was away: nothing was written or committed
                return 0
            raise
        try:
            producer.begin()
            for record, why in batch.letters:
                dead_letter(producer, self.names.dead_letter, record, service=SERVICE, reason=why)
            for event, value in batch.events:
                producer.send(self.names.player_events, value, key=event.player_id, headers=_EVENT_HEADERS)
            producer.commit(consumer, next_offsets(records), wait=self._going_on)
        except TransactionAborted as exc:
            log.warning("processor: %s; reading the batch again (the store keeps what it has)", exc)
            consumer.rewind(records)
            return 0
        self.stored += batch.stored
        self.dead += len(batch.letters)
        self.batches += 1
        return len(records)

    def process(self, records: list[Record]) -> Batch:
        """Decode and store a batch; what cannot be taken becomes a dead letter with why."""
        batch = Batch(records)
        results, answers = hero_stats.split(records, self.names.hero_stats)
        with paused_gc():  # a batch builds ~100,000 short-lived objects: see paused_gc
            items: list[SourcedResult] = []
            for record in results:
                try:
                    items.append(parse_result(record))
                except ProcessingError as exc:
                    batch.letters.append((record, str(exc)))
            events, bad = apply_isolating(self._apply_waiting, items)
        if answers:
            letters = batch.letters
            hero_stats.store_answers(
                self.store, answers, lambda record, why: letters.append((record, why)), sleep=self._stop.wait
            )
        by_offset = {(r.topic, r.partition, r.offset): r for r in records}
        batch.letters += [(by_offset[(item.topic, item.partition, item.offset)], why) for item, why in bad]
        batch.stored = len(items) - len(bad)
        for event in events:
            value = codec.encode(event)
            if len(value) > MAX_EVENT:  # cannot happen with the models' bounds; refused rather than sent
                log.error("processor: event %s has %d bytes: not published", event.event_id, len(value))
                continue
            batch.events.append((event, value))
        return batch

    def _apply_waiting(self, items: Sequence[SourcedResult]) -> list[PlayerEvent]:
        """Apply a batch; a database that is locked or away is waited out (nothing was written)."""
        since = time.monotonic()
        said = 0.0
        attempt = 0
        while True:
            try:
                events = self.store.apply_results(items)
            except StoreUnavailable as exc:
                attempt += 1
                if time.monotonic() - said >= OUTAGE_LOG_EVERY:
                    log.warning("processor: the store is unavailable (%.0f s): %s", time.monotonic() - since, exc)
                    said = time.monotonic()
                if self._stop.wait(min(5.0, 0.1 * 2**attempt)):
                    raise
                continue
            if said:
                log.info("processor: the store answers again after %.0f s", time.monotonic() - since)
            return events
