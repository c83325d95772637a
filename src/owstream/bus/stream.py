"""The stream kernel: one transactional consume -> process -> produce + commit loop, under every service that
turns messages into messages (the fetcher, the processor).

A service is a *handler*: ``handle(records) -> Output`` (the messages to produce and the records to
dead-letter, with why). The kernel does the rest, the same way for every service::

    stream = Stream(settings, "processor", [topics.fetch_results, topics.hero_stats], handle,
                    stop=stop, away=(StoreUnavailable,))
    stream.run(ready)

* **Batches of what has arrived.** It waits for a first message only, then takes what has already arrived
  (at most ``batch_size``): a batch is never what a timer collected.
* **One transaction per batch.** The batch's messages, its dead letters (``<prefix>.dead-letter``, why and
  where from) and its offsets are committed together (KIP-98/447); a reader with ``read_committed`` sees
  all or nothing of it. An aborted transaction is redone with the same output while this member still holds
  every partition of the batch (``REDO`` times), then the batch is rewound and handled again. An abort whose
  outcome is unknown (a producer renewed mid-commit: its transaction may have been completed by the broker)
  is settled by the group's committed offsets before anything is redone.
* **Nothing handled twice by one member.** Records below what this member has committed are skipped when
  read again: a group that forgot the member while the broker was away hands its partitions back from the
  offsets fetched before its last commit, and the batch it had just committed would come again.
* **Backpressure.** A handler that raises one of ``away`` (its sink, e.g. the store, is unavailable) has
  every partition paused while the kernel keeps polling (so the group sees a live member: no 15-minute
  ``max.poll.interval.ms``), and the batch is handled again after a backoff; partitions resume once it
  passes. The outage is logged once per 10 s, and once when it is over.
* **Stops at once.** ``stop`` ends every wait (a paused sink, a Kafka outage, a stuck transaction); what was
  not committed is read again by the next instance.
* **Stuck producers renewed** (:class:`~owstream.bus.transactions.TransactionalProducer`): a call or an
  operation that does not succeed within its bound gets a new producer, never a loop for ever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from owstream.bus.client import Consumer, Record, next_offsets
from owstream.bus.deadletter import dead_letter
from owstream.bus.topics import Outgoing, Topic, Topics
from owstream.bus.transactions import TransactionalProducer
from owstream.config import Settings
from owstream.errors import BusError, KafkaUnavailable, TransactionAborted
from owstream.retry import Backoff, OutageWarning

log = logging.getLogger(__name__)

Ready = Callable[[], None]  # called once a service's Kafka clients are up


class Runnable(Protocol):
    """A service: serves until ``stop`` is set, calls ``ready`` once it is up."""

    def run(self, stop: threading.Event, ready: Ready | None = None) -> None: ...


@dataclass
class Output:
    """What a handler made of a batch: messages to produce and records to dead-letter (with why)."""

    messages: list[Outgoing] = field(default_factory=list)
    letters: list[tuple[Record, str]] = field(default_factory=list)
    committed: Callable[[], None] | None = None  # called once the batch's transaction committed


Handle = Callable[[list[Record]], Output]
SINK_BACKOFF = Backoff(base=0.2, cap=5.0)  # between two tries of a batch whose sink is away


class Stream:
    REDO = 3  # an aborted transaction is redone this many times with the same output, then the batch rewound
    CLOSE_LIMIT = 5.0  # seconds closing the consumer may take (leaving the group of a broker that is away)

    def __init__(
        self,
        settings: Settings,
        service: str,
        sources: Sequence[Topic[Any]],
        handle: Handle,
        *,
        stop: threading.Event,
        batch_size: int = 500,
        away: tuple[type[BaseException], ...] = (),
        backoff: Backoff = SINK_BACKOFF,
        consumer_config: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.service = service
        self.topics = Topics(settings.topic_prefix)
        self.sources = [topic.name for topic in sources]
        self.handle = handle
        self.stop = stop
        self.batch_size = batch_size
        self.away = away
        self.backoff = backoff
        self.consumer_config = consumer_config
        self.transactional_id = f"{self.topics.group(service)}.{settings.instance}"
        self.consumer: Consumer | None = None
        self.producer: TransactionalProducer | None = None
        self.paused = False  # partitions paused while the sink is away
        self.batches = 0
        # records fetched while partitions were being paused: kept for the next batch, never sought back to
        # (a seek on a paused partition can be refused, and what it skipped would be lost)
        self._carry: list[Record] = []
        # per partition, the offset after the last record this member committed (see "Nothing handled twice")
        self._done: dict[tuple[str, int], int] = {}
        self._sink = OutageWarning(log, f"{service}: its sink is unavailable; partitions paused, polling on")
        self._aborts = OutageWarning(log, f"{service}: transactions aborted")

    @property
    def assigned(self) -> frozenset[tuple[str, int]]:
        """The partitions this member holds now (empty before it joined its group)."""
        return self.consumer.assigned if self.consumer is not None else frozenset()

    # --- lifecycle ----------------------------------------------------------------------------------
    def open(self) -> None:
        self.consumer = Consumer(
            self.settings, self.topics.group(self.service), self.sources, transactional=True,
            config=self.consumer_config,
        )  # fmt: skip
        self.producer = TransactionalProducer(self.settings, self.transactional_id, stop=self.stop)

    def run(self, ready: Ready | None = None) -> None:
        """Serve until ``stop`` is set."""
        try:
            self.open()
        except BusError:
            if self.stop.is_set():
                return
            raise
        if ready is not None:
            ready()
        try:
            while not self.stop.is_set():
                self.step()
        except BusError:
            if not self.stop.is_set():
                raise
            log.info("%s: stopped while waiting for Kafka", self.service)
        finally:
            self.close()

    def close(self) -> None:
        if self.producer is not None:
            self.producer.abort()
            self.producer.close()
        if self.consumer is not None:
            consumer = self.consumer
            _within(self.CLOSE_LIMIT, lambda: consumer.close(commit=False), f"{self.service}: closing its consumer")

    # --- one batch ----------------------------------------------------------------------------------
    def step(self, timeout: float = 0.5) -> int:
        """One batch of what has arrived: handled, then produced and committed in one transaction. Returns
        the records committed (0 when nothing arrived, or the batch is to be read again)."""
        assert self.consumer is not None, "open() first"
        carried = self._carried()
        records = self._fresh(
            carried
            + self.consumer.poll_batch(
                max_messages=max(1, self.batch_size - len(carried)), timeout=0 if carried else timeout
            )
        )
        if not records:
            return 0
        handled = self._handled(records)
        if handled is None or self.stop.is_set():  # stopping: nothing is committed, the batch is read again
            return 0
        records, output = handled
        return len(records) if self._publish(records, output) else 0

    def _fresh(self, records: list[Record]) -> list[Record]:
        """``records`` without those this member has already committed (read again after its group forgot it)."""
        fresh = [r for r in records if r.offset >= self._done.get((r.topic, r.partition), 0)]
        if len(fresh) < len(records):
            log.info("%s: %d record(s) already committed, read again: skipped", self.service, len(records) - len(fresh))
        return fresh

    def _handled(self, records: list[Record]) -> tuple[list[Record], Output] | None:
        """``handle(records)``; while it raises one of ``away``: partitions paused, polling on, tried again
        after a backoff. None when stopping or when every partition of the batch went to another member."""
        attempt = 0
        while True:
            try:
                output = self.handle(records)
            except self.away as exc:
                attempt += 1
                self._sink.still(str(exc))
                if not self._wait_paused(self.backoff.delay(attempt)):
                    return None
                held = self.assigned
                records = [r for r in records if (r.topic, r.partition) in held] + self._carried()
                if not records:
                    self._resume()
                    return None
                continue
            if self.paused:
                self._resume()
                self._sink.over()
            return records, output

    def _wait_paused(self, seconds: float) -> bool:
        """Poll with every partition paused for ``seconds`` (the group's liveness); False if stopped."""
        assert self.consumer is not None
        waited = 0.0
        while waited < seconds:
            self._pause()  # partitions assigned meanwhile are paused too
            if self.stop.is_set():
                return False
            step = min(0.5, seconds - waited)
            # what was fetched before its partition was paused comes after the batch: kept for it
            self._carry += self.consumer.poll_batch(max_messages=self.batch_size, timeout=step)
            waited += step
        return not self.stop.is_set()

    def _carried(self) -> list[Record]:
        """The records kept while partitions were paused, of the partitions still held."""
        held = self.assigned
        carried, self._carry = [r for r in self._carry if (r.topic, r.partition) in held], []
        return carried

    def _pause(self) -> None:
        assert self.consumer is not None
        self.consumer.pause()
        self.paused = True

    def _resume(self) -> None:
        assert self.consumer is not None
        self.consumer.resume()
        self.paused = False

    def _publish(self, records: list[Record], output: Output) -> bool:
        """The output, the dead letters and the offsets in one transaction. Aborted: redone with the same
        output while every partition of the batch is still held (what makes it fail may be mended by
        polling, e.g. a group that forgot this member while the broker was away), else rewound."""
        assert self.consumer is not None and self.producer is not None
        for attempt in range(1, self.REDO + 1):
            try:
                self.producer.begin()
                for record, why in output.letters:
                    dead_letter(self.producer, self.topics.dead_letter, record, service=self.service, reason=why)
                for message in output.messages:
                    self.producer.publish(message)
                self.producer.commit(self.consumer, next_offsets(records))
            except TransactionAborted as exc:
                self._aborts.still(f"{exc} (attempt {attempt} of {self.REDO})")
                if self._went_through(records):
                    log.info("%s: the aborted transaction had committed after all (a renewed producer)", self.service)
                    return self._committed(records, output)
                held = self.assigned
                if any((r.topic, r.partition) not in held for r in records):
                    return self._rewind(records)
                waited = self._wait_paused(0.2 * attempt)  # polling, so the group can take this member back
                self._resume()
                if not waited:
                    return False
                continue
            return self._committed(records, output)
        return self._rewind(records)

    def _committed(self, records: list[Record], output: Output) -> bool:
        self._aborts.over()
        self.batches += 1
        for tp, offset in next_offsets(records).items():
            self._done[tp] = max(self._done.get(tp, 0), offset)
        if output.committed is not None:
            output.committed()
        return True

    def _went_through(self, records: list[Record]) -> bool:
        """After an abort: whether the group's committed offsets already cover the batch (the broker completed
        the transaction a renewed producer had left committing; the new producer's start waits for that).
        False when they do not, or cannot be read now (the transaction is redone or the batch rewound)."""
        assert self.consumer is not None and self.producer is not None
        try:
            self.producer.settle()
            committed = self.consumer.committed({(r.topic, r.partition) for r in records})
        except (TransactionAborted, KafkaUnavailable) as exc:
            log.info("%s: the group's committed offsets cannot be read now: %s", self.service, exc)
            return False
        return all(committed.get(tp, -1) >= offset for tp, offset in next_offsets(records).items())

    def _rewind(self, records: list[Record]) -> bool:
        assert self.consumer is not None
        kept = [r for r in records if (r.topic, r.partition) in self.assigned]
        log.warning("%s: %d record(s) read again after aborted transactions", self.service, len(kept))
        self.consumer.rewind(kept + self._carried())  # the carried ones come after: read again too
        return False


def _within(limit: float, call: Callable[[], object], what: str) -> None:
    """``call()`` in a helper thread, waiting at most ``limit`` seconds (then it is left to finish alone)."""
    thread = threading.Thread(target=call, name="kafka-close", daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        log.warning("%s took more than %.0f s: left behind", what, limit)
