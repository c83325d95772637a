"""The notifier service: ``player-events`` -> the webhooks of tracked players.

A rank change, a new play session and a privacy change of a player on the watchlist with a webhook URL
become an alert (:mod:`owstream.domain.alerts`: Discord's JSON by default, Slack's or plain JSON by
choice), for events of fetches made after the URL was set.

* **Once per event id.** Each alert is a row of the store's ``deliveries`` table, keyed by the event id
  (the processor may publish an event again after a crash, with the same id): an id already there is
  not sent again.
* **The store is the queue.** Events are read as the consumer group ``<prefix>.notifier``; an event's
  offset is committed only once its delivery is sent, given up or not wanted, so a restart reads again
  what was not finished and finds it in the store (pending deliveries resume, finished ones are skipped).
* **Bounded retries.** 429, 5xx, timeouts and connection errors are tried again with exponential backoff
  (a 429's or 503's ``Retry-After`` honoured, up to ``notify_max_wait``), at most ``notify_max_attempts``
  times; then, and at once for a webhook that refuses for good (400, 401, 403, 404, ...), the delivery is
  ``given_up`` with why, which the Pipeline page shows. Sends run in a few worker threads, each with a
  timeout, at most one at a time per player: a slow or dead webhook delays only its own player's alerts.

* **Poison loses nothing.** A record that is not a player event (not JSON, the wrong shape, too large, a
  ``schema`` header this version does not read) goes to ``<prefix>.dead-letter`` with why and where from, as
  in every other service, through a plain producer of the notifier's own; its offset waits in line like an
  unfinished delivery until Kafka acknowledged the dead letter (one it gave up on is sent again, with
  backoff), so a crash before that reads it again.

* **Nothing inside.** A webhook reaches only public addresses, checked when the URL is set and again at
  connect time, redirects never followed (:mod:`owstream.services.webhooks`); ``OWSTREAM_NOTIFY_ALLOW``
  names receivers inside (a self-hosted one).

URLs are secrets: what is logged or stored of one goes through :func:`owstream.domain.alerts.mask_url`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from owstream.bus import Consumer, Producer, Ready, Record, Topics, dead_letter
from owstream.config import Settings
from owstream.domain import alerts
from owstream.errors import ProcessingError
from owstream.messages import codec
from owstream.retry import Backoff
from owstream.services.webhooks import Sent, WebhookSender
from owstream.store import Store
from owstream.store.notifications import DROPPED, FINISHED, GIVEN_UP, PENDING, SENT, Delivery

log = logging.getLogger(__name__)

SERVICE = "notifier"


Send = Callable[[str, dict[str, Any], float], Sent]
Where = tuple[str, int, int]  # a record's topic, partition and offset
LETTER_RETRY = Backoff(base=1.0, cap=60.0)  # a dead letter Kafka gave up on is sent again after this


def backoff(attempts: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds before attempt ``attempts + 1``: the webhook's Retry-After if it gave one, else ``base``
    doubled per attempt with jitter; never more than ``cap``."""
    return Backoff(base=base, cap=cap).delay(attempts, retry_after)


@dataclass
class _Open:
    """A consumed record whose offset waits until its delivery (if any) or its dead letter is finished."""

    record: Record
    event_id: str | None  # None: nothing to deliver
    poison: bool = False  # it waits for its dead letter to be acknowledged instead


@dataclass
class _Letter:
    """The dead letter of a poison record, sent and not yet acknowledged."""

    record: Record
    reason: str
    failures: int = 0
    retry_at: float | None = None  # set while it waits to be sent again (time.monotonic)


def where(record: Record) -> Where:
    return (record.topic, record.partition, record.offset)


_POISON = object()  # take()'s mark of a record that is not an event


class Notifier:
    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        *,
        send: Send | None = None,
        clock: Callable[[], float] = time.time,
        backoff_base: float = 5.0,
        workers: int = 4,
    ) -> None:
        self.settings = settings
        self.topics = Topics(settings.topic_prefix)
        self._owns_store = store is None
        self.store = store or Store.open(settings.resolved_store_url)
        self.notes = self.store.notifications
        self.send: Send = send or WebhookSender.from_settings(settings)  # public addresses only (services/webhooks.py)
        self.clock = clock
        self.backoff_base = backoff_base
        self.workers = workers
        self.read = self.sent = self.given_up = 0  # events read, alerts sent, alerts given up
        self.dead = 0  # dead letters acknowledged
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notify")
        self._lock = threading.Lock()
        self._busy: set[str] = set()  # players with an attempt in flight
        self._finished: set[str] = set()  # event ids finished by the workers, not yet seen by the loop
        self._open: dict[tuple[str, int], deque[_Open]] = {}
        self._letters: dict[Where, _Letter] = {}  # dead letters not yet acknowledged (loop thread only)

    # --- the loop ---------------------------------------------------------------------------------
    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        consumer = Consumer(self.settings, self.topics.group(SERVICE), [self.topics.player_events.name])
        letters = Producer(self.settings)  # dead letters only: plain, not transactional
        log.info("notifier: consuming %s", self.topics.player_events.name)
        if ready is not None:
            ready()
        try:
            while not stop.is_set():
                self.step(consumer, letters)
        finally:
            self._pool.shutdown(wait=True)
            self._close_letters(letters)
            self._commit_finished(consumer)
            consumer.close()
            if self._owns_store:
                self.store.close()
            log.info(
                "notifier: stopped (%d alerts sent, %d given up, %d dead letters)", self.sent, self.given_up, self.dead
            )

    def step(self, consumer: Consumer, letters: Producer, timeout: float = 0.5) -> int:
        """Read events, record the deliveries they need (dead-letter the poison), serve the dead letters'
        acknowledgements, start the due attempts, commit finished offsets."""
        records = consumer.poll_batch(max_messages=200, timeout=timeout)
        self.take(records, letters)
        self.serve_letters(letters)
        self.send_due()
        self._commit_finished(consumer)
        return len(records)

    # --- events -> deliveries ---------------------------------------------------------------------
    def take(self, records: list[Record], letters: Producer) -> None:
        """Record the deliveries the events of ``records`` need and dead-letter the records that are not
        events; every record waits in ``_open`` until done."""
        self.read += len(records)
        wanted: list[tuple[Record, Any]] = []
        for record in records:
            try:
                event = self.topics.player_events.read(record)
            except ProcessingError as exc:
                self._dead_letter(letters, record, str(exc))
                wanted.append((record, _POISON))
                continue
            wanted.append((record, event if self._alerts(event) else None))
        players = {event.player_id for _, event in wanted if event is not None and event is not _POISON}
        targets = self.notes.targets(players) if players else {}
        now = self.clock()
        rows = []
        for record, event in wanted:
            if event is _POISON:
                self._queue(record, None, poison=True)
                continue
            target = targets.get(event.player_id) if event is not None else None
            if event is None or target is None or event.at < target.since:
                self._queue(record, None)
                continue
            rows.append(
                {
                    "event_id": event.event_id,
                    "player_id": event.player_id,
                    "event_type": event.type,
                    "event": codec.encode(event).decode(),
                    "created_at": now,
                }
            )
            self._queue(record, event.event_id)
        if rows:
            known = self.notes.add(rows)
            with self._lock:
                self._finished.update(eid for eid, status in known.items() if status in FINISHED)
            log.info("notifier: %d alert(s) to deliver", sum(1 for s in known.values() if s == PENDING))

    @staticmethod
    def _alerts(event: Any) -> bool:
        """Whether ``event`` is one that alerts."""
        return event.type in alerts.ALERTING_TYPES and alerts.alert_of(event) is not None

    def _queue(self, record: Record, event_id: str | None, *, poison: bool = False) -> None:
        self._open.setdefault((record.topic, record.partition), deque()).append(_Open(record, event_id, poison))

    # --- poison -> dead-letter --------------------------------------------------------------------
    def _dead_letter(self, letters: Producer, record: Record, reason: str) -> None:
        """Send the dead letter of ``record`` (once: a record read again while its letter is on its way waits
        for that one)."""
        if where(record) in self._letters:
            return
        self._letters[where(record)] = _Letter(record, reason)
        self._send_letter(letters, where(record))

    def _send_letter(self, letters: Producer, key: Where) -> None:
        letter = self._letters[key]
        letter.retry_at = None

        def delivered(error: str | None) -> None:
            self._on_letter(key, error)

        dead_letter(
            letters, self.topics.dead_letter, letter.record, service=SERVICE, reason=letter.reason, delivered=delivered
        )

    def _on_letter(self, key: Where, error: str | None) -> None:
        """A dead letter's fate (called from the producer's poll or flush, in the loop's thread)."""
        letter = self._letters.get(key)
        if letter is None:
            return
        if error is None:
            del self._letters[key]  # its record is finished
            self.dead += 1
            return
        letter.failures += 1
        wait = LETTER_RETRY.delay(letter.failures)
        letter.retry_at = time.monotonic() + wait
        log.warning("notifier: the dead letter of %s[%d]@%d was not delivered (%s); sent again in %.0f s", *key,
                    error, wait)  # fmt: skip

    def serve_letters(self, letters: Producer) -> None:
        """Serve the dead letters' acknowledgements and send again those Kafka gave up on, once due."""
        letters.poll(0)
        now = time.monotonic()
        for key, letter in list(self._letters.items()):
            if letter.retry_at is not None and letter.retry_at <= now:
                self._send_letter(letters, key)

    def _close_letters(self, letters: Producer) -> None:
        """Wait a little for the dead letters on their way; those not acknowledged keep their records'
        offsets uncommitted: the next start reads them again."""
        letters.flush(timeout=10.0)
        if self._letters:
            log.warning("notifier: %d dead letter(s) not acknowledged; their records are read again at the next "
                        "start", len(self._letters))  # fmt: skip

    def _commit_finished(self, consumer: Consumer) -> None:
        """Store the offset of each partition's finished prefix; forget partitions no longer assigned."""
        assigned = consumer.assigned
        for tp in [tp for tp in self._open if tp not in assigned]:
            del self._open[tp]  # its new owner reads it again; the store says what was done
        for key in [k for k, letter in self._letters.items() if k[:2] not in assigned and letter.retry_at is not None]:
            del self._letters[key]  # a dead letter to send again: its record's new owner sends it
        with self._lock:
            finished = set(self._finished)
        waiting = {o.event_id for q in self._open.values() for o in q if o.event_id and o.event_id not in finished}
        if waiting:  # finished by another notifier, or dropped when the webhook was removed
            statuses = self.notes.statuses(sorted(waiting)[:500])
            finished |= {eid for eid, status in statuses.items() if status in FINISHED}
        done: list[Record] = []
        for queue in self._open.values():
            last = None
            while queue and self._done(queue[0], finished):
                last = queue.popleft().record
            if last is not None:
                done.append(last)
        still = {o.event_id for q in self._open.values() for o in q if o.event_id}
        with self._lock:  # remember only what is still behind an unfinished record
            self._finished = (self._finished | finished) & still
        consumer.store(done)

    def _done(self, entry: _Open, finished: set[str]) -> bool:
        if entry.poison:
            return where(entry.record) not in self._letters  # its dead letter was acknowledged
        return entry.event_id is None or entry.event_id in finished

    # --- deliveries -> webhooks -------------------------------------------------------------------
    def send_due(self) -> int:
        """Start an attempt for each due delivery (one per player at a time); returns how many started."""
        now = self.clock()
        started = 0
        for delivery in self.notes.due(now, limit=self.workers * 4):
            with self._lock:
                if delivery.player_id in self._busy or len(self._busy) >= self.workers:
                    continue
            lease = now + self.settings.notify_timeout * 3 + 30  # another notifier leaves it alone meanwhile
            if not self.notes.claim(delivery, lease):
                continue
            with self._lock:
                self._busy.add(delivery.player_id)
            self._pool.submit(self._attempt_safely, delivery)
            started += 1
        return started

    def _attempt_safely(self, delivery: Delivery) -> None:
        try:
            self.attempt(delivery)
        except Exception:  # a store error: the lease runs out and the delivery is tried again
            log.exception("notifier: attempt at %s failed", delivery.event_id)
        finally:
            with self._lock:
                self._busy.discard(delivery.player_id)

    def attempt(self, delivery: Delivery) -> str:
        """One attempt at a delivery; returns its new status."""
        target = self.notes.targets([delivery.player_id]).get(delivery.player_id)
        if target is None:
            return self._finish(delivery, DROPPED, delivery.attempts, error="the player no longer has a webhook")
        event = codec.decode_event(delivery.event.encode())
        alert = alerts.alert_of(event, self.store.heroes())  # heroes by their display names
        if alert is None:
            return self._finish(delivery, DROPPED, delivery.attempts, error="nothing to alert")
        fmt = alerts.format_for(target.url, target.format)
        payload = alerts.body(alert, fmt, json.loads(delivery.event))
        where = alerts.mask_url(target.url)
        answer = self.send(target.url, payload, self.settings.notify_timeout)
        attempts = delivery.attempts + 1
        if answer.ok:
            log.info("notifier: %s of %s sent to %s (%s)", event.type, event.player_id, where, fmt)
            self.sent += 1
            return self._finish(delivery, SENT, attempts, http_status=answer.status)
        if answer.final or attempts >= self.settings.notify_max_attempts:
            why = answer.error if answer.final else f"gave up after {attempts} attempts; last: {answer.error}"
            log.warning("notifier: %s of %s to %s given up: %s", event.type, event.player_id, where, why)
            self.given_up += 1
            return self._finish(delivery, GIVEN_UP, attempts, http_status=answer.status, error=why)
        wait = backoff(
            attempts, base=self.backoff_base, cap=self.settings.notify_max_wait, retry_after=answer.retry_after
        )
        log.info(
            "notifier: %s to %s failed (%s); attempt %d in %.1f s", event.type, where, answer.error, attempts + 1, wait
        )
        self.notes.record(
            delivery.event_id,
            status=PENDING,
            attempts=attempts,
            now=self.clock(),
            next_attempt_at=self.clock() + wait,
            http_status=answer.status,
            error=answer.error,
        )
        return PENDING

    def _finish(
        self,
        delivery: Delivery,
        status: str,
        attempts: int,
        *,
        http_status: int | None = None,
        error: str | None = None,
    ) -> str:
        self.notes.record(
            delivery.event_id, status=status, attempts=attempts, now=self.clock(), http_status=http_status, error=error
        )
        with self._lock:
            self._finished.add(delivery.event_id)
        return status
