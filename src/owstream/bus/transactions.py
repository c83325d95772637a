"""The transactional producer: messages and consumer offsets visible together or not at all (KIP-98/447).

Used by the fetcher (requests -> results) and the processor (results -> events and dead letters). It waits
out a broker that is away, renews itself when librdkafka hangs past its own timeouts, and says with
TransactionAborted that the work must be done again (its messages never become visible).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import confluent_kafka as ck

from owstream.bus.client import OUTAGE_LOG_EVERY, Consumer, Offsets, Producer, partitions_of
from owstream.config import Settings
from owstream.errors import BusError, KafkaUnavailable, TransactionAborted, TransactionFenced

log = logging.getLogger(__name__)


class TransactionalProducer(Producer):
    """A producer whose messages and consumer offsets become visible together or not at all (KIP-98/447).

    ``transactional_id`` must be stable per instance: a restarted instance fences its dead predecessor and
    aborts what it left open. :meth:`commit` raises TransactionAborted when the transaction was aborted (its
    messages are never visible; redo the work), TransactionFenced when another instance took the id over.
    """

    # How long a transaction may stay open (and its messages wait for a broker that is away: librdkafka wants
    # delivery.timeout.ms <= this) before it is aborted and done again; also how long a dead instance's open
    # transaction can hold readers back if it never comes back (a restarted one fences it at once).
    TRANSACTION_TIMEOUT_MS = 60_000

    CALL_LIMIT = 25.0  # seconds a transactional call may block in librdkafka before the producer is renewed
    RENEWALS = 3  # fatal errors within RENEWAL_WINDOW renewed before giving up: another instance has this id

    RENEWAL_WINDOW = 300.0

    def __init__(self, settings: Settings, transactional_id: str, *, wait: Callable[[], bool] | None = None) -> None:
        self._txn_config = {
            "enable.idempotence": True,
            "transactional.id": transactional_id,
            "transaction.timeout.ms": self.TRANSACTION_TIMEOUT_MS,
            "delivery.timeout.ms": self.TRANSACTION_TIMEOUT_MS,
        }
        super().__init__(settings, **self._txn_config)  # type: ignore[arg-type]  # librdkafka settings
        self.transactional_id = transactional_id
        self._open = False
        self._renewed: list[float] = []
        self._abandoned: list[Any] = []  # producers stuck in a librdkafka call: kept, never called again
        self._retrying(lambda: self._producer.init_transactions(10), "start transactions", wait)

    def begin(self) -> None:
        if not self._open:
            self._producer.begin_transaction()
            self._open = True

    def commit(self, consumer: Consumer, offsets: Offsets, *, wait: Callable[[], bool] | None = None) -> None:
        """Commit the open transaction with ``offsets`` of ``consumer``'s group; retriable errors (a broker
        that is away) are retried while ``wait()`` says to go on."""
        self.begin()
        try:
            if offsets:
                metadata = consumer.group_metadata()
                self._retrying(
                    lambda: self._producer.send_offsets_to_transaction(partitions_of(offsets), metadata, 10),
                    "send the offsets",
                    wait,
                )
            self._retrying(lambda: self._producer.commit_transaction(10), "commit the transaction", wait)
        except TransactionAborted:
            self.abort()
            raise
        self._open = False

    def abort(self) -> None:
        if not self._open:
            return
        try:
            self._retrying(lambda: self._producer.abort_transaction(10), "abort the transaction", None)
        except (TransactionAborted, BusError) as exc:
            log.info("%s: abort: %s", self.transactional_id, exc)
        finally:
            self._open = False
            self._failures.clear()

    def _retrying(self, call: Callable[[], object], what: str, wait: Callable[[], bool] | None) -> None:
        since = time.monotonic()
        said = 0.0
        while True:
            try:
                _bounded(call, self.CALL_LIMIT)
                if said:
                    log.info("Kafka answers again: could %s after %.0f s", what, time.monotonic() - since)
                return
            except _Stuck as exc:
                # librdkafka can block past its own timeout (confluentinc/librdkafka#5456, #5511: a coordinator
                # that was decommissioned, e.g. after a broker restart): start over with a new producer.
                self._renew(f"could not {what} within {self.CALL_LIMIT:.0f} s")
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
                if wait is not None and not wait():
                    raise KafkaUnavailable(f"gave up trying to {what}: {err.str()}") from exc
                if time.monotonic() - said >= OUTAGE_LOG_EVERY:
                    waited = time.monotonic() - since
                    log.warning("waiting for Kafka at %s to %s (%.0f s): %s", self._where(), what, waited, err.str())
                    said = time.monotonic()
                time.sleep(0.2)

    def _renew(self, why: str, *, fatal: bool = False) -> None:
        """Replace the librdkafka producer with a new one of the same transactional.id (its init fences the
        old one and aborts what it left open). Fatal errors again and again mean another live instance has
        this id: TransactionFenced, the service stops."""
        now = time.monotonic()
        if fatal:
            self._renewed = [t for t in self._renewed if now - t < self.RENEWAL_WINDOW] + [now]
            if len(self._renewed) > self.RENEWALS:
                raise TransactionFenced(
                    f"{self.transactional_id}: {why}: another instance uses this transactional id; give each "
                    "instance its own OWSTREAM_INSTANCE_ID"
                )
        log.warning("%s: %s: renewing the transactional producer", self.transactional_id, why)
        self._abandoned.append(self._producer)
        self._open = False
        self._failures.clear()
        self._producer = ck.Producer(self._config(self.settings) | self._txn_config)
        self._retrying(lambda: self._producer.init_transactions(10), "start transactions", None)

    def _where(self) -> str:
        return self.settings.bootstrap_servers


class _Stuck(Exception):  # noqa: N818 - internal: a librdkafka call did not return in time
    pass


def _bounded(call: Callable[[], object], limit: float) -> object:
    """``call()`` in a helper thread, waiting at most ``limit`` seconds (librdkafka releases the GIL)."""
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
    if not done.wait(limit):
        raise _Stuck
    if "error" in box:
        raise box["error"]
    return box.get("value")


_FENCED = {
    ck.KafkaError._FENCED,
    ck.KafkaError.PRODUCER_FENCED,
    ck.KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
}
