"""Typed models of the OverFast responses a snapshot needs. They validate bodies at the boundary;
the client keeps the raw dict as the result. Unknown fields and new hero keys are tolerated."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DIVISIONS",
    "GAMEMODES",
    "ROLES",
    "AverageStats",
    "CompetitiveRank",
    "Endorsement",
    "PlatformRanks",
    "PlayerNotFoundBody",
    "PlayerStatsSummary",
    "PlayerSummary",
    "RanksByPlatform",
    "RolesStats",
    "StatsBlock",
    "TotalStats",
    "is_private_summary",
]

GAMEMODES: tuple[str, ...] = ("quickplay", "competitive")
PLATFORMS: tuple[str, ...] = ("pc", "console")
ROLES: tuple[str, ...] = ("tank", "damage", "support")
DIVISIONS: tuple[str, ...] = (
    "bronze",
    "silver",
    "gold",
    "platinum",
    "diamond",
    "master",
    "grandmaster",
    "ultimate",
)
Division = Literal["bronze", "silver", "gold", "platinum", "diamond", "master", "grandmaster", "ultimate"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Endorsement(_Model):
    level: int = Field(ge=0, le=5)
    frame: str | None = None


class CompetitiveRank(_Model):
    division: Division
    tier: int = Field(ge=1, le=5)
    role_icon: str | None = None
    rank_icon: str | None = None
    tier_icon: str | None = None


class PlatformRanks(_Model):
    season: int | None = None
    tank: CompetitiveRank | None = None
    damage: CompetitiveRank | None = None
    support: CompetitiveRank | None = None
    open: CompetitiveRank | None = None


class RanksByPlatform(_Model):
    pc: PlatformRanks | None = None
    console: PlatformRanks | None = None


class PlayerSummary(_Model):
    """``GET /players/{id}/summary``."""

    username: str
    avatar: str | None = None
    namecard: str | None = None
    title: str | None = None
    endorsement: Endorsement | None = None
    competitive: RanksByPlatform | None = None
    last_updated_at: int | None = None

    @property
    def private(self) -> bool:
        return self.competitive is None and self.last_updated_at is None


class TotalStats(_Model):
    eliminations: int = Field(ge=0)
    assists: int = Field(ge=0)
    deaths: int = Field(ge=0)
    damage: int = Field(ge=0)
    healing: int = Field(ge=0)


class AverageStats(_Model):
    """Per 10 minutes of play, not per game."""

    eliminations: float = Field(ge=0)
    assists: float = Field(ge=0)
    deaths: float = Field(ge=0)
    damage: float = Field(ge=0)
    healing: float = Field(ge=0)


class StatsBlock(_Model):
    games_played: int = Field(ge=0)
    games_won: int = Field(ge=0)
    games_lost: int = Field(ge=0)
    time_played: int = Field(ge=0)  # seconds
    winrate: float = Field(ge=0, le=100)
    kda: float = Field(ge=0)
    total: TotalStats
    average: AverageStats


class RolesStats(_Model):
    """Roles never played are absent (or null)."""

    tank: StatsBlock | None = None
    damage: StatsBlock | None = None
    support: StatsBlock | None = None


class PlayerStatsSummary(_Model):
    """``GET /players/{id}/stats/summary``; ``{}`` for a private profile."""

    general: StatsBlock | None = None
    roles: RolesStats | None = None
    heroes: dict[str, StatsBlock | None] | None = None

    @property
    def empty(self) -> bool:
        return self.general is None and not self.roles and not self.heroes


class PlayerNotFoundBody(_Model):
    """The 404 body, flat (public proxy) or nested under ``error`` (the app)."""

    error: str | PlayerNotFoundBody
    retry_after: float | None = None
    next_check_at: int | None = None
    check_count: int | None = None

    def flat(self) -> PlayerNotFoundBody:
        return self.error if isinstance(self.error, PlayerNotFoundBody) else self


def is_private_summary(summary: dict[str, Any]) -> bool:
    """A private profile: ``competitive`` and ``last_updated_at`` both null."""
    return summary.get("competitive") is None and summary.get("last_updated_at") is None
