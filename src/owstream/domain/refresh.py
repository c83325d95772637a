"""When the scheduler refreshes a tracked player: adaptive, from when the player last played. Pure.

Blizzard updates a career profile only when its player leaves a game (``last_updated_at``), so a player who
has not played for days is very likely unchanged at the next refresh. The interval grows with that idle time:

* played in the last day (or never fetched): every ``base`` seconds (the refresh interval, never below OverFast's
  10-minute cache): a new session is seen at most ``base`` after OverFast has it;
* idle longer: the interval grows in proportion, from ``base`` after a day to ``longest`` (an hour) after a week
  idle, and stays there.

So anyone who plays at least once a day is refreshed every ``base`` seconds, always; a player back after a
week away waits at most ``longest`` for the first session to be seen, then is back at ``base``. With
``adaptive`` off every player is refreshed every ``base`` seconds (the behaviour before).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from owstream.domain.outcomes import duration

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    base: float = 600.0  # seconds between refreshes of an active player
    longest: float = 3600.0  # at most this long between two refreshes, after ``idle_max`` idle
    adaptive: bool = True  # False: every player every ``base`` seconds
    active: float = DAY  # played within this long: refreshed every ``base``
    idle_max: float = 7 * DAY  # idle this long or more: refreshed every ``longest``


class RefreshSettings(Protocol):
    """What of the settings (owstream.config.Settings) the refresh rule reads."""

    @property
    def refresh_interval(self) -> int: ...
    @property
    def overfast_cache_seconds(self) -> int: ...
    @property
    def refresh_max_interval(self) -> int: ...
    @property
    def refresh_adaptive(self) -> bool: ...


def policy_of(settings: RefreshSettings) -> RefreshPolicy:
    """The scheduler's refresh rule of these settings: never faster than OverFast's cache."""
    base = float(max(settings.refresh_interval, settings.overfast_cache_seconds))
    return RefreshPolicy(base=base, longest=float(settings.refresh_max_interval), adaptive=settings.refresh_adaptive)


@dataclass(frozen=True, slots=True)
class Refresh:
    interval: float  # seconds between two refreshes of the player
    why: str  # in words, for the Watchlist page


def refresh_of(policy: RefreshPolicy, last_updated_at: float | None, now: float) -> Refresh:
    """The interval of a player whose profile Blizzard last updated at ``last_updated_at`` (None: unknown)."""
    base = policy.base
    if not policy.adaptive:
        return Refresh(base, f"every {duration(base)} (adaptive refresh off)")
    if last_updated_at is None:
        return Refresh(base, f"every {duration(base)}: when it last played is not known yet")
    idle = max(0.0, now - last_updated_at)
    if idle <= policy.active:
        return Refresh(base, f"played {duration(idle)} ago: every {duration(base)}")
    longest = max(base, policy.longest)
    share = min(1.0, (idle - policy.active) / max(1.0, policy.idle_max - policy.active))
    interval = base + (longest - base) * share
    return Refresh(interval, f"idle for {duration(idle)}: every {duration(interval)}")


def next_refresh_at(
    policy: RefreshPolicy, last_fetched_at: float | None, last_updated_at: float | None, now: float
) -> tuple[float, str]:
    """(when the player is next refreshed, why): its last fetch plus its interval (now if never fetched)."""
    refresh = refresh_of(policy, last_updated_at, now)
    if last_fetched_at is None:
        return now, "never fetched: now"
    return last_fetched_at + refresh.interval, refresh.why
