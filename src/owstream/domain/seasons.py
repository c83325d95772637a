"""Competitive seasons: which season a snapshot belongs to, where a season's numbers start and end, and the
numbers themselves. Pure: the store reads the snapshots and stats rows, this module decides.

The rules (the Players issue):

- A snapshot's own season is the highest competitive ``season`` OverFast reports across the player's
  platforms (OverFast: "last competitive season played by the player"). Blizzard sometimes sends 0, which
  names no season: it counts as none.
- A snapshot that reports none borrows the highest season any stored player had reported by the time it was
  fetched ("across all stored players").
- Seasons only move forward: a snapshot's season is the highest of its own (or borrowed) season and its
  player's earlier snapshots' seasons. OverFast's number is the last season *played*, so it can lag behind,
  never run ahead; this keeps each season one run of snapshots.
- A season's numbers are its newest snapshot minus its baseline: the last snapshot before the season's first
  one. With no snapshot before it the history starts inside the season: counted "since tracking began".
- The games between the last snapshot of one season and the first of the next belong to the new season only
  if that first snapshot reports the new season itself; if it borrowed the season from other players, they
  are counted in the old season (whose numbers then end at that snapshot).
- Never negative: when a gamemode's counters went down inside a season's span (a reset: Overwatch restarts
  competitive counters each season, and Blizzard corrects numbers now and then), the gamemode is counted
  from the reset, i.e. the newest snapshot's numbers are the season's (the counters started again at zero).

Seasons are shown by OverFast's numbers. Blizzard renamed its seasons in 2026 (Season 20 of Overwatch 2 was
followed by "Season 1" of 2026): where the public name is known to differ from OverFast's number,
:data:`BLIZZARD_NAMES` says it and :func:`season_label` shows both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from owstream.domain.normalize import OVERALL, Key, StatRow
from owstream.domain.outcomes import utc
from owstream.messages.bodies import Competitive

# OverFast's season number -> Blizzard's public name, only where they are known to differ. Empty on purpose:
# Overwatch 2's seasons 1-20 are called by their numbers; the season Blizzard launched on 2026-02-10 is
# publicly "Season 1" (of 2026), but no recorded OverFast answer shows which number Blizzard's career page
# (``data-latestherostatrankseasonow2``) gives it -- 21 if the counter went on, 1 if it restarted. Add the
# entry (e.g. ``21: "Season 1 (2026)"``) once a recorded response shows it.
BLIZZARD_NAMES: dict[int, str] = {}

SeasonChoice = Literal["current", "last", "lifetime"]
SEASON_CHOICES: tuple[SeasonChoice, ...] = get_args(SeasonChoice)

# How the games between the previous snapshot and a season's first snapshot were counted.
Start = Literal["tracking_began", "this_season", "previous_season"]


def season_of(competitive: Competitive | None) -> int | None:
    """A summary's own season: the highest ``season`` of its platforms; None if none (0 counts as none)."""
    if competitive is None:
        return None
    found = [p.season for p in (competitive.pc, competitive.console) if p is not None and p.season]
    return max(found) if found else None


def platform_season(competitive: Competitive | None, platform: str) -> int | None:
    """One platform's own season (``competitive.pc.season``); None if none (0 counts as none)."""
    block = getattr(competitive, platform, None) if competitive is not None and platform in ("pc", "console") else None
    season = block.season if block is not None else None
    return season or None


def season_label(season: int | None, names: Mapping[int, str] = BLIZZARD_NAMES) -> str:
    """``Season 22``; ``Season 21 (Blizzard: Season 1 (2026))`` where Blizzard's public name differs."""
    if season is None:
        return "no season"
    public = names.get(season)
    return f"Season {season} (Blizzard: {public})" if public else f"Season {season}"


@dataclass(frozen=True, slots=True)
class SeasonPoint:
    """One changed snapshot of a player (one with stats), as the season rules need it."""

    snapshot_id: int
    fetched_at: float
    last_updated_at: int | None
    reported: int | None  # the snapshot's own season (``snapshots.season``)


@dataclass(frozen=True, slots=True)
class Placed:
    point: SeasonPoint
    season: int | None  # None: before any season was known
    own: bool  # the snapshot reports this season itself (not borrowed from other players nor carried forward)


def borrowed(first_seen: Mapping[int, float], at: float) -> int | None:
    """The highest season any stored player had reported by ``at`` (``first_seen``: season -> first time seen)."""
    known = [season for season, seen in first_seen.items() if seen <= at and season > 0]
    return max(known) if known else None


def place(points: Sequence[SeasonPoint], first_seen: Mapping[int, float]) -> list[Placed]:
    """The season of each of a player's snapshots (oldest first), by the rules above."""
    out: list[Placed] = []
    season: int | None = None
    for point in points:
        own = point.reported if point.reported else None
        candidate = own if own is not None else borrowed(first_seen, point.fetched_at)
        if candidate is not None and (season is None or candidate > season):
            season = candidate
        out.append(Placed(point, season, own is not None and own == season))
    return out


@dataclass(frozen=True, slots=True)
class SeasonSpan:
    """Where one season's numbers come from: ``end``'s stats minus ``base``'s (``base`` excluded)."""

    season: int
    first: SeasonPoint  # the season's first snapshot
    last: SeasonPoint  # its newest snapshot
    base: SeasonPoint  # counted from here: the snapshot before ``first``, or ``first`` itself
    end: SeasonPoint  # counted up to here: ``last``, or the next season's first snapshot (see ``until``)
    start: Start
    before: SeasonPoint | None  # the snapshot before ``first`` (None: the history starts with this season)
    previous: int | None  # the season of ``before`` (None: none known then)
    next_first: SeasonPoint | None  # the next season's first snapshot, when its games are counted here
    next_season: int | None

    @property
    def since_tracking_began(self) -> bool:
        return self.start == "tracking_began"


def spans(placed: Sequence[Placed]) -> list[SeasonSpan]:
    """One span per season the player's snapshots belong to, oldest first (snapshots before any season is
    known belong to none)."""
    runs: list[list[Placed]] = []
    for item in placed:
        if runs and runs[-1][0].season == item.season:
            runs[-1].append(item)
        else:
            runs.append([item])
    starts: list[Start] = []
    for i, run in enumerate(runs):
        if i == 0:
            starts.append("tracking_began")
        else:
            starts.append("this_season" if run[0].own else "previous_season")
    out: list[SeasonSpan] = []
    for i, run in enumerate(runs):
        season = run[0].season
        if season is None:
            continue
        first, last = run[0].point, run[-1].point
        before = runs[i - 1][-1].point if i > 0 else None
        base = before if before is not None and starts[i] == "this_season" else first
        following = runs[i + 1] if i + 1 < len(runs) else None
        hands_over = following is not None and starts[i + 1] == "previous_season"
        next_first = following[0].point if following is not None and hands_over else None
        out.append(
            SeasonSpan(
                season=season,
                first=first,
                last=last,
                base=base,
                end=next_first or last,
                start=starts[i],
                before=before,
                previous=runs[i - 1][0].season if i > 0 else None,
                next_first=next_first,
                next_season=following[0].season if following is not None else None,
            )
        )
    return out


def chosen_season(choice: str, seasons: Sequence[int]) -> int | None:
    """The season a choice names among ``seasons``: ``current`` the newest, ``last`` the one before it, a
    number itself if stored; None for ``lifetime`` and for a season that is not stored."""
    known = sorted(set(seasons))
    if choice == "lifetime" or not known:
        return None
    if choice == "current":
        return known[-1]
    if choice == "last":
        return known[-2] if len(known) > 1 else None
    return int(choice) if choice.isdigit() and int(choice) in known else None


# --- the numbers ----------------------------------------------------------------------------------------


def _minus(new: float | None, old: float | None) -> float | None:
    if new is None:
        return None
    value = new - (old or 0)
    return value if value > 0 else 0.0


def _per10(total: float | None, seconds: int) -> float | None:
    return round(total / (seconds / 600), 2) if total is not None and seconds > 0 else None


def season_row(new: StatRow, old: StatRow | None) -> StatRow:
    """``new - old`` of one block (all of ``new`` without ``old``), every number clamped at zero; winrate
    (percent, 2 decimals), kda and the averages per 10 minutes recomputed from the differences. No games is no
    winrate (None, "no games"), not 0 %; nothing done is no kda."""
    games = max(0, new.games_played - (old.games_played if old else 0))
    won = max(0, new.games_won - (old.games_won if old else 0))
    lost = max(0, new.games_lost - (old.games_lost if old else 0))
    played = max(0, new.time_played - (old.time_played if old else 0))
    elims = _minus(new.eliminations, old.eliminations if old else None)
    assists = _minus(new.assists, old.assists if old else None)
    deaths = _minus(new.deaths, old.deaths if old else None)
    damage = _minus(new.damage, old.damage if old else None)
    healing = _minus(new.healing, old.healing if old else None)
    kills = (elims or 0) + (assists or 0)
    return StatRow(
        new.gamemode,
        new.scope,
        new.key,
        games,
        won,
        lost,
        played,
        # no games is "no games", not 0 % won; min: after a correction, never > 100 %
        round(100 * min(won, games) / games, 2) if games else None,
        _kda(kills, deaths),
        elims,
        assists,
        deaths,
        damage,
        healing,
        _per10(elims, played),
        _per10(assists, played),
        _per10(deaths, played),
        _per10(damage, played),
        _per10(healing, played),
        new.platform,
    )


def _kda(kills: float, deaths: float | None) -> float | None:
    """(eliminations + assists) / deaths, as OverFast computes it; None when nothing was done (no kills, no deaths)."""
    if deaths:
        return round(kills / deaths, 2)
    return round(kills, 2) if kills else None


def season_rows(base: Mapping[Key, StatRow], end: Mapping[Key, StatRow], *, reset: bool) -> dict[Key, StatRow]:
    """One gamemode's season numbers: per block of ``end``, ``end - base`` (``end`` itself after a reset,
    counted from zero). Blocks not played in the season are left out, like OverFast leaves out heroes never
    played; the overall block is always there."""
    out: dict[Key, StatRow] = {}
    for key, row in end.items():
        numbers = season_row(row, None if reset else base.get(key))
        if key == OVERALL or numbers.games_played or numbers.time_played:
            out[key] = numbers
    return out


# --- the words ------------------------------------------------------------------------------------------


def since_text(span: SeasonSpan) -> str:
    """``since tracking began (2026-02-11 09:00 UTC)``, or when the season's counting starts."""
    if span.since_tracking_began:
        return f"since tracking began ({utc(span.first.fetched_at)})"
    return f"since {utc(span.base.fetched_at)}"


def boundary_text(span: SeasonSpan) -> str:
    """How the games before the season's first snapshot were counted, in one sentence."""
    name = season_label(span.season)
    if span.before is None:
        return f"the history begins inside {name}: counted from its first snapshot ({utc(span.first.fetched_at)})"
    earlier = (
        f"the last snapshot of {season_label(span.previous)}"
        if span.previous is not None
        else "the last snapshot before any season was known"
    )
    first = f"the first of {name} ({utc(span.first.fetched_at)})"
    between = f"games between {earlier} ({utc(span.before.fetched_at)}) and {first}"
    if span.start == "this_season":
        return f"{between} are counted in {name}: that snapshot reports {name} itself"
    where = season_label(span.previous) if span.previous is not None else "no season"
    borrowed_from = f"({name} is taken from other players)"
    return f"{between} are counted in {where}: that snapshot reports no season itself {borrowed_from}"


def until_text(span: SeasonSpan) -> str | None:
    """How the games after the season's newest snapshot were counted, when they were counted here."""
    if span.next_first is None:
        return None
    nxt = season_label(span.next_season)
    return (
        f"games up to the first snapshot of {nxt} ({utc(span.next_first.fetched_at)}) are counted here: "
        f"that snapshot reports no season itself ({nxt} is taken from other players)"
    )


def reset_text(at: float) -> str:
    return (
        f"counters went down at the snapshot fetched {utc(at)} (a season reset or a Blizzard correction): "
        "counted from zero there"
    )
