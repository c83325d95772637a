"""The fetcher's view of the store's fetch history: "was this player fetched lately, or not found?".

Opened lazily on the first question, read-only in use. A store that cannot be read does not stop fetching:
the fetcher then decides from its own memory (and says so once in the log).
"""

from __future__ import annotations

import logging
import threading

from owstream.config import Settings
from owstream.domain.fetchplan import Stored
from owstream.domain.freshness import LastFetches
from owstream.errors import OwstreamError
from owstream.store import Store

log = logging.getLogger(__name__)


class StoreFreshness:
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self._url = settings.resolved_store_url
        self._store = store
        self._owned = store is None
        self._lock = threading.Lock()
        self._warned = False

    def store(self) -> Store | None:
        """The store, opened on first use; None if it cannot be opened."""
        return self._open()

    def _open(self) -> Store | None:
        with self._lock:
            if self._store is None:
                try:
                    self._store = Store.open(self._url)
                except OwstreamError as exc:
                    self._warn(exc)
                    return None
            return self._store

    def last(self, player_id: str, memory: LastFetches) -> LastFetches:
        """The store's facts about ``player_id`` merged with the fetcher's ``memory`` (the newer of each)."""
        store = self._open()
        if store is None:
            return memory
        try:
            return store.last_fetches(player_id).merged(memory)
        except Exception as exc:  # a database error: fetch as if nothing were known
            self._warn(exc)
            return memory

    def stored(self, player_id: str) -> Stored:
        """What the store knows to plan a fetch of ``player_id`` from; nothing if it cannot be read."""
        store = self._open()
        if store is None:
            return Stored()
        try:
            return store.fetch_facts(player_id)
        except Exception as exc:  # a database error: planned as for a player never seen
            self._warn(exc)
            return Stored()

    def _warn(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            log.warning("the store cannot tell when players were last fetched (%s): deciding from memory", exc)

    def close(self) -> None:
        with self._lock:
            if self._store is not None and self._owned:
                self._store.close()
            self._store = None
