"""The scheduler: requests a fetch of every watchlist player on an interval (never faster than the
OverFast cache, which would return the same data), adaptive: a player idle for days less often, at most
``refresh_max_interval`` apart (:mod:`owstream.domain.refresh`). Its requests say ``source: scheduler``: the
fetcher asks OverFast the summary alone for them, and the stats only when something moved
(:mod:`owstream.domain.fetchplan`). A request the fetchers answer ``expired`` (it waited too long in the
queue, e.g. during an outage) is asked again at the next tick."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from owstream.bus import Producer, Ready, Topics
from owstream.config import Settings
from owstream.domain.refresh import policy_of, refresh_of
from owstream.errors import StoreUnavailable
from owstream.retry import OutageWarning
from owstream.services.requests import publish_request
from owstream.store import Store

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        *,
        tick: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock  # the time of its requests and of "due" (the population benchmark's simulated clock)
        self.topics = Topics(settings.topic_prefix)
        self.store = store or Store.open(settings.resolved_store_url)
        self.policy = policy_of(settings)
        self.interval = self.policy.base
        self.tick = tick
        self._requested: dict[str, float] = {}  # player -> when this scheduler last asked
        self._waiting: dict[str, str] = {}  # player -> the id of its request not answered yet
        self._store_away = OutageWarning(log, "scheduler: the store cannot be read (waiting)")
        self._kafka_away = OutageWarning(log, "scheduler: requests wait for Kafka")

    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        producer = Producer(self.settings)
        log.info("scheduler: refreshing the watchlist every %d s", self.interval)
        if ready is not None:
            ready()
        try:
            while not stop.is_set():
                try:
                    self.step(producer)
                    self._store_away.over()
                except StoreUnavailable as exc:
                    self._store_away.still(str(exc))
                stop.wait(self.tick)
        finally:
            producer.close(0.0 if stop.is_set() else 10.0)

    def due(self, now: float) -> list[str]:
        """Watchlist players whose last fetch (or our last request) is older than their interval."""
        self._forget_expired()
        due = []
        for entry in self.store.watchlist():
            last = max(entry.last_fetched_at or 0.0, self._requested.get(entry.player_id, 0.0))
            if now - last >= refresh_of(self.policy, entry.last_updated_at, now).interval:
                due.append(entry.player_id)
        return due

    def _forget_expired(self) -> None:
        """Requests answered ``expired`` were not fetched: their players are due again."""
        for player_id, request_id in list(self._waiting.items()):
            status = self.store.request_status(request_id)
            if status is None:
                continue
            del self._waiting[player_id]
            if status.outcome == "expired":
                log.info("scheduler: the request for %s expired unfetched: asking again", player_id)
                self._requested.pop(player_id, None)

    def step(self, producer: Producer) -> list[str]:
        now = self.clock()
        due = self.due(now)
        topic = self.topics.fetch_requests
        for player_id in due:
            self._waiting[player_id] = publish_request(producer, topic, player_id, source="scheduler", at=now)
            self._requested[player_id] = now
        if due:
            log.info("scheduler: requested %d refresh(es)", len(due))
        waiting = producer.flush(1.0)  # a broker that is away: the requests wait in the producer, not lost
        if waiting:
            self._kafka_away.still(f"{waiting} request(s) wait for Kafka at {self.settings.bootstrap_servers}")
        else:
            self._kafka_away.over()
        return due
