"""The fetcher service: ``fetch-requests`` -> OverFast -> ``fetch-results``.

* Requests for the same player in one poll are coalesced into one fetch that answers them all.
* A player fetched less than the OverFast cache time ago is not fetched again unless the request is
  forced: the result says ``skipped`` (the stored data is as fresh as OverFast's).
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

from pydantic import ValidationError

from owstream.bus import Consumer, Producer, Record, TopicNames
from owstream.config import Settings
from owstream.deadletter import dead_letter
from owstream.errors import ClientBug, OverFastError, PlayerNotFound
from owstream.messages import FetchRequest, FetchResult, PlayerEvent
from owstream.overfast.client import OverFastClient

log = logging.getLogger(__name__)

SERVICE = "fetcher"


@dataclass
class _Job:
    player_id: str
    requests: list[FetchRequest] = field(default_factory=list)

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
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self.fetched = 0

    @property
    def assigned(self) -> frozenset[tuple[str, int]]:
        """The partitions this fetcher holds now (empty before it joined its group)."""
        return self._consumer.assigned if self._consumer is not None else frozenset()

    # --- the loop ---------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        self._consumer = Consumer(self.settings, self.names.group(SERVICE), [self.names.fetch_requests])
        self._producer = Producer(self.settings)
        log.info("fetcher: consuming %s, OverFast at %s", self.names.fetch_requests, self.settings.overfast_url)
        try:
            while not stop.is_set():
                self.step(self._consumer, self._producer)
        finally:
            self._producer.close()
            self._consumer.close()
            self.client.close()
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
                producer.send(self.names.fetch_results, result.to_bytes(), key=result.player_id)
        producer.flush()
        consumer.store(records)
        return len(records)

    # --- one poll ---------------------------------------------------------------------------------
    def _jobs(self, records: list[Record], producer: Producer) -> list[_Job]:
        jobs: dict[str, _Job] = {}
        now = self.clock()
        for record in records:
            try:
                request = FetchRequest.from_bytes(record.value)
            except ValidationError as exc:
                reason = f"not a FetchRequest: {exc.errors()[0]['msg']}"
                dead_letter(producer, self.names.dead_letter, record, service=SERVICE, reason=reason)
                continue
            if now - request.requested_at > self.request_ttl:
                log.info("dropping a stale request for %s (%.0f s old)", request.player_id, now - request.requested_at)
                continue
            jobs.setdefault(request.player_id, _Job(request.player_id)).requests.append(request)
            started = PlayerEvent(type="fetch_started", player_id=request.player_id, request_id=request.request_id)
            producer.send(self.names.player_events, started.to_bytes(), key=request.player_id)
        return list(jobs.values())

    def _fetch(self, job: _Job) -> FetchResult:
        request_ids = [r.request_id for r in job.requests]
        now = self.clock()
        last = self._last_fetch.get(job.player_id)
        if last is not None and not job.forced and now - last < self.settings.overfast_cache_seconds:
            return FetchResult(request_ids=request_ids, player_id=job.player_id, fetched_at=now, outcome="skipped")
        result = self.fetch_result(self.client, job.player_id, request_ids, self.clock)
        if result.outcome in ("ok", "private"):
            self._last_fetch[job.player_id] = result.fetched_at
        self.fetched += 1
        return result

    @staticmethod
    def fetch_result(
        client: OverFastClient, player_id: str, request_ids: list[str], clock: Callable[[], float] = time.time
    ) -> FetchResult:
        """Fetch one player and express every outcome as a FetchResult."""
        base = {"request_ids": request_ids, "player_id": player_id}
        try:
            snap = client.fetch_snapshot(player_id)
        except PlayerNotFound as exc:
            return FetchResult(
                **base, fetched_at=clock(), outcome="not_found", status=exc.status, error=str(exc),
                retry_after=exc.retry_after,
            )  # fmt: skip
        except OverFastError as exc:
            if isinstance(exc, ClientBug):
                log.error("OverFast rejected our request for %s (a bug in owstream): %s", player_id, exc)
            return FetchResult(
                **base, fetched_at=clock(), outcome="upstream_error", status=exc.status, error=str(exc),
                retry_after=exc.retry_after,
            )  # fmt: skip
        return FetchResult(
            **base,
            fetched_at=clock(),
            outcome="private" if snap.private else "ok",
            summary=snap.summary,
            stats=snap.stats,
            status=snap.status,
            cache_headers=snap.cache_headers,
        )
