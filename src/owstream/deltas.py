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

from owstream.normalize import SCOPE_HERO, SCOPE_OVERALL, SCOPE_ROLE, RankRow, StatRow

# _line_between unpacks a StatRow by position
assert StatRow._fields[3:14] == (
    "games_played", "games_won", "games_lost", "time_played", "winrate", "kda",
    "eliminations", "assists", "deaths", "damage", "healing",
)  # fmt: skip


class Line(NamedTuple):
    """What was played between two snapshots in one scope (overall, a role or a hero).

    A named tuple (cheap to build, thousands per batch) whose values are the ``session_parts`` columns
    after the key; ``winrate`` and ``kda`` are computed once, when it is built (:func:`_line`).
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

    def summary(self) -> dict[str, object]:
        """JSON-ready summary (the ``session`` event's data)."""
        o = self.overall
        return {
            "gamemode": self.gamemode,
            "is_reset": self.is_reset,
            "games": o.games,
            "wins": o.wins,
            "losses": o.losses,
            "winrate": o.winrate,
            "kda": o.kda,
            "time_played": o.time_played,
            "eliminations": o.eliminations,
            "assists": o.assists,
            "deaths": o.deaths,
            "damage": o.damage,
            "healing": o.healing,
            "heroes": self.heroes,
        }


@dataclass(frozen=True, slots=True)
class RankChange:
    platform: str
    role: str
    season: int | None
    from_division: str | None
    from_tier: int | None
    to_division: str | None
    to_tier: int | None


def by_gamemode(rows: Iterable[StatRow]) -> dict[str, dict[tuple[str, str], StatRow]]:
    """Index rows as ``gamemode -> (scope, key) -> row``."""
    out: dict[str, dict[tuple[str, str], StatRow]] = {}
    for row in rows:
        out.setdefault(row.gamemode, {})[(row.scope, row.key)] = row
    return out


def session_between(
    gamemode: str, previous: Mapping[tuple[str, str], StatRow], current: Mapping[tuple[str, str], StatRow]
) -> Session | None:
    """The session of one gamemode between two snapshots' rows; None if nothing was played."""
    if (SCOPE_OVERALL, "all") not in current:
        return None
    changed = [row for k, row in current.items() if previous.get(k) != row]
    vanished = [row for k, row in previous.items() if k not in current]
    return session_of_changes(gamemode, previous, changed, vanished)


def session_of_changes(
    gamemode: str, previous: Mapping[tuple[str, str], StatRow], changed: Iterable[StatRow], vanished: Iterable[StatRow]
) -> Session | None:
    """The session given only what moved: the rows that differ from ``previous`` (rows equal to it add
    nothing) and the rows of ``previous`` whose block vanished. None if nothing was played."""
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
    return Session(gamemode, is_reset, overall, tuple(parts), [p.key for p in heroes])


def sessions_between(previous: Iterable[StatRow], current: Iterable[StatRow]) -> list[Session]:
    """Sessions per gamemode present in ``current`` (gamemodes absent from it were not fetched)."""
    before, after = by_gamemode(previous), by_gamemode(current)
    out = []
    for gamemode in sorted(after):
        session = session_between(gamemode, before.get(gamemode, {}), after[gamemode])
        if session is not None:
            out.append(session)
    return out


def _line_between(old: StatRow | None, new: StatRow) -> tuple[Line, bool]:
    """What was played from ``old`` to ``new`` (all of ``new`` for a scope that is new), and whether games or
    time went backwards. Every number is clamped at zero; a missing (None) number counts as 0."""
    _, _, _, games, wins, losses, played, _, _, elims, assists, deaths, damage, healing = new[:14]
    elims, assists, deaths, damage, healing = elims or 0, assists or 0, deaths or 0, damage or 0, healing or 0
    if old is not None:
        _, _, _, games0, wins0, losses0, played0, _, _, elims0, assists0, deaths0, damage0, healing0 = old[:14]
        games, wins, losses, played = games - games0, wins - wins0, losses - losses0, played - played0
        elims, assists, deaths = elims - (elims0 or 0), assists - (assists0 or 0), deaths - (deaths0 or 0)
        damage, healing = damage - (damage0 or 0), healing - (healing0 or 0)
    backwards = games < 0 or played < 0
    line = _line(games, wins, losses, played, elims, assists, deaths, damage, healing)
    return line, backwards


def _line(*delta: float) -> Line:
    """A Line of raw differences: each clamped at zero (``max(0, v)``), counts as ints, winrate and kda added."""
    games, wins, losses, played, elims, assists, deaths, damage, healing = (v if v > 0 else 0 for v in delta)
    games, wins, losses, played = int(games), int(wins), int(losses), int(played)
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
