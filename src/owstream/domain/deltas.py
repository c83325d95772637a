"""Play sessions and rank changes: pure differences between two snapshots of one player.

A session is ``new - previous`` of one gamemode's ``stats/summary`` (overall, per role, per hero) when at
least one game was played in between. A negative difference in games or time played anywhere (a season
reset, a Blizzard correction, a hero that vanished) makes the session a *reset*: it is flagged
``is_reset=True`` and every number is clamped at zero, so no negative count is ever stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import NamedTuple

from owstream.domain.normalize import RankRow, StatRow
from owstream.domain.vocabulary import BOTH, SCOPE_HERO, SCOPE_OVERALL, SCOPE_ROLE


class Line(NamedTuple):
    """What was played between two snapshots in one scope (overall, a role or a hero).

    A named tuple: cheap to build, thousands per batch. ``winrate`` and ``kda`` are computed once, when it is
    built (:func:`_line`).
    """

    games: int
    wins: int
    losses: int
    time_played: int
    eliminations: float
    assists: float
    deaths: float
    damage: float
    healing: float
    winrate: float  # percent of the session's games won, rounded like OverFast (2 decimals)
    kda: float  # (eliminations + assists) / deaths of the session, like OverFast's kda

    @property
    def played(self) -> bool:
        return self.games > 0 or self.time_played > 0


@dataclass(frozen=True, slots=True)
class SessionPart:
    scope: str  # role | hero
    key: str
    line: Line


@dataclass(frozen=True, slots=True)
class Session:
    gamemode: str
    is_reset: bool
    overall: Line
    parts: tuple[SessionPart, ...]
    heroes: list[str]  # heroes played in the session, most time first
    platform: str = BOTH  # the platform whose stats moved (both: OverFast's total of pc and console)


@dataclass(frozen=True, slots=True)
class RankChange:
    platform: str
    role: str
    season: int | None
    from_division: str | None
    from_tier: int | None
    to_division: str | None
    to_tier: int | None


def session_between(
    gamemode: str,
    previous: Mapping[tuple[str, str], StatRow],
    changed: Iterable[StatRow],
    vanished: Iterable[StatRow],
    platform: str = BOTH,
) -> Session | None:
    """The session of one gamemode on one platform given only what moved: the rows that differ from ``previous``
    (rows equal to it add nothing) and the rows of ``previous`` whose block vanished. None if nothing was played."""
    overall = _NO_LINE
    parts: list[SessionPart] = []
    is_reset = False
    for row in changed:
        old = previous.get((row.scope, row.key))
        if old is not None and old.games_played == row.games_played and old.time_played == row.time_played:
            continue  # not played since: no part, nothing negative
        line, backwards = _line_between(old, row)
        is_reset = is_reset or backwards
        if row.scope == SCOPE_OVERALL:
            overall = line
        elif row.scope in (SCOPE_ROLE, SCOPE_HERO) and line.played:
            parts.append(SessionPart(row.scope, row.key, line))
    # a role or hero vanished: counters were reset
    is_reset = is_reset or any(row.games_played or row.time_played for row in vanished)
    if not is_reset and overall.games <= 0:
        return None
    parts.sort(key=_PART_ORDER)
    heroes = sorted((p for p in parts if p.scope == SCOPE_HERO), key=lambda p: (-p.line.time_played, p.key))
    return Session(gamemode, is_reset, overall, tuple(parts), [p.key for p in heroes], platform)


def _line_between(old: StatRow | None, new: StatRow) -> tuple[Line, bool]:
    """What was played from ``old`` to ``new`` (all of ``new`` for a scope that is new), and whether games or
    time went backwards. Every number is clamped at zero; a missing (None) number counts as 0."""
    games, wins, losses, played = new.games_played, new.games_won, new.games_lost, new.time_played
    elims, assists, deaths = new.eliminations or 0, new.assists or 0, new.deaths or 0
    damage, healing = new.damage or 0, new.healing or 0
    if old is not None:
        games, wins, losses, played = (
            games - old.games_played,
            wins - old.games_won,
            losses - old.games_lost,
            played - old.time_played,
        )
        elims, assists, deaths = (
            elims - (old.eliminations or 0),
            assists - (old.assists or 0),
            deaths - (old.deaths or 0),
        )
        damage, healing = damage - (old.damage or 0), healing - (old.healing or 0)
    backwards = games < 0 or played < 0
    line = _line(games, wins, losses, played, elims, assists, deaths, damage, healing)
    return line, backwards


def _line(*delta: float) -> Line:
    """A Line of raw differences: each clamped at zero (``max(0, v)``), counts as ints, winrate and kda added."""
    games, wins, losses, played, elims, assists, deaths, damage, healing = (v if v > 0 else 0 for v in delta)
    games, wins, losses, played = int(games), int(wins), int(losses), int(played)
    elims, assists, deaths, damage, healing = float(elims), float(assists), float(deaths), float(damage), float(healing)
    winrate = round(100.0 * wins / games, 2) if games else 0.0
    kills = elims + assists
    kda = round(kills / deaths, 2) if deaths else round(float(kills), 2)
    line: Line = _new_line(Line, (games, wins, losses, played, elims, assists, deaths, damage, healing, winrate, kda))
    return line


_new_line = tuple.__new__
_NO_LINE = _line(*(0,) * 9)
_PART_ORDER = attrgetter("scope", "key")


def rank_changes(previous: Sequence[RankRow], current: Sequence[RankRow]) -> list[RankChange]:
    """Per platform and role, the ranks whose division or tier moved (appearing or vanishing counts)."""
    before = {(r.platform, r.role): r for r in previous}
    after = {(r.platform, r.role): r for r in current}
    out = []
    for platform, role in sorted(before.keys() | after.keys()):
        old, new = before.get((platform, role)), after.get((platform, role))
        old_pos = (old.division, old.tier) if old else (None, None)
        new_pos = (new.division, new.tier) if new else (None, None)
        if old_pos != new_pos:
            season = new.season if new else (old.season if old else None)
            out.append(RankChange(platform, role, season, *old_pos, *new_pos))
    return out
