"""Waiting out trouble, said once: how long to wait before the next attempt (:class:`Backoff`), what a
``Retry-After`` says (:func:`retry_after_of`), and one warning per outage instead of one per attempt
(:class:`OutageWarning`).

Every loop that retries (the Kafka transactions, the processor's store, the OverFast client, the meta
service, the notifier's webhooks) takes its delays from a :class:`Backoff` and waits with its stop event's
``wait``, so a stop signal ends every wait at once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Literal

OUTAGE_LOG_EVERY = 10.0  # seconds between two warnings about the same outage


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff: ``base`` doubled per attempt, at most ``cap``; ``jitter`` "full" draws the
    delay from [0, ceiling] (many clients of one server spread out), "some" from ±20 %, "none" keeps it.
    A server's own ``Retry-After`` wins, capped too."""

    base: float = 0.1
    cap: float = 5.0
    jitter: Literal["full", "some", "none"] = "some"
    rng: random.Random = field(default_factory=random.Random, compare=False)  # jitter, not crypto

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1 for the first failure)."""
        if retry_after is not None:
            return max(0.0, min(self.cap, retry_after))
        raw = self.base * 2.0 ** min(60, max(0, attempt - 1))
        if self.jitter == "full":
            return float(self.rng.uniform(0.0, min(self.cap, raw)))
        if self.jitter == "some":
            return float(min(self.cap, raw * self.rng.uniform(0.8, 1.2)))
        return float(min(self.cap, raw))


def retry_after_of(header: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date (RFC 9110);
    None when absent or unreadable. Never negative."""
    if header is None or not header.strip():
        return None
    text = header.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - now())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class OutageWarning:
    """One warning per ``every`` seconds about one kind of trouble (the rest at DEBUG), and one line when it
    is over, saying how long it lasted::

        away = OutageWarning(log, "the store")
        away.still(f"cannot write: {exc}")   # a warning now, then at most one per 10 s
        away.over()                          # "the store answers again after 42 s" (only after trouble)
    """

    def __init__(self, logger: logging.Logger, what: str, *, every: float = OUTAGE_LOG_EVERY) -> None:
        self._log = logger
        self.what = what
        self.every = every
        self.since: float | None = None  # when the trouble began (monotonic); None: no trouble
        self._said = float("-inf")

    def still(self, detail: str) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = now
        if now - self._said >= self.every:
            self._log.warning("%s (%.0f s): %s", self.what, now - self.since, detail)
            self._said = now
        else:
            self._log.debug("%s: %s", self.what, detail)

    @property
    def lasted(self) -> float:
        """Seconds since the trouble began (0 without trouble)."""
        return 0.0 if self.since is None else time.monotonic() - self.since

    def over(self) -> None:
        if self.since is not None:
            self._log.info("%s: over after %.0f s", self.what, self.lasted)
        self.since = None
        self._said = float("-inf")
