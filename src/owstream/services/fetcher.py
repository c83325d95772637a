"""The fetcher service: ``fetch-requests`` -> OverFast -> ``fetch-results``.

* Requests for the same player in one poll are coalesced into one fetch that answers them all.
* A player fetched less than the OverFast cache time ago is not fetched again unless the request is
  forced: the result says ``skipped`` (the stored data is as fresh as OverFast's). An unknown player is
  not asked for again before OverFast's retry time (``not_found`` without a call). Both are decided from
  the store, so in every process (:mod:`owstream.domain.freshness`, :mod:`owstream.services.freshness`).
* Requests older than ``request_ttl`` are stale (nobody waits for them any more) and are dropped.
* At-least-once: offsets are stored only after every result of the poll was delivered (idempotent
  producer, acks=all). Two fetchers in one consumer group share the partitions, so no double work.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from owstream.bus import Consumer, Producer, Record, TopicNames, dead_letter
from owstream.config import Settings
from owstream.domain.battletag import player_id_problem
from owstream.domain.freshness import LastFetches, known_answer
from owstream.errors import ClientBug, OverFastError, PlayerNotFound, ProcessingError
from owstream.messages import codec
from owstream.messages.models import FetchRequest, FetchStarted, WireResult
from owstream.overfast.client import OverFastClient
from owstream.services.freshness import StoreFreshness
from owstream.services.identity import Identities
from owstream.services.runner import Ready

log = logging.getLogger(__name__)

SERVICE = "fetcher"


@dataclass(frozen=True)
class Request:
    """A request as the fetcher serves it: its id and time filled in from the message when it had none."""

    request_id: str
    player_id: str
    force: bool
    requested_at: float


@dataclass
class _Job:
    player_id: str
    requests: list[Request] = field(default_factory=list)

    @property
    def forced(self) -> bool:
        return any(r.force for r in self.requests)


class Fetcher:
    def __init__(
        self,
        settings: Settings,
        *,
        client: OverFastClient | None = None,
        clock: Callable[[], float] = time.time,
        request_ttl: float = 600.0,
        workers: int = 4,
    ) -> None:
        self.settings = settings
        self.names = TopicNames(settings.topic_prefix)
        self.client = client or OverFastClient.from_settings(settings)
        self.clock = clock
        self.request_ttl = request_ttl
        self.workers = workers
        self._last_fetch: dict[str, float] = {}  # player -> fetched_at of the last ok/private result
        self._freshness = StoreFreshness(settings)
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self.fetched = 0

    @property
    def assigned(self) -> frozenset[tuple[str, int]]:
        """The partitions this fetcher holds now (empty before it joined its group)."""
        return self._consumer.assigned if self._consumer is not None else frozenset()

    # --- the loop ---------------------------------------------------------------------------------
    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        self._consumer = Consumer(self.settings, self.names.group(SERVICE), [self.names.fetch_requests])
        self._producer = Producer(self.settings)
        log.info("fetcher: consuming %s, OverFast at %s", self.names.fetch_requests, self.settings.overfast_url)
        if ready is not None:
            ready()
        try:
            while not stop.is_set():
                self.step(self._consumer, self._producer)
        finally:
            self._producer.close()
            self._consumer.close()
            self.client.close()
            self._freshness.close()
            log.info("fetcher: stopped after %d fetches", self.fetched)

    def step(self, consumer: Consumer, producer: Producer, timeout: float = 0.5) -> int:
        records = consumer.poll_batch(max_messages=50, timeout=timeout)
        if not records:
            return 0
        jobs = self._jobs(records, producer)
        if jobs:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(jobs))) as pool:
                results = list(pool.map(self._fetch, jobs))
            for result in results:
                producer.send(
                    self.names.fetch_results,
                    codec.encode(result),
                    key=result.player_id,
                    headers=codec.headers("FetchResult"),
                )
        producer.flush()
        consumer.store(records)
        return len(records)

    # --- one poll ---------------------------------------------------------------------------------
    def _jobs(self, records: list[Record], producer: Producer) -> list[_Job]:
        jobs: dict[str, _Job] = {}
        now = self.clock()
        for record in records:
            try:
                request = read_request(record)
            except ProcessingError as exc:
                dead_letter(producer, self.names.dead_letter, record, service=SERVICE, reason=str(exc))
                continue
            if now - request.requested_at > self.request_ttl:
                log.info("dropping a stale request for %s (%.0f s old)", request.player_id, now - request.requested_at)
                continue
            jobs.setdefault(request.player_id, _Job(request.player_id)).requests.append(request)
            started = FetchStarted(
                event_id=f"{request.request_id}:fetch_started",
                player_id=request.player_id,
                at=now,
                request_id=request.request_id,
            )
            producer.send(
                self.names.player_events,
                codec.encode(started),
                key=request.player_id,
                headers=codec.headers("PlayerEvent"),
            )
        return list(jobs.values())

    def _fetch(self, job: _Job) -> WireResult:
        request_ids = [r.request_id for r in job.requests]
        now = self.clock()
        who = Identities(self._freshness.store()).resolve(job.player_id)  # history and upstream id
        if not job.forced:  # decided from the store (every process) and this fetcher's memory
            last = self._freshness.last(who.history_id, LastFetches(fetched_at=self._last_fetch.get(who.history_id)))
            known = known_answer(last, now, cache_seconds=self.settings.overfast_cache_seconds, forced=False)
            if known is not None:
                return codec.wire_result(
                    request_ids=request_ids, player_id=who.history_id, fetched_at=now, outcome=known.outcome,
                    error=known.error, retry_after=known.retry_after,
                )  # fmt: skip
        result = self.fetch_result(self.client, who.upstream_id, request_ids, self.clock)
        if result.outcome == "not_found" and who.upstream_id != job.player_id:  # OverFast lost the Blizzard id
            result = self.fetch_result(self.client, job.player_id, request_ids, self.clock)
        if result.outcome in ("ok", "private"):
            who = Identities(self._freshness.store()).learn(self.client, who)
            self._last_fetch[who.history_id] = result.fetched_at
        self.fetched += 1
        return codec.with_player_id(result, who.history_id)

    @staticmethod
    def fetch_result(
        client: OverFastClient, player_id: str, request_ids: list[str], clock: Callable[[], float] = time.time
    ) -> WireResult:
        """Fetch one player and express every outcome as a FetchResult."""
        try:
            snap = client.fetch_snapshot(player_id)
        except OverFastError as exc:
            if isinstance(exc, ClientBug):
                log.error("OverFast rejected our request for %s (a bug in owstream): %s", player_id, exc)
            return codec.wire_result(
                request_ids=request_ids,
                player_id=player_id,
                fetched_at=clock(),
                outcome="not_found" if isinstance(exc, PlayerNotFound) else "upstream_error",
                status=exc.status,
                error=str(exc)[:2000],
                retry_after=exc.retry_after,
            )
        return codec.wire_result(
            request_ids=request_ids,
            player_id=player_id,
            fetched_at=clock(),
            outcome="private" if snap.private else "ok",
            summary=snap.summary,
            stats=snap.stats,
            status=snap.status,
            cache_headers=snap.cache_headers,
        )


def read_request(record: Record) -> Request:
    """The request in a message; ProcessingError (dead-letter it) if it is not one.

    A request needs only its ``player_id``: one without an id is named after where it is on the topic, one
    without a time takes the message's timestamp."""
    codec.check_schema("FetchRequest", record.headers.get("schema"))
    message: FetchRequest = codec.decode_request(record.value)
    problem = player_id_problem(message.player_id)
    if problem is not None:
        raise ProcessingError(f"not a FetchRequest (player_id: {problem})")
    request_id = message.request_id or f"{record.topic}:{record.partition}:{record.offset}"
    requested_at = message.requested_at
    if requested_at is None:
        requested_at = record.timestamp_ms / 1000 if record.timestamp_ms else time.time()
    return Request(request_id, message.player_id, message.force, requested_at)
