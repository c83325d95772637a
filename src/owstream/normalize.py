"""Pure functions from raw OverFast JSON (inside a :class:`~owstream.messages.FetchResult`) to plain rows.

Nothing here touches the store or the clock. Hero and role keys are whatever OverFast sends (new heroes
appear every season); fields this module does not know are kept in ``StatRow.extra`` rather than dropped.
A body that cannot be normalised raises :class:`~owstream.errors.ProcessingError` with a one-line reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from msgspec import Raw
from msgspec.structs import astuple

from owstream.decoding import NULL, StatBlock, StatsBody, decode_block
from owstream.errors import ProcessingError
from owstream.messages import FetchResult

SCOPE_OVERALL, SCOPE_ROLE, SCOPE_HERO = "overall", "role", "hero"
OVERALL_KEY = "all"
TOTAL_FIELDS: tuple[str, ...] = ("eliminations", "assists", "deaths", "damage", "healing")
_KNOWN_BLOCK_KEYS = frozenset(
    {"games_played", "games_won", "games_lost", "time_played", "winrate", "kda", "total", "average"}
)
_KNOWN_BODY_KEYS = frozenset({"general", "roles", "heroes"})
RANK_ROLES: tuple[str, ...] = ("tank", "damage", "support", "open")


@dataclass(frozen=True, slots=True)
class ProfileRow:
    """What the summary says about the player (the ``players`` table)."""

    player_id: str
    name: str | None
    avatar: str | None
    namecard: str | None
    title: str | None
    endorsement_level: int | None


@dataclass(frozen=True, slots=True)
class RankRow:
    platform: str
    role: str
    season: int | None
    division: str
    tier: int | None
    rank_icon: str | None


class StatRow(NamedTuple):
    """One block of ``stats/summary``: the overall line, one role or one hero, of one gamemode.

    A named tuple, not a dataclass: ~40 are built per snapshot, and the writer passes them to the
    database as they are (the field order is the ``stats`` table's column order after ``snapshot_id``).
    """

    gamemode: str
    scope: str  # overall | role | hero
    key: str  # "all" | role key | hero key
    games_played: int
    games_won: int
    games_lost: int
    time_played: int
    winrate: float | None
    kda: float | None
    eliminations: float | None
    assists: float | None
    deaths: float | None
    damage: float | None
    healing: float | None
    avg_eliminations: float | None
    avg_assists: float | None
    avg_deaths: float | None
    avg_damage: float | None
    avg_healing: float | None
    extra: dict[str, Any] | None = None  # fields OverFast added that this version does not know


Key = tuple[str, str]  # (scope, key) of a stats row within one gamemode
OVERALL: Key = (SCOPE_OVERALL, OVERALL_KEY)


@dataclass(slots=True)
class ModeStats:
    """One gamemode's stats in a snapshot, by (scope, key): overall first, then roles, then heroes.

    A body from the fast decoder keeps each block's JSON text (``blocks``) and builds a row only when
    asked, so a block whose text equals the previous snapshot's costs a bytes comparison, not a decode;
    otherwise every row is built up front.
    """

    gamemode: str
    rows: dict[Key, StatRow]  # every row, or (with blocks) the rows built so far
    blocks: StatsBody | None = None  # with a general block, without null ones

    def row(self, key: Key) -> StatRow:
        row = self.rows.get(key)
        if row is None:
            assert self.blocks is not None, key
            row = self.rows[key] = _raw_row(self.gamemode, *key, _block_text(self.blocks, key))
        return row

    def all_rows(self) -> dict[Key, StatRow]:
        if self.blocks is None:
            return self.rows
        b = self.blocks
        keys = [OVERALL, *((SCOPE_ROLE, k) for k in sorted(b.roles)), *((SCOPE_HERO, k) for k in sorted(b.heroes))]
        return {key: self.row(key) for key in keys}

    def check(self, blocks_before: StatsBody | None) -> None:
        """Build, and so check, every row whose block is not one ``blocks_before`` already vouches for
        (ProcessingError if one is malformed): what an unchanged snapshot costs instead of a diff."""
        if self.blocks is None:
            return  # built, and checked, up front
        if blocks_before is None:
            self.all_rows()
            return
        if self.blocks.general != blocks_before.general:
            self.row(OVERALL)
        for key in _moved(self.blocks, blocks_before):
            self.row(key)

    def diff(
        self, before: Mapping[Key, StatRow], blocks_before: StatsBody | None
    ) -> tuple[dict[Key, StatRow], list[StatRow], list[StatRow]]:
        """Against the previous rows of this gamemode: (every current row, the rows that differ from
        ``before`` with the overall row always among them, the rows of ``before`` whose block vanished).

        A block whose JSON text equals the previous one keeps ``before``'s row without being decoded; the
        others are compared as rows, so the answer never depends on the text (only a shortcut).
        """
        if self.blocks is None or blocks_before is None:
            rows = self.all_rows()
            changed = [row for key, row in rows.items() if key == OVERALL or before.get(key) != row]
            return rows, changed, [row for key, row in before.items() if key not in rows]
        mine, theirs = self.blocks, blocks_before
        rows = dict(before)  # the baseline's rows were built from blocks_before: the same keys
        rows[OVERALL] = overall = self.row(OVERALL)
        changed = [overall]
        for key in _moved(mine, theirs):
            rows[key] = row = self.row(key)
            if before.get(key) != row:
                changed.append(row)
        if len(rows) == 1 + len(mine.roles) + len(mine.heroes):  # no key other than the blocks': none vanished
            return rows, changed, []
        keep = {OVERALL, *((SCOPE_ROLE, k) for k in mine.roles), *((SCOPE_HERO, k) for k in mine.heroes)}
        vanished = [row for key, row in rows.items() if key not in keep]
        return {k: r for k, r in rows.items() if k in keep}, changed, vanished


def _moved(now: StatsBody, then: StatsBody) -> list[Key]:
    """Role and hero keys whose block text in ``now`` is not the one in ``then`` (new keys included)."""
    keys = [(SCOPE_ROLE, k) for k, raw in now.roles.items() if then.roles.get(k) != raw]
    keys += [(SCOPE_HERO, k) for k, raw in now.heroes.items() if then.heroes.get(k) != raw]
    return keys


def _block_text(body: StatsBody, key: Key) -> Raw:
    scope, name = key
    if scope == SCOPE_OVERALL:
        return body.general
    return (body.roles if scope == SCOPE_ROLE else body.heroes)[name]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A normalised ok/private FetchResult."""

    profile: ProfileRow
    last_updated_at: int | None
    private: bool
    ranks: list[RankRow] = field(default_factory=list)
    modes: dict[str, ModeStats] = field(default_factory=dict)  # gamemodes with an overall block, sorted

    @property
    def stats(self) -> list[StatRow]:
        """Every stats row: gamemode by gamemode, overall, roles, heroes."""
        return [row for mode in self.modes.values() for row in mode.all_rows().values()]


def normalize_result(result: FetchResult) -> Snapshot | None:
    """The rows of an ok or private result; None for outcomes without a body (not_found, errors, skipped)."""
    if result.outcome not in ("ok", "private"):
        return None
    if result.summary is None:
        raise ProcessingError(f"result {result.result_id}: outcome {result.outcome} without a summary")
    profile, ranks, last_updated_at = normalize_summary(result.player_id, result.summary)
    private = result.outcome == "private"
    modes: dict[str, ModeStats] = {}
    if not private:
        for gamemode in sorted(result.stats):
            mode = mode_stats(gamemode, result.stats[gamemode])
            if mode.rows or mode.blocks is not None:
                modes[gamemode] = mode
    return Snapshot(profile, last_updated_at, private, ranks, modes)


def mode_stats(gamemode: str, body: Any) -> ModeStats:
    """One gamemode's stats; rows are built lazily for a body the fast decoder checked."""
    if type(body) is StatsBody:
        blocks = _without_nulls(body)
        return ModeStats(gamemode, {}, blocks if blocks.general != NULL else None)
    return ModeStats(gamemode, {(r.scope, r.key): r for r in normalize_stats(gamemode, body)})


def normalize_summary(player_id: str, summary: Mapping[str, Any]) -> tuple[ProfileRow, list[RankRow], int | None]:
    """Profile row, ranks and ``last_updated_at`` of a ``/players/{id}/summary`` body."""
    if not isinstance(summary, Mapping):
        raise ProcessingError(f"summary of {player_id} is {type(summary).__name__}, not an object")
    endorsement = summary.get("endorsement")
    level = endorsement.get("level") if isinstance(endorsement, Mapping) else None
    profile = ProfileRow(
        player_id=player_id,
        name=_opt_str(summary, "username"),
        avatar=_opt_str(summary, "avatar"),
        namecard=_opt_str(summary, "namecard"),
        title=_opt_str(summary, "title"),
        endorsement_level=_opt_int(level, "endorsement.level"),
    )
    last_updated_at = _opt_int(summary.get("last_updated_at"), "last_updated_at")
    return profile, _ranks(summary.get("competitive")), last_updated_at


def _ranks(competitive: Any) -> list[RankRow]:
    if competitive is None:
        return []
    if not isinstance(competitive, Mapping):
        raise ProcessingError(f"summary.competitive is {type(competitive).__name__}, not an object")
    rows: list[RankRow] = []
    for platform in sorted(competitive):
        block = competitive[platform]
        if block is None:
            continue
        if not isinstance(block, Mapping):
            raise ProcessingError(f"summary.competitive.{platform} is not an object")
        season = _opt_int(block.get("season"), f"competitive.{platform}.season")
        for role in sorted(k for k in block if k != "season"):
            rank = block[role]
            if rank is None:
                continue
            if not isinstance(rank, Mapping) or not isinstance(rank.get("division"), str):
                raise ProcessingError(f"summary.competitive.{platform}.{role} has no division")
            tier = _opt_int(rank.get("tier"), f"competitive.{platform}.{role}.tier")
            rows.append(RankRow(platform, role, season, rank["division"], tier, _opt_str(rank, "rank_icon")))
    return rows


def normalize_stats(gamemode: str, body: Any) -> list[StatRow]:
    """Rows of one ``stats/summary?gamemode=...`` body: overall, per role, per hero. ``{}`` gives none.

    ``body`` is raw JSON, or a :class:`StatsBody` that :func:`owstream.decoding.decode_result` checked already.
    """
    if type(body) is StatsBody:
        return list(mode_stats(gamemode, body).all_rows().values())
    if body is None:
        return []
    if not isinstance(body, Mapping):
        raise ProcessingError(f"stats.{gamemode} is {type(body).__name__}, not an object")
    general = body.get("general")
    if general is None:
        return []
    rows = [_stat_row(gamemode, SCOPE_OVERALL, OVERALL_KEY, general)]
    for scope, name in ((SCOPE_ROLE, "roles"), (SCOPE_HERO, "heroes")):
        blocks = body.get(name) or {}
        if not isinstance(blocks, Mapping):
            raise ProcessingError(f"stats.{gamemode}.{name} is not an object")
        for key in sorted(blocks):
            block = blocks[key]
            if block is not None:
                rows.append(_stat_row(gamemode, scope, str(key), block))
    unknown = {k: v for k, v in body.items() if k not in _KNOWN_BODY_KEYS}
    if unknown:  # new top-level sections ride along on the overall row
        rows[0] = _with_extra(rows[0], {"body": unknown})
    return rows


def _without_nulls(body: StatsBody) -> StatsBody:
    """Null role and hero blocks are left out, as :func:`normalize_stats` does (rare: checked in C first)."""
    if NULL not in body.roles.values() and NULL not in body.heroes.values():
        return body
    roles = {k: v for k, v in body.roles.items() if v != NULL}
    heroes = {k: v for k, v in body.heroes.items() if v != NULL}
    return StatsBody(body.general, roles, heroes)


def _raw_row(gamemode: str, scope: str, key: str, raw: Raw) -> StatRow:
    block = decode_block(raw)
    if block is None:  # not the strict shape: the slow path keeps unknown fields or names the problem
        return _stat_row(gamemode, scope, key, json.loads(bytes(raw)))
    return _block_row(gamemode, scope, key, block)


def _block_row(gamemode: str, scope: str, key: str, block: StatBlock) -> StatRow:
    games, won, lost, played, winrate, kda, total, average = astuple(block)
    values = (games, won, lost, played, winrate, kda, *astuple(total), *astuple(average))
    row: StatRow = _new_row(StatRow, (gamemode, scope, key, *values, None))
    return row


_INF = float("inf")
_TOTAL_SET = frozenset(TOTAL_FIELDS)
# a well-formed block has exactly these keys (8), total and average exactly TOTAL_FIELDS (5 each)
_BLOCK_VALUES = itemgetter(
    "games_played", "games_won", "games_lost", "time_played", "winrate", "kda", "total", "average"
)
_TOTAL_VALUES = itemgetter(*TOTAL_FIELDS)
_new_row = tuple.__new__


def _stat_row(gamemode: str, scope: str, key: str, block: Any) -> StatRow:
    """Fast path for well-formed blocks (the hot loop of the processor); anything else takes the slow path.

    The common case is checked cheaply: all 8 known keys present and no other (so no unknown fields), the
    counts are ints (not bools), all numbers add up (no None, text or nested object) to a finite sum
    (no inf, no NaN) and none is negative. The slow path names the problem or keeps extras.
    """
    try:
        games, won, lost, played, winrate, kda, total, average = _BLOCK_VALUES(block)
        values = (games, won, lost, played, winrate, kda, *_TOTAL_VALUES(total), *_TOTAL_VALUES(average))
        fine = (
            len(block) == 8
            and len(total) == 5
            and len(average) == 5
            and type(games) is int
            and type(won) is int
            and type(lost) is int
            and type(played) is int
            and sum(values) < _INF
            and min(values) >= 0
        )
    except (KeyError, TypeError, OverflowError):  # missing key, not a dict or number, int beyond float
        fine = False
    if not fine:
        return _stat_row_checked(gamemode, scope, key, block)
    row: StatRow = _new_row(StatRow, (gamemode, scope, key, *values, None))
    return row


def _extra(block: Mapping[str, Any], total: Mapping[str, Any], average: Mapping[str, Any]) -> dict[str, Any] | None:
    extra: dict[str, Any] = {k: v for k, v in block.items() if k not in _KNOWN_BLOCK_KEYS}
    for name, sub in (("total", total), ("average", average)):
        more = {k: v for k, v in sub.items() if k not in _TOTAL_SET}
        if more:
            extra[name] = more
    return extra or None


def _stat_row_checked(gamemode: str, scope: str, key: str, block: Any) -> StatRow:
    """Validates field by field to name the exact problem (ProcessingError)."""
    path = {SCOPE_OVERALL: "general", SCOPE_ROLE: f"roles.{key}"}.get(scope, f"heroes.{key}")
    where = f"stats.{gamemode}.{path}"
    if not isinstance(block, Mapping):
        raise ProcessingError(f"{where} is {type(block).__name__}, not an object")
    total = _sub(block, "total", where)
    average = _sub(block, "average", where)
    return StatRow(
        gamemode=gamemode,
        scope=scope,
        key=key,
        games_played=_count(block.get("games_played"), f"{where}.games_played"),
        games_won=_count(block.get("games_won", 0), f"{where}.games_won"),
        games_lost=_count(block.get("games_lost", 0), f"{where}.games_lost"),
        time_played=_count(block.get("time_played"), f"{where}.time_played"),
        winrate=_number(block.get("winrate"), f"{where}.winrate"),
        kda=_number(block.get("kda"), f"{where}.kda"),
        eliminations=_number(total.get("eliminations"), f"{where}.total.eliminations"),
        assists=_number(total.get("assists"), f"{where}.total.assists"),
        deaths=_number(total.get("deaths"), f"{where}.total.deaths"),
        damage=_number(total.get("damage"), f"{where}.total.damage"),
        healing=_number(total.get("healing"), f"{where}.total.healing"),
        avg_eliminations=_number(average.get("eliminations"), f"{where}.average.eliminations"),
        avg_assists=_number(average.get("assists"), f"{where}.average.assists"),
        avg_deaths=_number(average.get("deaths"), f"{where}.average.deaths"),
        avg_damage=_number(average.get("damage"), f"{where}.average.damage"),
        avg_healing=_number(average.get("healing"), f"{where}.average.healing"),
        extra=_extra(block, total, average),
    )


def _with_extra(row: StatRow, more: dict[str, Any]) -> StatRow:
    return row._replace(extra={**(row.extra or {}), **more})


def _sub(block: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    sub = block.get(name)
    if sub is None:
        return {}
    if not isinstance(sub, Mapping):
        raise ProcessingError(f"{where}.{name} is {type(sub).__name__}, not an object")
    return sub


def _count(value: Any, where: str) -> int:
    """A required non-negative whole number (games, seconds)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProcessingError(f"{where} is {value!r}, not a number")
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise ProcessingError(f"{where} is {value!r}, not a non-negative whole number")
    return int(value)


def _number(value: Any, where: str) -> float | None:
    """An optional non-negative number, kept as OverFast sent it (int stays int)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProcessingError(f"{where} is {value!r}, not a number")
    if not math.isfinite(value) or value < 0:
        raise ProcessingError(f"{where} is {value!r}, not a non-negative number")
    return value


def _opt_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value != int(value):
        raise ProcessingError(f"summary {where} is {value!r}, not a whole number")
    return int(value)


def _opt_str(block: Mapping[str, Any], key: str) -> str | None:
    value = block.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProcessingError(f"summary field {key} is {type(value).__name__}, not a string")
    return value
