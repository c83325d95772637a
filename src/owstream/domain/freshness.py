"""Whether a fetch needs OverFast at all, from what the store knows of the player's last fetches. Pure.

Two rules, the same in every process (the fetcher reads the store, not only its own memory):

* a player fetched (ok or private) less than OverFast's cache time ago gets the same data again: the fetch
  answers ``skipped`` without a call;
* a player OverFast did not find is not asked for again before the time OverFast gave (``retry_after``):
  every repeat raises OverFast's own backoff for that player (600 -> 1800 -> 5400 s). The fetch answers
  ``not_found`` without a call (no HTTP status, :data:`NOT_ASKED` in its error, ``retry_after`` = the time
  left), unless forced. A later ok/private fetch ends that wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from owstream.domain.outcomes import NOT_ASKED, battletag_text, duration, utc

__all__ = ["NOT_ASKED", "KnownAnswer", "LastFetches", "known_answer"]


@dataclass(frozen=True, slots=True)
class LastFetches:
    """What the store (and the fetcher's memory) knows of a player's fetches."""

    fetched_at: float | None = None  # the newest ok or private result
    not_found_at: float | None = None  # the newest not_found result
    not_found_retry_after: float | None = None  # seconds after ``not_found_at`` OverFast looks again
    suggestion: str | None = None  # the BattleTag offered with the newest not_found ("did you mean ...?")

    def merged(self, other: LastFetches) -> LastFetches:
        """The newer of each fact (memory and store together)."""
        fetched = _newest(self.fetched_at, other.fetched_at)
        mine, theirs = (self.not_found_at or -1.0), (other.not_found_at or -1.0)
        source = self if mine >= theirs else other
        return LastFetches(fetched, source.not_found_at, source.not_found_retry_after, source.suggestion)


@dataclass(frozen=True, slots=True)
class KnownAnswer:
    """The outcome of a fetch answered without calling OverFast."""

    outcome: Literal["skipped", "not_found"]
    retry_after: float | None = None
    error: str | None = None
    suggestion: str | None = None  # the BattleTag offered with the not_found ("did you mean ...?")


def known_answer(last: LastFetches, now: float, *, cache_seconds: float, forced: bool) -> KnownAnswer | None:
    """The answer without OverFast, or None: ask OverFast."""
    if forced:
        return None
    not_found_wait = _not_found_wait(last, now)
    if not_found_wait is not None:
        assert last.not_found_at is not None
        next_check = last.not_found_at + (last.not_found_retry_after or 0.0)
        error = (
            f"Player not found ({NOT_ASKED}: on {utc(last.not_found_at)} it said it would check Blizzard again "
            f"at {utc(next_check)}, in {duration(not_found_wait)})"
        )
        if last.suggestion:
            error += f"; did you mean {battletag_text(last.suggestion)}?"
        return KnownAnswer("not_found", round(not_found_wait, 3), error, last.suggestion)
    if last.fetched_at is not None and 0 <= now - last.fetched_at < cache_seconds:
        return KnownAnswer("skipped")
    return None


def _not_found_wait(last: LastFetches, now: float) -> float | None:
    """Seconds until OverFast looks for a player it did not find, if that time is still ahead."""
    if last.not_found_at is None or not last.not_found_retry_after:
        return None
    if last.fetched_at is not None and last.fetched_at >= last.not_found_at:
        return None  # found since
    left = last.not_found_at + last.not_found_retry_after - now
    return left if left > 0 else None


def _newest(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
