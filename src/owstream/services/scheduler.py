"""The scheduler: requests a fetch of every watchlist player on an interval (never faster than the
OverFast cache, which would return the same data), adaptive: a player idle for days less often, at most
``refresh_max_interval`` apart (:mod:`owstream.domain.refresh`). Its requests say ``source: scheduler``: the
fetcher asks OverFast the summary alone for them, and the stats only when something moved
(:mod:`owstream.domain.fetchplan`)."""

from __future__ import annotations

import logging
import threading
import time

from owstream.bus import Producer, TopicNames
from owstream.bus.client import OUTAGE_LOG_EVERY
from owstream.config import Settings
from owstream.domain.refresh import refresh_of
from owstream.errors import StoreUnavailable
from owstream.messages import codec
from owstream.messages.models import FetchRequest, new_id
from owstream.services.runner import Ready
from owstream.store import Store

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, settings: Settings, store: Store | None = None, *, tick: float = 5.0) -> None:
        self.settings = settings
        self.names = TopicNames(settings.topic_prefix)
        self.store = store or Store.open(settings.resolved_store_url)
        self.policy = settings.refresh_policy
        self.interval = self.policy.base
        self.tick = tick
        self._requested: dict[str, float] = {}  # player -> when this scheduler last asked
        self._said = 0.0  # when an outage was last logged

    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        producer = Producer(self.settings)
        log.info("scheduler: refreshing the watchlist every %d s", self.interval)
        if ready is not None:
            ready()
        try:
            while not stop.is_set():
                try:
                    self.step(producer)
                except StoreUnavailable as exc:
                    self._unavailable(f"the store cannot be read: {exc}")
                stop.wait(self.tick)
        finally:
            producer.close()

    def _unavailable(self, why: str) -> None:
        now = time.monotonic()
        if now - self._said >= OUTAGE_LOG_EVERY:
            log.warning("scheduler: %s (waiting)", why)
            self._said = now

    def due(self, now: float) -> list[str]:
        """Watchlist players whose last fetch (or our last request) is older than their interval."""
        due = []
        for entry in self.store.watchlist():
            last = max(entry.last_fetched_at or 0.0, self._requested.get(entry.player_id, 0.0))
            if now - last >= refresh_of(self.policy, entry.last_updated_at, now).interval:
                due.append(entry.player_id)
        return due

    def step(self, producer: Producer) -> list[str]:
        now = time.time()
        due = self.due(now)
        for player_id in due:
            request = FetchRequest(player_id=player_id, request_id=new_id(), source="scheduler", requested_at=now)
            producer.send(
                self.names.fetch_requests, codec.encode(request), key=player_id, headers=codec.headers("FetchRequest")
            )
            self._requested[player_id] = now
        if due:
            log.info("scheduler: requested %d refresh(es)", len(due))
        waiting = producer.flush(1.0)  # a broker that is away: the requests wait in the producer, not lost
        if waiting:
            self._unavailable(f"{waiting} request(s) wait for Kafka at {self.settings.bootstrap_servers}")
        return due
