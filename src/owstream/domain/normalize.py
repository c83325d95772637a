"""From a checked fetch result to plain rows: the profile, the ranks and, per gamemode, the stats blocks.

Pure: nothing here touches the store or the clock. The result's bodies were checked by their models when
it was decoded (:mod:`owstream.messages.bodies`), so what is left is shaping. Hero and role keys are
whatever OverFast sends (new heroes appear every season). :func:`stat_row` is the one place a stats row
is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from owstream.domain.vocabulary import BOTH, OVERALL_KEY, PLATFORMS, SCOPE_HERO, SCOPE_OVERALL, SCOPE_ROLE
from owstream.errors import ProcessingError
from owstream.messages import codec
from owstream.messages.bodies import NULL, PlayerSummary, RawJson, StatBlock, StatsBlocks
from owstream.messages.models import StoreResult

Key = tuple[str, str]  # (scope, key) of a stats row within one gamemode
ModeKey = tuple[str, str]  # (platform, gamemode): one stats/summary answer (platform "both": no platform filter)
OVERALL: Key = (SCOPE_OVERALL, OVERALL_KEY)
_RANKED_ROLES = ("damage", "open", "support", "tank")  # the roles of PlatformRanks, sorted
_GROUPS: dict[str, str] = {SCOPE_ROLE: "roles", SCOPE_HERO: "heroes"}  # scope -> its field of stats/summary


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
    """One block of ``stats/summary`` (the overall line, one role or one hero) of one gamemode, as stored:
    counts, winrate in percent, totals, and averages per 10 minutes of play (``avg_*``).

    A NamedTuple rather than a dataclass: the store builds and compares tens of thousands of these per
    batch, and a tuple is made and compared in C (a frozen dataclass sets each of its 19 fields through
    ``object.__setattr__`` and compares by building tuples)."""

    gamemode: str
    scope: str  # overall | role | hero
    key: str  # "all" | role key | hero key
    games_played: int
    games_won: int
    games_lost: int
    time_played: int  # seconds
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
    platform: str = BOTH  # pc, console, or both (OverFast's total without a platform filter: old snapshots)


def stat_row(gamemode: str, key: Key, block: StatBlock, platform: str = BOTH) -> StatRow:
    """The row of one stats block of one platform's answer."""
    total, average = block.total, block.average
    return StatRow(
        gamemode,
        key[0],
        key[1],
        block.games_played,
        block.games_won,
        block.games_lost,
        block.time_played,
        block.winrate,
        block.kda,
        total.eliminations,
        total.assists,
        total.deaths,
        total.damage,
        total.healing,
        average.eliminations,
        average.assists,
        average.deaths,
        average.damage,
        average.healing,
        platform,
    )


@dataclass(frozen=True, slots=True)
class ModeStats:
    """One gamemode's stats blocks (of one platform's answer) by (scope, key), each as the JSON bytes OverFast
    sent: overall first, then roles, then heroes, each sorted. A block is checked (decoded as StatBlock) when its
    row is built; ProcessingError says which block of which gamemode is wrong."""

    gamemode: str
    blocks: dict[Key, RawJson]
    platform: str = BOTH

    def rows(self) -> dict[Key, StatRow]:
        return {key: self.row(key, raw) for key, raw in self.blocks.items()}

    def row(self, key: Key, raw: RawJson) -> StatRow:
        where = "general" if key == OVERALL else f"{_GROUPS[key[0]]}.{key[1]}"  # roles.tank, heroes.ana
        field = f"stats.{self.gamemode}" if self.platform == BOTH else f"platform_stats.{self.platform}.{self.gamemode}"
        return stat_row(self.gamemode, key, codec.decode_block(raw, f"{field}.{where}"), self.platform)

    def diff(
        self, before: Mapping[Key, StatRow], blocks_before: Mapping[Key, RawJson] | None
    ) -> tuple[dict[Key, StatRow], list[StatRow], list[StatRow]]:
        """Against the previous rows of this gamemode: (every current row, the rows that differ from
        ``before`` with the overall row always among them, the rows of ``before`` whose block vanished).

        ``blocks_before``, when known, are the blocks ``before`` was built from: a block whose bytes equal
        its previous one's keeps the previous row, neither decoded nor built again (a session touches a few
        heroes; the others repeat byte for byte).
        """
        rows: dict[Key, StatRow] = {}
        changed: list[StatRow] = []
        blocks = iter(self.blocks.items())
        for key, raw in blocks:  # the overall block comes first (mode_blocks): always among the changed rows
            row = rows[key] = self.row(key, raw)
            if key == OVERALL or before.get(key) != row:
                changed.append(row)
            break
        old = blocks_before if blocks_before is not None else {}
        for key, raw in blocks:
            if old.get(key) == raw:
                rows[key] = before[key]
                continue
            row = rows[key] = self.row(key, raw)
            if before.get(key) != row:
                changed.append(row)
        vanished = [row for key, row in before.items() if key not in rows]
        return rows, changed, vanished


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A normalised ok or private result."""

    profile: ProfileRow
    last_updated_at: int | None
    private: bool
    ranks: list[RankRow] = field(default_factory=list)
    # (platform, gamemode) -> its blocks: the answers with an overall block, sorted
    modes: dict[ModeKey, ModeStats] = field(default_factory=dict)
    summary_only: bool = False  # no stats were asked: the stored ones stay current

    @property
    def stats(self) -> list[StatRow]:
        """Every stats row: gamemode by gamemode, overall, roles, heroes."""
        return [row for mode in self.modes.values() for row in mode.rows().values()]


def normalize_result(result: StoreResult) -> Snapshot | None:
    """The rows of an ok or private result; None for outcomes without a body (not_found, errors, skipped)."""
    if result.outcome not in ("ok", "private"):
        return None
    if result.summary is None:
        if result.summary_only and result.outcome == "ok" and result.summary_digest:
            return None  # an unchanged refresh: the summary stored under its digest still holds
        raise ProcessingError(f"result {result.result_id}: outcome {result.outcome} without a summary")
    profile, ranks = normalize_summary(result.player_id, result.summary)
    private = result.outcome == "private"
    answers: dict[ModeKey, StatsBlocks] = {(BOTH, mode): body for mode, body in result.stats.items()}
    for platform, per_mode in result.platform_stats.items():
        answers.update(((platform, mode), body) for mode, body in per_mode.items())
    modes: dict[ModeKey, ModeStats] = {}
    if not private:
        for key in sorted(answers):
            blocks = mode_blocks(answers[key])
            if blocks:
                modes[key] = ModeStats(key[1], blocks, key[0])
    return Snapshot(profile, result.summary.last_updated_at, private, ranks, modes, result.summary_only)


def mode_blocks(body: StatsBlocks) -> dict[Key, RawJson]:
    """A gamemode's blocks (none without a ``general`` block: a gamemode never played); null ones left out.
    Each is a view of the message's bytes: keeping one keeps the message (~15 KB), about what copies of
    all its blocks would take."""
    if body.general == NULL:
        return {}
    blocks: dict[Key, RawJson] = {OVERALL: body.general}
    for scope, group in ((SCOPE_ROLE, body.roles), (SCOPE_HERO, body.heroes)):
        for key in sorted(group):
            raw = group[key]
            if raw != NULL:
                blocks[(scope, key)] = raw
    return blocks


def normalize_summary(player_id: str, summary: PlayerSummary) -> tuple[ProfileRow, list[RankRow]]:
    """Profile row and ranks (per platform and role, sorted) of a summary."""
    endorsement = summary.endorsement
    profile = ProfileRow(
        player_id=player_id,
        name=summary.username,
        avatar=summary.avatar,
        namecard=summary.namecard,
        title=summary.title,
        endorsement_level=endorsement.level if endorsement is not None else None,
    )
    ranks: list[RankRow] = []
    competitive = summary.competitive
    for platform in PLATFORMS if competitive is not None else ():
        block = getattr(competitive, platform)
        if block is None:
            continue
        for role in _RANKED_ROLES:
            rank = getattr(block, role)
            if rank is not None:
                ranks.append(RankRow(platform, role, block.season, rank.division, rank.tier, rank.rank_icon))
    return profile, sorted(ranks, key=lambda r: (r.platform, r.role))
