"""The processor service: ``fetch-results`` -> the store (+ ``player-events``, ``dead-letter``); ``hero-stats`` ->
the store too (:mod:`owstream.services.hero_stats`). A handler on the stream kernel (:class:`owstream.bus.Stream`).

The only writer of the store's derived tables. For each batch of what has arrived:

1. decode the results (a message that is not one goes to the dead letters, with why);
2. store them in one store transaction (idempotent by result id: a result stored before writes nothing, its
   events are derived again from the store with the same ids);
3. the kernel publishes the batch's events and dead letters and commits its offsets in one Kafka transaction.

A processor killed between 2 and 3 leaves no event visible (the Kafka transaction never committed) and the
batch's offsets where they were: it is read again, stored as a no-op, and its events published then, once.
Readers use ``isolation.level=read_committed`` (librdkafka's default), so every event is visible exactly once.
A database that is locked or down (StoreUnavailable) is the kernel's backpressure: partitions paused, the
group kept alive, the batch tried again. A store that lost its file (StoreLost) stops the processor with a
message naming ``owstream replay``. Data it refuses (StoreRejected) and results that cannot be normalised are
dead-lettered one by one and the rest carry on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from owstream.bus import Admin, Output, Ready, Record, Stream, Topics
from owstream.config import Settings
from owstream.errors import BusError, ProcessingError, StoreLost, StoreRejected, StoreUnavailable
from owstream.messages import codec, contracts
from owstream.messages.models import PlayerEvent
from owstream.services import hero_stats
from owstream.store import SourcedResult, Store
from owstream.store.identity import REPLAY
from owstream.store.writer import paused_gc

log = logging.getLogger(__name__)

SERVICE = "processor"


def parse_result(record: Record) -> SourcedResult:
    """A consumed message as a result with its origin; ProcessingError if it is not a FetchResult."""
    result = contracts.FETCH_RESULT.read(record.value, record.headers.get("schema"))
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
        self.topics = Topics(settings.topic_prefix)
        self.store = store or Store.open(settings.resolved_store_url)
        self.stored = 0
        self.dead = 0
        self.stream: Stream | None = None

    @property
    def assigned(self) -> frozenset[tuple[str, int]]:
        """The partitions this processor holds now (empty before it joined its group)."""
        return self.stream.assigned if self.stream is not None else frozenset()

    def make_stream(self, stop: threading.Event) -> Stream:
        """Its loop: results and hero stats in, events and dead letters out; the store's outages paused out."""
        self.stream = Stream(
            self.settings, SERVICE, [self.topics.fetch_results, self.topics.hero_stats], self.handle, stop=stop,
            batch_size=self.settings.processor_batch_size, away=(StoreUnavailable,),
        )  # fmt: skip
        return self.stream

    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        self.check_store()
        stream = self.make_stream(stop)
        log.info("processor: consuming %s into %s", self.topics.fetch_results.name, self.store.describe())
        try:
            stream.run(ready)
        finally:
            log.info("processor: stopped (%d results stored, %d dead-lettered)", self.stored, self.dead)

    def check_store(self) -> None:
        """StoreLost if the store holds no result while this group already took results from fetch-results:
        the store's file was removed or replaced while the processor was away (a new empty store would
        otherwise silently go on from the group's offsets, the history before them missing)."""
        if not self.store.is_empty():
            return
        topic = self.topics.fetch_results.name
        try:
            with Admin(self.settings) as admin:
                committed = admin.committed(self.topics.group(SERVICE))
        except BusError as exc:
            log.warning("processor: cannot read the group's offsets (%s): the store is not checked against them", exc)
            return
        taken = sum(offset for (name, _partition), offset in committed.items() if name == topic)
        if taken:
            raise StoreLost(
                f"the store at {self.store.describe()} holds no result, but the processor group already took "
                f"{taken} message(s) from {topic}: its file was removed or replaced; {REPLAY}"
            )

    def handle(self, records: list[Record]) -> Output:
        """One batch stored; its events and dead letters to publish (StoreUnavailable: the kernel pauses)."""
        batch = self.process(records)
        topic = self.topics.player_events

        def committed() -> None:
            self.stored += batch.stored
            self.dead += len(batch.letters)

        return Output(
            messages=[topic.raw(value, key=event.player_id) for event, value in batch.events],
            letters=batch.letters,
            committed=committed,
        )

    def process(self, records: list[Record]) -> Batch:
        """Decode and store a batch; what cannot be taken becomes a dead letter with why."""
        batch = Batch(records)
        results, answers = hero_stats.split(records, self.topics.hero_stats.name)
        with paused_gc():  # a batch builds ~100,000 short-lived objects: see paused_gc
            items: list[SourcedResult] = []
            for record in results:
                try:
                    items.append(parse_result(record))
                except ProcessingError as exc:
                    batch.letters.append((record, str(exc)))
            events, bad = apply_isolating(self.store.apply_results, items)
        if answers:
            letters = batch.letters
            hero_stats.store_answers(self.store, answers, lambda record, why: letters.append((record, why)))
        by_offset = {(r.topic, r.partition, r.offset): r for r in records}
        batch.letters += [(by_offset[(item.topic, item.partition, item.offset)], why) for item, why in bad]
        batch.stored = len(items) - len(bad)
        for event in events:
            value = codec.encode(event)
            if (
                len(value) > codec.MAX_EVENT
            ):  # readers refuse more; cannot happen with the models' bounds; refused rather than sent
                log.error("processor: event %s has %d bytes: not published", event.event_id, len(value))
                continue
            batch.events.append((event, value))
        return batch
