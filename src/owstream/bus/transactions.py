"""The transactional producer: messages and consumer offsets visible together or not at all (KIP-98/447).

Used by the stream loop (:mod:`owstream.bus.stream`). It waits out a broker that is away, renews itself when
librdkafka stays stuck, and says with TransactionAborted that the work must be done again (its messages never
become visible).

Two bounds hold every transactional operation (start, send the offsets, commit, abort):

* one call may block at most ``CALL_LIMIT`` seconds (librdkafka#5456/#5511 can leave a call waiting for ever);
* one operation, however many calls it retries, may take at most ``STUCK_AFTER`` seconds: after a broker
  restart ``abort_transaction`` was seen answering ``_TIMED_OUT`` every 10 s for more than 10 minutes, each
  call returning in time. Past either bound the librdkafka producer is replaced by a new one with the same
  ``transactional.id`` (its start fences the old one and aborts what it left open).

A stop (the ``stop`` event) ends every wait at once with :class:`~owstream.errors.KafkaUnavailable`: an open
transaction is left to the broker (its timeout) or to the next instance (which fences it).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import confluent_kafka as ck

from owstream.bus.client import Consumer, Offsets, Producer, partitions_of
from owstream.config import Settings
from owstream.errors import BusError, KafkaUnavailable, TransactionAborted, TransactionFenced
from owstream.retry import Backoff, OutageWarning

log = logging.getLogger(__name__)


class TransactionalProducer(Producer):
    """A producer whose messages and consumer offsets become visible together or not at all.

    ``transactional_id`` must be stable per instance: a restarted instance fences its dead predecessor and
    aborts what it left open. :meth:`commit` raises TransactionAborted when the transaction was aborted (its
    messages are never visible; redo the work), TransactionFenced when another instance took the id over.
    """

    # How long a transaction may stay open (and its messages wait for a broker that is away: librdkafka wants
    # delivery.timeout.ms <= this) before the broker aborts it; also how long a dead instance's open
    # transaction can hold readers back if it never comes back (a restarted one fences it at once).
    TRANSACTION_TIMEOUT_MS = 60_000

    CALL_LIMIT = 25.0  # seconds one transactional call may block in librdkafka
    STUCK_AFTER = 60.0  # seconds one operation may keep failing before the producer is renewed
    RENEWALS = 3  # fatal errors within RENEWAL_WINDOW renewed before giving up: another instance has this id
    RENEWAL_WINDOW = 300.0
    BACKOFF = Backoff(base=0.2, cap=2.0)

    def __init__(self, settings: Settings, transactional_id: str, *, stop: threading.Event | None = None) -> None:
        self._txn_config = {
            "enable.idempotence": True,
            "transactional.id": transactional_id,
            "transaction.timeout.ms": self.TRANSACTION_TIMEOUT_MS,
            "delivery.timeout.ms": self.TRANSACTION_TIMEOUT_MS,
        }
        super().__init__(settings, **self._txn_config)  # type: ignore[arg-type]  # librdkafka settings
        self.transactional_id = transactional_id
        self.stop = stop or threading.Event()
        self.renewals = 0  # producers replaced so far (a stuck call or operation, a fatal error)
        self._open = False
        self._fatal: list[float] = []
        self._abandoned: list[Any] = []  # producers stuck in a librdkafka call: kept, never called again
        self._pending_start = True
        self._start()

    def begin(self) -> None:
        self.settle()  # renewed since the last transaction: started first
        if not self._open:
            self._producer.begin_transaction()
            self._open = True

    def settle(self) -> None:
        """Start a renewed producer now: its start fences the old one and waits until the broker has completed
        or aborted what the old one left open (so the group's committed offsets say how it ended)."""
        if self._pending_start:
            self._start()

    def commit(self, consumer: Consumer, offsets: Offsets) -> None:
        """Commit the open transaction with ``offsets`` of ``consumer``'s group; retriable errors (a broker
        that is away) are retried up to STUCK_AFTER, then the producer is renewed (TransactionAborted)."""
        self.begin()
        try:
            if offsets:
                metadata = consumer.group_metadata()
                self._retrying(
                    lambda p: p.send_offsets_to_transaction(partitions_of(offsets), metadata, 10), "send the offsets"
                )
            self._retrying(lambda p: p.commit_transaction(10), "commit the transaction")
        except TransactionAborted:
            self.abort()
            raise
        self._open = False

    def abort(self) -> None:
        """Abort the open transaction (if any). Never raises for Kafka's sake: a producer whose abort stays
        stuck is renewed, which aborts it too."""
        if not self._open:
            return
        try:
            self._retrying(lambda p: p.abort_transaction(10), "abort the transaction")
        except BusError as exc:  # TransactionAborted (renewed), KafkaUnavailable (stopping), the rest
            log.info("%s: abort: %s", self.transactional_id, exc)
        finally:
            self._open = False
            self._failures.clear()

    def close(self, timeout: float = 10.0) -> None:
        if not self.stop.is_set():
            super().close(timeout)

    # --- bounded, retried calls ---------------------------------------------------------------------
    def _start(self) -> None:
        """init_transactions until it succeeds (a producer that stays stuck is replaced and tried again)."""
        while True:
            try:
                self._retrying(lambda p: p.init_transactions(10), "start transactions")
                self._pending_start = False
                return
            except TransactionAborted:
                continue  # renewed: start the new one

    def _retrying(self, call: Callable[[Any], object], what: str) -> None:
        away = OutageWarning(log, f"{self.transactional_id}: waiting for Kafka at {self._where()} to {what}")
        deadline = time.monotonic() + self.STUCK_AFTER
        attempt = 0
        while True:
            producer = self._producer
            try:
                _bounded(functools.partial(call, producer), self.CALL_LIMIT, self.stop)
                away.over()
                return
            except _Stopped:
                raise KafkaUnavailable(f"{self.transactional_id}: stopped while trying to {what}") from None
            except _Stuck as exc:
                self._renew(f"could not {what} within {self.CALL_LIMIT:.0f} s (a librdkafka call that hangs)")
                raise TransactionAborted(f"{self.transactional_id}: {what} hung; the producer was renewed") from exc
            except ck.KafkaException as exc:
                err = exc.args[0]
                if err.fatal() or err.code() in _FENCED:
                    self._renew(err.str(), fatal=True)
                    raise TransactionAborted(f"{self.transactional_id}: {err.str()}; the producer was renewed") from exc
                if err.txn_requires_abort():
                    raise TransactionAborted(f"{self.transactional_id}: cannot {what}: {err.str()}") from exc
                if not err.retriable() and err.code() != ck.KafkaError._TIMED_OUT:
                    raise BusError(f"{self.transactional_id}: cannot {what}: {err.str()}") from exc
                if time.monotonic() >= deadline:
                    self._renew(f"could not {what} for {self.STUCK_AFTER:.0f} s (last: {err.str()})")
                    raise TransactionAborted(
                        f"{self.transactional_id}: could not {what} for {self.STUCK_AFTER:.0f} s; the producer was "
                        "renewed"
                    ) from exc
                away.still(err.str())
                attempt += 1
                if self.stop.wait(self.BACKOFF.delay(attempt)):
                    raise KafkaUnavailable(f"{self.transactional_id}: stopped while trying to {what}") from exc

    def _renew(self, why: str, *, fatal: bool = False) -> None:
        """Replace the librdkafka producer with a new one of the same transactional.id; the caller starts it
        (:meth:`_start`) before the next transaction. Fatal errors again and again mean another live instance
        has this id: TransactionFenced, the service stops."""
        now = time.monotonic()
        if fatal:
            self._fatal = [t for t in self._fatal if now - t < self.RENEWAL_WINDOW] + [now]
            if len(self._fatal) > self.RENEWALS:
                raise TransactionFenced(
                    f"{self.transactional_id}: {why}: another instance uses this transactional id; give each "
                    "instance its own OWSTREAM_INSTANCE_ID"
                )
        log.warning("%s: %s: renewing the transactional producer", self.transactional_id, why)
        self._abandoned.append(self._producer)
        self._open = False
        self._failures.clear()
        self._producer = ck.Producer(self._config(self.settings) | self._txn_config)
        self.renewals += 1
        self._pending_start = True

    def _where(self) -> str:
        return self.settings.bootstrap_servers


class _Stuck(Exception):  # noqa: N818 - internal: a librdkafka call did not return in time
    pass


class _Stopped(Exception):  # noqa: N818 - internal: the stop event was set while a call ran
    pass


def _bounded(call: Callable[[], object], limit: float, stop: threading.Event) -> object:
    """``call()`` in a helper thread, waiting at most ``limit`` seconds (librdkafka releases the GIL), and no
    longer than until ``stop`` is set."""
    done = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="kafka-txn-call", daemon=True).start()
    deadline = time.monotonic() + limit
    while not done.wait(min(0.2, max(0.0, deadline - time.monotonic()))):
        if stop.is_set():
            raise _Stopped
        if time.monotonic() >= deadline:
            raise _Stuck
    if "error" in box:
        raise box["error"]
    return box.get("value")


_FENCED = {
    ck.KafkaError._FENCED,
    ck.KafkaError.PRODUCER_FENCED,
    ck.KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
}
