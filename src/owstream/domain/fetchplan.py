"""Which OverFast calls one fetch of a player makes: the plan, from what the store knows of the player. Pure.

Stats are asked per platform (``platform=pc|console``: OverFast adds pc and console together without it), one
call per platform and gamemode, for the platforms the player has, so that a player who plays on one platform
costs no more than before (a summary and two stats):

* **which platforms**: those whose stats are stored, and those the summary names (``competitive.pc/console``: a
  platform with a competitive season); a player with neither, pc. A platform answers ``{}`` when the player has
  no stats there. When every platform asked answered ``{}`` (a new player whose stats are on the other
  platform), or when ``last_updated_at`` moved while the stored platforms' stats did not (the player played on
  the other one, or a mode owstream does not store), the other platform is asked in the same fetch (that second
  case at most once a day), and stored from then on if it has stats.
* **summary first** (``Policy.summary_first``, issue 23): a scheduled refresh asks the summary alone, then the
  stats only if ``last_updated_at`` or the ranks moved since the stored snapshot; an unchanged one is a small
  ``summary_only`` result. Blizzard updates a profile only when its player leaves a game: most refreshes are
  unchanged.
* **latency first**: a user's fetch (the CLI, the dashboard, any request that is not the scheduler's) of a player
  whose platforms are known asks the summary and every stats answer at once; an unknown player is asked the
  summary first (every request for an unknown player raises OverFast's own backoff for it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from owstream.domain.vocabulary import GAMEMODES, PLATFORMS

Counter = tuple[int, int]  # (games played, seconds played) of a gamemode's overall block
RECHECK_OTHER = 86400.0  # seconds: a platform without the player's stats is looked at again at most this often
Position = tuple[str, str, str, int | None]  # (platform, role, division, tier) of a rank


@dataclass(frozen=True, slots=True)
class Stored:
    """What the store knows of a player, for planning its next fetch."""

    known: bool = False  # OverFast answered it before (an ok or private result is stored, none not_found since)
    last_updated_at: int | None = None  # of the newest snapshot whose stats changed
    ranks: frozenset[Position] = frozenset()  # of that snapshot
    platforms: frozenset[str] = frozenset()  # pc / console with stored stats
    counters: Mapping[tuple[str, str], Counter] = field(default_factory=dict)  # (platform, gamemode) -> overall
    asked_at: Mapping[str, float] = field(default_factory=dict)  # platform -> when a fetch last asked its stats
    summary_digest: str | None = None  # sha256 of the newest stored summary's bytes


@dataclass(frozen=True, slots=True)
class Policy:
    summary_first: bool = True  # a scheduled refresh asks the summary alone first (issue 23)


@dataclass(frozen=True, slots=True)
class Summary:
    """What the plan needs of a fetched summary."""

    private: bool
    last_updated_at: int | None
    ranks: frozenset[Position]
    platforms: frozenset[str]  # the platforms ``competitive`` names (a competitive season there)


First = Literal["all", "summary"]


def first_call(stored: Stored, *, scheduled: bool, policy: Policy) -> First:
    """``all``: the summary and the stats of the stored platforms at once; ``summary``: the summary first."""
    if not stored.known or not stored.platforms:
        return "summary"
    if scheduled and policy.summary_first:
        return "summary"
    return "all"


def stats_wanted(stored: Stored, summary: Summary, *, scheduled: bool, policy: Policy) -> bool:
    """After the summary: whether to ask the stats at all (no: private, or a scheduled refresh with nothing moved)."""
    if summary.private:
        return False
    if scheduled and policy.summary_first and stored.known and stored.platforms:
        return moved(stored, summary)
    return True


def moved(stored: Stored, summary: Summary) -> bool:
    """Whether the profile changed since the stored snapshot: ``last_updated_at`` or a rank moved."""
    return summary.last_updated_at != stored.last_updated_at or summary.ranks != stored.ranks


def platforms_for(stored: Stored, summary: Summary | None) -> tuple[str, ...]:
    """The platforms to ask first: the stored ones and those the summary names; pc when neither says any."""
    named = stored.platforms | (summary.platforms if summary is not None else frozenset())
    return tuple(p for p in PLATFORMS if p in named) or (PLATFORMS[0],)


def calls(platforms: Iterable[str], gamemodes: Sequence[str] = GAMEMODES) -> list[tuple[str, str]]:
    """The (platform, gamemode) stats calls of ``platforms``."""
    return [(platform, mode) for platform in platforms for mode in gamemodes]


def more_platforms(
    stored: Stored,
    summary: Summary,
    asked: Iterable[str],
    counters: Mapping[tuple[str, str], Counter | None],
    now: float,
) -> tuple[str, ...]:
    """The platforms to ask too, after the first stats answers (``counters``: (platform, gamemode) -> the answer's
    overall (games, seconds), None for ``{}``): none left, none; all empty, the others; those the summary names
    that were not asked (a user's fetch asks the stored platforms before the summary comes); the profile moved while
    the stored platforms' stats did not, the others not asked within :data:`RECHECK_OTHER` (the games may have
    been played there; or in a mode owstream does not store, as Stadium: then once a day costs two calls)."""
    asked = set(asked)
    others = tuple(p for p in PLATFORMS if p not in asked)
    if not others or summary.private:
        return ()
    if all(value is None for value in counters.values()):
        return others
    named = tuple(p for p in others if p in summary.platforms)
    if named:  # the summary names a platform the fetch did not ask (asked at once, before the summary came)
        return named
    unchanged = all(stored.counters.get(key) == value for key, value in counters.items() if key[0] in stored.platforms)
    if stored.known and summary.last_updated_at != stored.last_updated_at and stored.platforms and unchanged:
        return tuple(p for p in others if now - stored.asked_at.get(p, float("-inf")) >= RECHECK_OTHER)
    return ()
