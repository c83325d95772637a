"""One fetch of a player as :mod:`owstream.domain.fetchplan` plans it: the OverFast calls, in as few round trips as
the plan allows, and the answers as the bytes OverFast sent (for a ``fetch-results`` message).

============================  ===================================  ==========================================
the fetch                     calls (one player on one platform)   calls (a player on pc and console)
============================  ===================================  ==========================================
scheduled, nothing moved      1: the summary                       1: the summary
scheduled, it moved           3: the summary, then 2 stats         5: the summary, then 4 stats
a user's (platforms known)    3 at once                            5 at once
a new player                  3: the summary, then 2 stats (+2     5: the summary, then 4 stats (the summary
                              when pc has nothing: console)        names both), or 3 + 2
============================  ===================================  ==========================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

from owstream.domain.fetchplan import (
    Counter,
    Policy,
    Stored,
    Summary,
    calls,
    first_call,
    more_platforms,
    platforms_for,
    stats_wanted,
)
from owstream.domain.vocabulary import PLATFORMS
from owstream.messages.bodies import PlayerSummary, StatsSummary
from owstream.overfast.client import ApiResponse, OverFastClient

_EMPTY = StatsSummary()
_RANKED = ("tank", "damage", "support", "open")


@dataclass(frozen=True)
class Fetched:
    """What one planned fetch gave, as OverFast's bytes."""

    private: bool
    summary: bytes
    status: int
    cache_headers: dict[str, str] = field(default_factory=dict)
    platform_stats: dict[str, dict[str, bytes]] = field(default_factory=dict)  # platform -> gamemode -> body
    summary_only: bool = False  # only the summary was asked: nothing moved
    calls: int = 1  # OverFast calls made


def summary_facts(summary: PlayerSummary) -> Summary:
    """What the plan needs of a summary: privacy, ``last_updated_at``, rank positions, the platforms it names."""
    positions = set()
    named = set()
    competitive = summary.competitive
    for platform in PLATFORMS if competitive is not None else ():
        block = getattr(competitive, platform)
        if block is None:
            continue
        named.add(platform)
        for role in _RANKED:
            rank = getattr(block, role)
            if rank is not None:
                positions.add((platform, role, str(rank.division), rank.tier))
    return Summary(summary.private, summary.last_updated_at, frozenset(positions), frozenset(named))


def counter_of(body: StatsSummary) -> Counter | None:
    """A stats answer's overall (games, seconds); None for ``{}`` (no stats on that platform and gamemode)."""
    general = body.general
    return None if general is None else (general.games_played, general.time_played)


def fetch_planned(
    client: OverFastClient, player_id: str, stored: Stored, *, scheduled: bool, policy: Policy, now: float = 0.0
) -> Fetched:
    """Fetch one player (OverFastError as the client raises it); see the module's table for what it asks.
    ``now``: the time, for how long ago a platform was last asked."""
    first = first_call(stored, scheduled=scheduled, policy=policy)
    pairs = calls(platforms_for(stored, None)) if first == "all" else []
    summary, answers = client.fetch_parts(player_id, pairs, summary=True)
    assert summary is not None
    made = 1 + len(pairs)
    facts = summary_facts(summary.checked)
    if facts.private:
        return Fetched(True, summary.body, summary.status, summary.cache_headers, calls=made)
    if first == "summary":
        if not stats_wanted(stored, facts, scheduled=scheduled, policy=policy):
            return Fetched(False, summary.body, summary.status, summary.cache_headers, summary_only=True, calls=made)
        pairs = calls(platforms_for(stored, facts))
        answers = client.fetch_parts(player_id, pairs, summary=False)[1]
        made += len(pairs)
    counters = {pair: counter_of(answer.checked) for pair, answer in answers.items()}
    more = more_platforms(stored, facts, {platform for platform, _ in pairs}, counters, now)
    if more:
        extra = calls(more)
        answers.update(client.fetch_parts(player_id, extra, summary=False)[1])
        made += len(extra)
    return _fetched(summary, answers, made)


def _fetched(
    summary: ApiResponse[PlayerSummary], answers: dict[tuple[str, str], ApiResponse[StatsSummary]], made: int
) -> Fetched:
    # a profile whose every answer is empty is private (OverFast's summary does not always say so)
    private = bool(answers) and all(answer.checked == _EMPTY for answer in answers.values())
    if private:
        return Fetched(True, summary.body, summary.status, summary.cache_headers, calls=made)
    per_platform: dict[str, dict[str, bytes]] = {}
    for (platform, mode), answer in sorted(answers.items()):
        per_platform.setdefault(platform, {})[mode] = answer.body
    status = max((answer.status for answer in answers.values()), default=summary.status)
    return Fetched(False, summary.body, status, summary.cache_headers, per_platform, calls=made)
