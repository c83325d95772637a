"""Quotas: how many of something may happen in a sliding window (a visitor's fetch requests, the whole
dashboard's, forced refreshes, owner sign-in attempts). Pure: the caller passes the time and holds the lock."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from owstream.domain.outcomes import duration


@dataclass
class Window:
    """At most ``limit`` events per ``seconds``; ``limit`` 0 or less: none at all."""

    limit: int
    seconds: float
    what: str  # "fetch requests from this browser session", for the refusal
    _times: deque[float] = field(default_factory=deque)

    def _drop_old(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.seconds:
            self._times.popleft()

    def used(self, now: float) -> int:
        self._drop_old(now)
        return len(self._times)

    def wait(self, now: float) -> float:
        """Seconds until one more is allowed (0: now)."""
        self._drop_old(now)
        if self.limit <= 0:
            return float("inf")
        if len(self._times) < self.limit:
            return 0.0
        return max(0.0, self._times[0] + self.seconds - now)

    def refusal(self, now: float) -> str | None:
        """Why one more is refused now, in words; None when it is allowed."""
        wait = self.wait(now)
        if wait == 0:
            return None
        if self.limit <= 0:
            return f"{self.what} are turned off on this dashboard"
        return (
            f"{self.what} are limited to {self.limit} per {duration(self.seconds)}: the next one is "
            f"possible in {duration(wait)}"
        )

    def take(self, now: float) -> str | None:
        """Count one if allowed; returns the refusal otherwise (nothing counted)."""
        problem = self.refusal(now)
        if problem is None:
            self._times.append(now)
        return problem
