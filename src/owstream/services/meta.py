"""The meta service (``owstream run meta``): OverFast's ``GET /heroes/stats`` for every combination of
:func:`owstream.domain.meta.combinations`, at most once per ``meta_interval`` each, onto ``<prefix>.hero-stats``
(kept forever: the meta's history). The processor stores what it publishes.

When a combination was last fetched is read from the store, from the last messages of the topic when the
service starts (answers the processor has not stored yet) and from what this process published, so a
restarted service does not fetch again what OverFast still has cached. It also asks ``GET /heroes`` (each hero's
display name, role and portrait) once at start and then at the same interval, and writes the catalogue to
the store itself (reference data like the watchlist, not derived from a topic). Requests go through the process's
shared OverFast rate limit. Upstream trouble never stops the service: 429/503 are retried by the client after
Retry-After, then, like 504/500 and timeouts, pause the pass (Retry-After, else a growing backoff) and are
logged; a 422 or a malformed body is logged and that combination waits for its next interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from owstream.bus import Producer, Ready, Topics, read_tail
from owstream.config import Settings
from owstream.domain.heroes import Hero
from owstream.domain.meta import Combination, combinations
from owstream.errors import (
    BusError,
    OverFastError,
    ProcessingError,
    StoreError,
    UpstreamBusy,
    UpstreamUnavailable,
)
from owstream.messages import codec
from owstream.overfast.client import OverFastClient
from owstream.retry import Backoff
from owstream.store import Store

log = logging.getLogger(__name__)

FIRST_BACKOFF = 30.0  # seconds after the first failed pass; doubles up to the interval


class MetaService:
    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        *,
        client: OverFastClient | None = None,
        clock: Callable[[], float] = time.time,
        tick: float = 5.0,
    ) -> None:
        self.settings = settings  # meta_region is checked when the settings are made
        self.topics = Topics(settings.topic_prefix)
        self.store = store or Store.open(settings.resolved_store_url)
        self.interval = float(settings.meta_interval)
        self.combinations = combinations(role_region=settings.meta_region)
        self.backoff = Backoff(base=FIRST_BACKOFF, cap=self.interval, jitter="none")
        self.tick = tick
        self.published = 0
        self._client = client
        self._clock = clock
        self._last: dict[str, float] = {}  # combination key -> newest fetched_at known
        self._not_before: dict[str, float] = {}  # combination key -> no request before (after a 422/bad body)
        self._paused_until = 0.0
        self._failures = 0  # passes in a row that upstream trouble cut short
        self._heroes_due = float("-inf")  # when the hero catalogue (/heroes) is asked for next
        self.heroes_asked = 0  # /heroes requests made

    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        producer = Producer(self.settings)
        client = self._client or OverFastClient.from_settings(self.settings, sleep=stop.wait)  # a stop ends its retries
        self.remember(self.published_lately())
        log.info(
            "meta: %d combinations of /heroes/stats every %d s onto %s",
            len(self.combinations), self.interval, self.topics.hero_stats.name,
        )  # fmt: skip
        if ready is not None:
            ready()
        try:
            while not stop.is_set():
                stop.wait(self.step(producer, client, stop))
        finally:
            producer.close()
            if self._client is None:
                client.close()
            log.info("meta: stopped (%d answers published)", self.published)

    def remember(self, fetched: dict[str, float]) -> None:
        """Take in when combinations were fetched (from the store, the topic, this process)."""
        for key, at in fetched.items():
            if at > self._last.get(key, float("-inf")):
                self._last[key] = at

    def due(self, now: float) -> list[Combination]:
        """The combinations whose newest answer (stored, on the topic, or published here) is an interval old."""
        if self._stale(now):  # only then ask the store (one GROUP BY over the whole history)
            self.remember(self.store.hero_stats_fetched())
        return [
            combo
            for combo in self.combinations
            if now - self._last.get(combo.key, float("-inf")) >= self.interval
            and now >= self._not_before.get(combo.key, 0.0)
        ]

    def _stale(self, now: float) -> bool:
        """Whether what this process knows leaves some combination due."""
        never = float("-inf")
        return any(now - self._last.get(combo.key, never) >= self.interval for combo in self.combinations)

    def step(self, producer: Producer, client: OverFastClient, stop: threading.Event | None = None) -> float:
        """Fetch and publish what is due; returns how many seconds to wait before the next step."""
        now = self._clock()
        if now < self._paused_until:
            return min(self.tick, self._paused_until - now)
        for combo in self.due(now):
            if stop is not None and stop.is_set():
                break
            if not self._fetch(producer, client, combo):
                return min(self.tick, max(0.0, self._paused_until - self._clock()))
        if self._clock() >= self._heroes_due and not (stop is not None and stop.is_set()):
            self.refresh_heroes(client)  # after a whole pass: upstream trouble above pauses it too
        return self.tick

    def _fetch(self, producer: Producer, client: OverFastClient, combo: Combination) -> bool:
        """One combination; False if upstream trouble paused the pass."""
        try:
            response = client.hero_stats(combo.platform, combo.gamemode, combo.region, combo.division, combo.role)
        except (UpstreamBusy, UpstreamUnavailable) as exc:
            self._failures += 1
            wait = self.backoff.delay(self._failures, exc.retry_after or None)
            self._paused_until = self._clock() + wait
            log.warning("meta: %s (%s); pausing for %.0f s", combo.describe(), exc, wait)
            return False
        except OverFastError as exc:  # 422, a malformed body, anything else the API should not answer
            self._not_before[combo.key] = self._clock() + self.interval
            log.error("meta: %s: %s; next try in %.0f s", combo.describe(), exc, self.interval)
            return True
        fetched_at = self._clock()
        answer = codec.wire_hero_stats(
            response.body,
            fetched_at=fetched_at,
            gamemode=combo.gamemode,
            platform=combo.platform,
            region=combo.region,
            division=combo.division,
            role=combo.role,
            status=response.status,
            cache_headers=response.cache_headers,
        )
        message = self.topics.hero_stats.message(answer, key=combo.key)
        producer.publish(message)
        producer.flush()  # on the topic before it counts as fetched: a restart right after does not refetch
        self._last[combo.key] = fetched_at
        self._failures = 0
        self.published += 1
        log.debug("meta: %s: %d heroes", combo.describe(), len(response.checked))
        return True

    def refresh_heroes(self, client: OverFastClient) -> int:
        """Ask ``GET /heroes`` and store the catalogue; upstream trouble is logged and waits for the next
        interval (pages name heroes from their keys meanwhile). Returns how many heroes were stored."""
        self._heroes_due = self._clock() + self.interval
        self.heroes_asked += 1
        try:
            answer = client.heroes()
        except OverFastError as exc:
            log.warning("meta: the hero catalogue (/heroes): %s; next try in %.0f s", exc, self.interval)
            return 0
        found = [Hero(h.key, h.name, h.role, h.portrait) for h in answer.checked]
        try:
            stored = self.store.put_heroes(found, self._clock())
        except StoreError as exc:
            log.warning("meta: cannot store the hero catalogue: %s", exc)
            return 0
        log.debug("meta: hero catalogue: %d heroes", stored)
        return stored

    def published_lately(self) -> dict[str, float]:
        """When each combination was last published, from the topic's last messages (at least one pass)."""
        try:
            records = read_tail(self.settings, self.topics.hero_stats.name, count=2 * len(self.combinations))
        except BusError as exc:
            log.warning(
                "meta: cannot read %s (%s): the store alone says what was fetched", self.topics.hero_stats.name, exc
            )
            return {}
        fetched: dict[str, float] = {}
        for record in records:
            try:
                answer, _rows = self.topics.hero_stats.read(record)
            except ProcessingError:
                continue  # the processor dead-letters it
            key = Combination(answer.gamemode, answer.platform, answer.region, answer.division, answer.role).key
            fetched[key] = max(fetched.get(key, float("-inf")), answer.fetched_at)
        return fetched
