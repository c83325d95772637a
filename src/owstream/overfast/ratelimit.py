"""A client-side rate limit: a thread-safe token bucket (GCRA form) that every OverFast request,
retries included, passes through. One instance per rate is shared by the whole process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import ClassVar

__all__ = ["BURST", "RateLimiter"]

# Calls a process may make back to back before the rate applies: the burst the public OverFast instance's
# own nginx allows above its rate (5), so that one fetch's calls (a summary and two stats per platform, at
# most 5) leave at once instead of one every 1/rate seconds. Over any time T a process makes at most
# rate * T + BURST calls: the rate itself is unchanged.
BURST = 5


class RateLimiter:
    """Allow ``rate`` acquisitions per second on average, at most ``burst`` back to back.

    ``acquire()`` reserves the next free slot under a lock and sleeps outside it, so waiting threads
    are served first come, first served and never wake up all at once.
    """

    _shared: ClassVar[dict[tuple[float, float], RateLimiter]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        self.rate = float(rate)
        self.burst = float(burst)
        self._interval = 1.0 / self.rate
        self._tolerance = (self.burst - 1.0) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tat: float | None = None  # theoretical arrival time of the next request

    @classmethod
    def shared(cls, rate: float, burst: float = 1.0) -> RateLimiter:
        """The process-wide limiter for this rate: every client configured alike shares one budget."""
        key = (float(rate), float(burst))
        with cls._shared_lock:
            limiter = cls._shared.get(key)
            if limiter is None:
                limiter = cls._shared[key] = cls(rate, burst)
            return limiter

    def reserve(self) -> float:
        """Take the next slot and return how many seconds the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            tat = now if self._tat is None else max(self._tat, now)
            wait = max(0.0, tat - self._tolerance - now)
            self._tat = tat + self._interval
            return wait

    def acquire(self) -> None:
        """Block until this caller may send one request."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
