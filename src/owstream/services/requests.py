"""Publish a fetch request and follow it through the pipeline: queued -> fetching -> stored.

Progress comes from ``player-events``: the fetcher announces ``fetch_started``, the processor
``fetch_stored`` (after the store commit, with the outcome). The watcher reads from the topic's end
as it was *before* the request was sent, so no event of this request can be missed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from owstream.bus import Producer, TailReader, Topic, Topics
from owstream.config import Settings
from owstream.errors import OwstreamError, ProcessingError
from owstream.messages.models import FetchRequest, PlayerEvent, StoredData, new_id
from owstream.store import Store

log = logging.getLogger(__name__)

QUEUED, FETCHING, STORED = "queued", "fetching", "stored"


@dataclass
class RequestState:
    request_id: str
    player_id: str
    state: str = QUEUED  # queued, fetching, stored
    outcome: str | None = None  # once stored: one of owstream.domain.vocabulary.OUTCOMES
    error: str | None = None
    retry_after: float | None = None
    suggestion: str | None = None  # a BattleTag equal to the one asked apart from case (not_found, mismatch)
    events: list[PlayerEvent] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.state == STORED


def publish_request(
    producer: Producer,
    topic: Topic[FetchRequest],
    player_id: str,
    *,
    source: str,
    force: bool = False,
    at: float | None = None,
) -> str:
    """Send a new fetch request for ``player_id`` (keyed by it) on ``topic``; its request id. The caller
    flushes (and closes) its producer."""
    request_id = new_id()
    requested_at = time.time() if at is None else at
    request = FetchRequest(player_id=player_id, request_id=request_id, force=force, requested_at=requested_at,
                           source=source)  # fmt: skip
    producer.publish(topic.message(request, key=player_id))
    return request_id


class RequestTracker:
    """One request in flight. ``poll()`` advances its state; ``close()`` when done."""

    def __init__(self, settings: Settings, player_id: str, *, force: bool = False, source: str = "cli") -> None:
        self._topics = topics = Topics(settings.topic_prefix)
        self._reader = TailReader(settings, topics.player_events.name)
        producer = Producer(settings, idempotent=False)  # one message: no 0.5 s producer-id round trip
        try:
            request_id = publish_request(producer, topics.fetch_requests, player_id, source=source, force=force)
            producer.flush_or_raise(timeout=15)
        except BaseException:
            self._reader.close()
            raise
        finally:
            producer.close()
        self.status = RequestState(request_id, player_id)
        self._seen: set[str] = set()
        self._settings = settings
        self._players = {player_id}  # ids an event answering this request may carry
        self._looked_up = False

    def poll(self, timeout: float = 0.5) -> RequestState:
        for record in self._reader.poll(timeout):
            try:
                event = self._topics.player_events.read(record)
            except ProcessingError:
                continue
            if event.request_id != self.status.request_id or event.event_id in self._seen:
                continue  # another request's, or one seen already (events can be published again, same id)
            if not self._about_this_player(event.player_id):
                log.warning("ignoring %s for request %s: it is about %s, not %s", event.type,
                            self.status.request_id, event.player_id, self.status.player_id)  # fmt: skip
                continue  # a forged result answering this request for another player
            self._seen.add(event.event_id)
            self.status.events.append(event)
            if event.type == "fetch_started" and self.status.state == QUEUED:
                self.status.state = FETCHING
            elif event.type == "fetch_stored" and isinstance(event.data, StoredData):
                self._stored(event.data)
        return self.status

    def _about_this_player(self, player_id: str) -> bool:
        """Whether an event about ``player_id`` can answer this request: the player asked for, or the history
        the store keeps it under (a BattleTag renamed, a Blizzard id; asked of the store only then)."""
        if player_id in self._players or self._looked_up:
            return player_id in self._players
        self._looked_up = True  # once: forged events cannot make a reader open the store again and again
        try:
            with Store.open(self._settings.resolved_store_url) as store:
                self._players.add(store.aliases.history_of(self.status.player_id))
        except OwstreamError as exc:
            log.warning("cannot tell whether %s is %s (%s)", player_id, self.status.player_id, exc)
        return player_id in self._players

    def _stored(self, data: StoredData) -> None:
        self.status.state = STORED
        self.status.outcome = data.outcome
        self.status.error = data.error
        self.status.retry_after = data.retry_after
        self.status.suggestion = data.suggestion

    def wait(
        self,
        timeout: float = 120.0,
        on_change: Callable[[RequestState], None] | None = None,
        check: Callable[[], None] | None = None,
    ) -> RequestState:
        """Poll until stored or ``timeout``; ``on_change`` hears each new state, ``check`` runs every poll
        (it may raise to abort, e.g. when an in-process service died)."""
        deadline = time.monotonic() + timeout
        seen = self.status.state
        while not self.status.done and time.monotonic() < deadline:
            if check is not None:
                check()
            self.poll(timeout=0.2)
            if on_change is not None and self.status.state != seen:
                seen = self.status.state
                on_change(self.status)
        return self.status

    def close(self) -> None:
        self._reader.close()
