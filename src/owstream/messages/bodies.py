"""The OverFast bodies a fetch result carries, one model each: the client checks answers with them, the
``fetch-result`` JSON Schema is generated from them, and the processor decodes results into them.

Forward compatible: fields OverFast adds are ignored here (and kept: results carry OverFast's bytes as
they came, so a later version that knows a field gets it by ``owstream replay``). Bounds are those of the
store's columns, so that nothing that passes here can fail there (a count of 10^20, a 1 MB title).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated

from msgspec import Meta, Raw, Struct, field

from owstream.domain.vocabulary import Division

# A count of games or seconds: what the store's INTEGER columns hold (PostgreSQL's is 32 bits).
Count = Annotated[int, Meta(ge=0, le=2**31 - 1)]
# A total or an average: a non-negative, finite amount (ints are read as floats).
Amount = Annotated[float, Meta(ge=0.0, le=1e15)]
Percent = Annotated[float, Meta(ge=0.0, le=100.0)]
# A picture's address: http(s) only. Pages show them (st.image reads a path that is not a URL from the disk).
Url = Annotated[str, Meta(max_length=2048, pattern=r"^https?://[^\s]+$")]
LATEST = 4_102_444_800  # 2100-01-01T00:00:00Z: no time OverFast or a message gives is later
# Hero and role keys: OverFast's lowercase slugs ("soldier-76"); new heroes appear every season. The pattern
# is in the JSON Schema; decoding checks it in ``__post_init__`` against the keys already seen (msgspec's own
# pattern check runs a regex for each of a result's ~50 keys, half the cost of decoding it).
KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
Key = Annotated[str, Meta(min_length=1, max_length=64, extra_json_schema={"pattern": KEY_PATTERN})]
_KEY = re.compile(KEY_PATTERN)
_GOOD_KEYS: set[str] = set()  # keys that matched: a few hundred heroes and roles at most
_MAX_GOOD_KEYS = 10_000  # beyond (a hostile stream of new keys), keys are still checked, just not remembered


def check_keys(keys: Iterable[str]) -> None:
    """ValueError (msgspec's ValidationError when decoding) for a key that is not a lowercase slug."""
    for key in keys:
        if key in _GOOD_KEYS:
            continue
        if _KEY.match(key) is None:
            raise ValueError(f"key {key[:64]!r} is not a lowercase slug like 'soldier-76'")
        if len(_GOOD_KEYS) < _MAX_GOOD_KEYS:
            _GOOD_KEYS.add(key)


class Totals(Struct, frozen=True, gc=False):
    """``total`` (sums) or ``average`` (per 10 minutes of play, not per game) of a stats block."""

    eliminations: Amount | None = None
    assists: Amount | None = None
    deaths: Amount | None = None
    damage: Amount | None = None
    healing: Amount | None = None


NO_TOTALS = Totals()


class StatBlock(Struct, frozen=True, gc=False):
    """One block of ``stats/summary``: ``general``, a role or a hero, of one gamemode."""

    games_played: Count
    time_played: Count  # seconds
    games_won: Count = 0
    games_lost: Count = 0
    winrate: Percent | None = None  # percent of games won
    kda: Amount | None = None  # (eliminations + assists) / deaths
    total: Totals = NO_TOTALS
    average: Totals = NO_TOTALS


class StatsSummary(Struct, frozen=True):
    """``GET /players/{id}/stats/summary?gamemode=...``: ``{}`` for a gamemode never played (or a private
    profile); roles and heroes never played are absent (or null)."""

    general: StatBlock | None = None
    roles: dict[Key, StatBlock | None] = field(default_factory=dict)
    heroes: dict[Key, StatBlock | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_keys(self.roles)
        check_keys(self.heroes)


RawJson = Raw  # a JSON value kept as its bytes, for the domain (which does not import msgspec)
NULL = Raw(b"null")


class StatsBlocks(Struct, frozen=True):
    """The processor's reading of a ``stats/summary`` body: what :class:`StatsSummary` reads, each block left
    as its JSON bytes (``null`` for an absent one). A player's blocks mostly repeat from one snapshot to the
    next (a session moves a few heroes), so the store compares their bytes and checks, with
    :func:`owstream.messages.codec.decode_block`, only those that changed, before any number of theirs is
    used; the keys are checked here. Decoding a result this way takes 40 % of the time of decoding every
    block, and comparing bytes a fraction of comparing decoded blocks."""

    general: Raw = NULL
    roles: dict[Key, Raw] = field(default_factory=dict)
    heroes: dict[Key, Raw] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_keys(self.roles)
        check_keys(self.heroes)


class Endorsement(Struct, frozen=True):
    level: Annotated[int, Meta(ge=0, le=5)] | None = None
    frame: Url | None = None


class Rank(Struct, frozen=True):
    """A competitive rank of one role on one platform: division and tier (1 is the highest)."""

    division: Division
    tier: Annotated[int, Meta(ge=1, le=5)]
    role_icon: Url | None = None
    rank_icon: Url | None = None
    tier_icon: Url | None = None


class PlatformRanks(Struct, frozen=True):
    """Ranks of one platform in the competitive ``season`` OverFast reports (null: never ranked)."""

    season: Annotated[int, Meta(ge=0, le=10_000)] | None = None
    tank: Rank | None = None
    damage: Rank | None = None
    support: Rank | None = None
    open: Rank | None = None


class Competitive(Struct, frozen=True):
    pc: PlatformRanks | None = None
    console: PlatformRanks | None = None


class PlayerSummary(Struct, frozen=True):
    """``GET /players/{id}/summary``. A private profile has ``competitive`` and ``last_updated_at`` null."""

    username: Annotated[str, Meta(max_length=64)]
    avatar: Url | None = None
    namecard: Url | None = None
    title: Annotated[str, Meta(max_length=128)] | None = None
    endorsement: Endorsement | None = None
    competitive: Competitive | None = None
    last_updated_at: Annotated[int, Meta(ge=0, le=LATEST)] | None = None  # unix seconds

    @property
    def private(self) -> bool:
        return self.competitive is None and self.last_updated_at is None


class SearchHit(Struct, frozen=True):
    """One player of ``GET /players?name=``. OverFast labels a single hit with the search input as its
    ``player_id`` (the BattleTag asked, whoever the account is: OverFast issue #382), several hits with their
    Blizzard ids; ``name`` is the name alone, never the number after the ``#``."""

    player_id: Annotated[str, Meta(max_length=128)]
    name: Annotated[str, Meta(max_length=64)]
    blizzard_id: Annotated[str, Meta(max_length=128)] | None = None
    last_updated_at: Annotated[int, Meta(ge=0, le=2**53)] | None = None  # unix seconds
    is_public: bool | None = None


MAX_SEARCH_HITS = 1000


class PlayerSearch(Struct, frozen=True):
    """``GET /players?name=``: the public players with that exact name (OverFast compares names case-sensitively)."""

    total: Annotated[int, Meta(ge=0)] = 0
    results: Annotated[list[SearchHit], Meta(max_length=MAX_SEARCH_HITS)] = field(default_factory=list)


class ErrorBody(Struct, frozen=True):
    """The body of OverFast's 429/5xx answers: ``{"error": "..."}``."""

    error: str


class NotFoundDetail(Struct, frozen=True):
    error: Annotated[str, Meta(max_length=1000)] = "Player not found"
    retry_after: Annotated[float, Meta(ge=0)] | None = None
    next_check_at: int | None = None
    check_count: int | None = None


class NotFoundBody(Struct, frozen=True):
    """The 404 body: nested under ``error`` (the app) or flat (the public instance's proxy)."""

    error: NotFoundDetail | Annotated[str, Meta(max_length=1000)] = "Player not found"
    retry_after: Annotated[float, Meta(ge=0)] | None = None
    next_check_at: int | None = None
    check_count: int | None = None

    def flat(self) -> NotFoundDetail:
        if isinstance(self.error, NotFoundDetail):
            return self.error
        return NotFoundDetail(self.error, self.retry_after, self.next_check_at, self.check_count)


class HeroStat(Struct, frozen=True, gc=False):
    """One row of ``GET /heroes/stats``: a hero's pick rate and winrate among the games of the query's
    platform, gamemode, region (and division, role, map), both in percent as OverFast gives them."""

    hero: Key
    pickrate: Percent  # percent of games in which the hero was picked
    winrate: Percent  # percent of the hero's games won

    def __post_init__(self) -> None:
        check_keys((self.hero,))


# ``GET /heroes/stats``: an array of rows, one per hero (fewer with a role filter). New heroes arrive every
# season; a few hundred rows is far more than the game has.
MAX_HERO_ROWS = 500
HeroStats = Annotated[list[HeroStat], Meta(max_length=MAX_HERO_ROWS)]


class HeroSummary(Struct, frozen=True, gc=False):
    """One hero of ``GET /heroes``: its key, display name (``Soldier: 76``), role and portrait URL."""

    key: Key
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    role: Key | None = None
    portrait: Url | None = None

    def __post_init__(self) -> None:
        check_keys((self.key,) if self.role is None else (self.key, self.role))


# ``GET /heroes``: an array of heroes (a few dozen; bounded like the stats rows).
HeroList = Annotated[list[HeroSummary], Meta(max_length=MAX_HERO_ROWS)]
