"""The processor service: ``fetch-results`` -> the store (+ ``player-events``, ``dead-letter``); ``hero-stats`` ->
the store too (:mod:`owstream.services.hero_stats`).

The only writer of the store's derived tables. Each poll is one store transaction; offsets are stored
only after the commit (at-least-once into an idempotent sink: a replayed result changes nothing).
A message that cannot be parsed or normalised goes to the dead-letter topic and the rest carry on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from owstream.bus import Consumer, Producer, Record, TopicNames, dead_letter
from owstream.config import Settings
from owstream.errors import BusError, ProcessingError, StoreError
from owstream.messages import codec
from owstream.messages.models import PlayerEvent
from owstream.services import hero_stats
from owstream.services.runner import Ready
from owstream.store import SourcedResult, Store
from owstream.store.writer import paused_gc

log = logging.getLogger(__name__)

SERVICE = "processor"
STORE_RETRIES = 5
_EVENT_HEADERS = codec.headers("PlayerEvent")


def parse_result(record: Record) -> SourcedResult:
    """A consumed message as a result with its origin; ProcessingError if it is not a FetchResult."""
    codec.check_schema("FetchResult", record.headers.get("schema"))
    result = codec.decode_result(record.value)
    return SourcedResult(result, record.topic, record.partition, record.offset, raw=record.value)


Apply = Callable[[Sequence[SourcedResult]], list[PlayerEvent]]


def apply_isolating(
    apply: Apply, items: list[SourcedResult]
) -> tuple[list[PlayerEvent], list[tuple[SourcedResult, ProcessingError]]]:
    """Apply a batch in one transaction; if one result cannot be normalised, apply the others one by
    one and return the bad ones with their errors."""
    try:
        return apply(items), []
    except ProcessingError:
        pass
    events: list[PlayerEvent] = []
    bad: list[tuple[SourcedResult, ProcessingError]] = []
    for item in items:
        try:
            events.extend(apply([item]))
        except ProcessingError as exc:
            bad.append((item, exc))
    return events, bad


@dataclass
class _Acks:
    """A stored batch whose events and dead letters are on their way: its offsets move once all are acknowledged."""

    records: list[Record]
    waiting: int = 0
    failure: str | None = None

    def delivered(self, error: str | None) -> None:
        self.waiting -= 1
        if error is not None and self.failure is None:
            self.failure = error


class Processor:
    # Batches stored but not yet acknowledged by Kafka before step() waits for the oldest: the next batch is
    # read and stored while the broker acknowledges the events of the previous ones.
    MAX_UNACKED = 4

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.names = TopicNames(settings.topic_prefix)
        self.store = store or Store.open(settings.resolved_store_url)
        self.stored = 0
        self.dead = 0
        self._unacked: deque[_Acks] = deque()

    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        topics = [self.names.fetch_results, self.names.hero_stats]
        consumer = Consumer(self.settings, self.names.group(SERVICE), topics)
        producer = Producer(self.settings)
        log.info("processor: consuming %s into %s", self.names.fetch_results, self.store.engine.url)
        if ready is not None:
            ready()
        try:
            while not stop.is_set():
                self.step(consumer, producer)
            self.settle(consumer, producer)
        finally:
            producer.close()
            consumer.close()
            log.info("processor: stopped (%d results stored, %d dead-lettered)", self.stored, self.dead)

    def step(self, consumer: Consumer, producer: Producer, timeout: float = 0.5) -> int:
        """Read a batch, store it in one transaction, send its events; store the offsets of earlier batches
        whose events Kafka acknowledged (at-least-once: offsets move only after events and dead letters)."""
        self._store_acknowledged(consumer, producer)
        records = consumer.poll_batch(max_messages=self.settings.processor_batch_size, timeout=timeout)
        if not records:
            return 0
        acks = _Acks(records)
        results, answers = hero_stats.split(records, self.names.hero_stats)
        with paused_gc():  # a batch builds ~100,000 short-lived objects: see paused_gc
            items: list[SourcedResult] = []
            for record in results:
                try:
                    items.append(parse_result(record))
                except ProcessingError as exc:
                    self._dead(producer, record, str(exc), acks)
            events = self._apply(items, results, producer, acks)
        if answers:
            hero_stats.store_answers(self.store, answers, lambda record, why: self._dead(producer, record, why, acks))
        acks.waiting += len(events)
        for event in events:
            producer.send(
                self.names.player_events,
                codec.encode(event),
                key=event.player_id,
                headers=_EVENT_HEADERS,
                delivered=acks.delivered,
            )
        self._unacked.append(acks)
        self._store_acknowledged(consumer, producer)
        return len(records)

    def settle(self, consumer: Consumer, producer: Producer) -> None:
        """Wait until every batch's events are acknowledged and store its offsets (before stopping)."""
        producer.flush()
        self._store_acknowledged(consumer, producer)

    def _store_acknowledged(self, consumer: Consumer, producer: Producer) -> None:
        producer.poll()
        if len(self._unacked) >= self.MAX_UNACKED:
            producer.flush()  # back-pressure: the broker is slower than the store
        while self._unacked and self._unacked[0].waiting <= 0:
            acks = self._unacked.popleft()
            if acks.failure is not None:  # offsets stay: the batch is read again, the store skips what it has
                self._unacked.clear()
                raise BusError(f"events of a stored batch were not delivered: {acks.failure}")
            consumer.store(acks.records)

    def _apply(
        self, items: list[SourcedResult], records: list[Record], producer: Producer, acks: _Acks
    ) -> list[PlayerEvent]:
        events, bad = apply_isolating(self._with_retries, items)
        by_offset = {(r.topic, r.partition, r.offset): r for r in records}
        for item, exc in bad:
            self._dead(producer, by_offset[(item.topic, item.partition, item.offset)], str(exc), acks)
        return events

    def _with_retries(self, items: Sequence[SourcedResult]) -> list[PlayerEvent]:
        """Apply a batch; a store that is briefly unavailable (locked, restarting) is retried with backoff."""
        for attempt in range(1, STORE_RETRIES + 1):
            try:
                events = self.store.apply_results(items)
                self.stored += len(items)
                return events
            except ProcessingError:
                raise
            except Exception as exc:  # a database error: the batch is rolled back, nothing is lost
                if attempt == STORE_RETRIES:
                    raise StoreError(f"the store rejected a batch {attempt} times: {exc}") from exc
                wait = min(30.0, 0.5 * 2**attempt)
                log.warning("store write failed (%s); retrying in %.1f s", exc, wait)
                time.sleep(wait)
        return []

    def _dead(self, producer: Producer, record: Record, reason: str, acks: _Acks) -> None:
        acks.waiting += 1
        dead_letter(producer, self.names.dead_letter, record, service=SERVICE, reason=reason, delivered=acks.delivered)
        self.dead += 1
