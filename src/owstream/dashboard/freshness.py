"""The dashboard's cached reads (:mod:`owstream.dashboard.data`) are kept until the store changes.

Every page run first asks the store whether anything was committed since the last run asked
(:meth:`owstream.store.Store.change_marker`, microseconds); if so, or if it cannot tell, every cached read is
dropped. So a page opened again, or re-run by a widget, reads nothing from the database unless something was
stored in between, and never shows less than what the store holds when the run began. ``data.TTL_SECONDS``
still bounds how long a read is kept (what depends on the clock: "3 minutes ago", a window's start).
"""

from __future__ import annotations

import logging
import threading

from owstream.dashboard import data
from owstream.errors import OwstreamError

log = logging.getLogger(__name__)


class _Seen:
    """The marker of the last check, shared by every session of this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.marker: object = None


_SEEN = _Seen()


def check() -> bool:
    """Drop the cached reads if the store changed since the last check (True: dropped)."""
    try:
        marker: object = data.store().change_marker()
    except OwstreamError as exc:  # the page's own reads say what is wrong
        log.debug("dashboard: the store's change marker is unknown: %s", exc)
        marker = None
    with _SEEN.lock:
        changed = marker is None or marker != _SEEN.marker
        _SEEN.marker = marker
        if changed:
            data.clear_caches()
    return changed
