"""The messages on owstream's topics, one model each; ``schemas/<name>.schema.json`` is generated from them.

=====================  ==============  =========================================================
topic                  model           key
=====================  ==============  =========================================================
``<p>.fetch-requests``  FetchRequest    player id
``<p>.fetch-results``   FetchResult     player id (OverFast's bodies as they came; kept forever)
``<p>.player-events``   PlayerEvent     player id (one model per ``type``, a tagged union)
``<p>.dead-letter``     DeadLetter      the poison message's key
``<p>.hero-stats``      HeroStatsAnswer the combination (``competitive.pc.europe.all.all``; kept forever)
=====================  ==============  =========================================================

Every value is plain UTF-8 JSON (the producer compresses batches); every message carries the headers
``content-type: application/json`` and ``schema: <name>/<version>`` (each model's contract:
:mod:`owstream.messages.contracts`). Fields are added
with defaults, so a reader of version N reads N+1; a change that is not backward compatible gets a new
version.
"""

from __future__ import annotations

import uuid
from typing import Annotated, ClassVar, Generic, TypeVar

from msgspec import Meta, Raw, Struct, field

from owstream.domain.vocabulary import Gamemode, MetaDivision, Outcome, Platform, Region, Role, StatsPlatform
from owstream.messages.bodies import LATEST, HeroStats, PlayerSummary, StatsBlocks, StatsSummary

# What a player id looks like: a BattleTag with "-" (``TeKrop-2217``) or Blizzard's own id (hex|hex).
# The full rules are in owstream.domain.battletag; this pattern is what any other producer can check.
PlayerId = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=64,
        pattern=r"^(?:[^\s#|/?-]{1,32}-[0-9]{3,8}|[0-9a-f]{6,40}\|[0-9a-f]{6,40})$",
        description="a BattleTag with '-' instead of '#' (TeKrop-2217), or Blizzard's player id",
    ),
]
Id = Annotated[str, Meta(min_length=1, max_length=128)]
Text = Annotated[str, Meta(max_length=2000)]  # an upstream message, as the store keeps it
Seconds = Annotated[float, Meta(ge=0.0, le=1e7)]
# No message is from after 2100: a forged year 5138 would make a player "fetched" for ever (never fetched again).
# Readers also refuse a fetch time ahead of their clock (codec.check_fetched_at).
Timestamp = Annotated[float, Meta(ge=0.0, le=float(LATEST), description="unix time, seconds (before 2100)")]
# One fetch answers the requests for its player that arrived together (a fetcher's batch: 50 at most); the
# fetcher writes at most KEPT_REQUEST_IDS (codec.wire_result), readers take up to MAX_REQUEST_IDS, the bound of
# release 0.1.0 (fetch-results is kept for ever and replayed): more is a forgery asking for that many rows.
KEPT_REQUEST_IDS = 100
MAX_REQUEST_IDS = 1000
# What an event may say: OverFast's keys and vocabulary, short; a forged 5 MB event is refused whole.
Word = Annotated[str, Meta(max_length=32)]
HeroKey = Annotated[str, Meta(min_length=1, max_length=64)]
GameCount = Annotated[int, Meta(ge=0, le=2**31 - 1)]
Amount = Annotated[float, Meta(ge=0.0, le=1e15)]


def new_id() -> str:
    return uuid.uuid4().hex


class FetchRequest(Struct, frozen=True, kw_only=True):
    """Fetch one player. Only ``player_id`` is required: one JSON line from any Kafka client is a request."""

    player_id: PlayerId
    # Who waits for the answer follows it by this id; none: the fetcher names it after the message's
    # topic, partition and offset.
    request_id: Id | None = None
    force: bool = False  # fetch even if the player was fetched less than OverFast's cache time ago
    requested_at: Timestamp | None = None  # none: the message's timestamp
    source: Annotated[str, Meta(max_length=32)] = "kafka"  # cli, dashboard, scheduler, kafka


S = TypeVar("S")
T = TypeVar("T")


class FetchResult(Struct, Generic[S, T], frozen=True, kw_only=True):
    """What one fetch of a player gave: OverFast's bodies (``ok``, ``private``) or an outcome without them.

    Generic in how the bodies are held: the fetcher writes ``FetchResult[Raw, Raw]`` (the bytes OverFast
    sent, fields this version does not know included); readers decode :data:`CheckedResult` (every body
    checked), the processor :data:`StoreResult` (the stats blocks checked as the store uses them).
    """

    result_id: Id  # unique per fetch: the idempotency key of the store
    request_ids: Annotated[list[Id], Meta(max_length=MAX_REQUEST_IDS)]  # every request this fetch answered
    player_id: PlayerId
    fetched_at: Timestamp
    outcome: Outcome
    summary: S | None = None  # GET /players/{id}/summary
    # gamemode -> GET .../stats/summary?gamemode= without a platform (pc and console added together by OverFast):
    # what owstream fetched before it asked per platform; read as the platform "both"
    stats: dict[Gamemode, T] = field(default_factory=dict)
    # platform -> gamemode -> GET .../stats/summary?gamemode=&platform=: the platforms this fetch asked (``{}``
    # for a gamemode not played there); a platform left out was not asked, its stored stats stay as they were
    platform_stats: dict[Platform, dict[Gamemode, T]] = field(default_factory=dict)
    # True: only the summary was asked (a scheduled refresh whose summary said nothing moved): no stats were
    # asked, the stored ones stay the player's current stats
    summary_only: bool = False
    # sha256 (hex) of the summary's bytes as OverFast sent them. A summary_only result whose summary is byte for
    # byte the one stored carries this digest and no summary: the summary stored under it still holds
    summary_digest: Annotated[str, Meta(max_length=64)] | None = None
    status: Annotated[int, Meta(ge=100, le=599)] | None = None  # HTTP status of the last upstream answer
    error: Text | None = None  # upstream's message for not_found / upstream_error
    retry_after: Seconds | None = None  # seconds, when upstream said
    cache_headers: Annotated[dict[Annotated[str, Meta(max_length=64)], Text], Meta(max_length=16)] = field(
        default_factory=dict
    )  # x-cache-ttl, cache-control, age
    # not_found / mismatch: the BattleTag OverFast knows that equals the one asked apart from case ("did you
    # mean ...?"); offered, never fetched in its place
    suggestion: PlayerId | None = None


CheckedResult = FetchResult[PlayerSummary, StatsSummary]  # the schema of the topic: every body checked
StoreResult = FetchResult[PlayerSummary, StatsBlocks]  # the processor's: stats blocks as their bytes
WireResult = FetchResult[Raw, Raw]


# --- player-events -----------------------------------------------------------------------------------


class _Event(Struct, frozen=True, kw_only=True, tag_field="type"):
    event_id: Id  # stable: the same event derived again has the same id (consumers dedupe by it)
    player_id: PlayerId
    at: Timestamp  # when the fetch it comes from happened
    request_id: Id | None = None  # the request it answers (fetch_started, fetch_stored)

    @property
    def type(self) -> str:
        """The event's ``type`` on the wire (its tag)."""
        return str(self.__struct_config__.tag)


class NoData(Struct, frozen=True):
    pass


class FetchStarted(_Event, frozen=True, tag="fetch_started"):
    """A fetcher took the request (fetcher)."""

    data: NoData = NoData()


class StoredData(Struct, frozen=True, kw_only=True):
    outcome: Outcome
    error: Text | None = None
    retry_after: Seconds | None = None
    suggestion: PlayerId | None = None  # a BattleTag equal to the one asked apart from case ("did you mean ...?")


class FetchStored(_Event, frozen=True, tag="fetch_stored"):
    """The result of a request is in the store (processor); ``data.outcome`` says which."""

    data: StoredData


class SessionData(Struct, frozen=True, kw_only=True):
    """What was played between two snapshots of one gamemode on one platform (counts and totals, never
    negative)."""

    gamemode: Gamemode
    platform: StatsPlatform = "both"  # pc, console, or both (OverFast's total of pc and console: old results)
    is_reset: bool  # counters went down (a season reset, a Blizzard correction): not real games
    games: GameCount
    wins: GameCount
    losses: GameCount
    winrate: Annotated[float, Meta(ge=0.0, le=100.0)]  # percent of the session's games won
    kda: Amount
    time_played: GameCount  # seconds
    eliminations: Amount
    assists: Amount
    deaths: Amount
    damage: Amount
    healing: Amount
    heroes: Annotated[list[HeroKey], Meta(max_length=200)]  # most time played first
    started_at: Annotated[int, Meta(ge=0, le=LATEST)] | None = None  # Blizzard's update time of the snapshot before
    ended_at: Annotated[int, Meta(ge=0, le=LATEST)] | None = None  # Blizzard's update time of this snapshot


class SessionFound(_Event, frozen=True, tag="session"):
    """A new play session (processor)."""

    data: SessionData


class RankChangeData(Struct, frozen=True, kw_only=True):
    platform: Word
    role: Word
    season: Annotated[int, Meta(ge=0, le=10_000)] | None = None
    from_division: Word | None = None  # None: was unranked
    from_tier: Annotated[int, Meta(ge=1, le=5)] | None = None
    to_division: Word | None = None  # None: no longer ranked
    to_tier: Annotated[int, Meta(ge=1, le=5)] | None = None


class RankChanged(_Event, frozen=True, tag="rank_change"):
    """A competitive rank moved (processor)."""

    data: RankChangeData


class PrivacyData(Struct, frozen=True):
    private: bool


class PrivacyChanged(_Event, frozen=True, tag="privacy_change"):
    """The profile became private or public (processor)."""

    data: PrivacyData


class NotFoundData(Struct, frozen=True, kw_only=True):
    error: Text | None = None
    retry_after: Seconds | None = None  # when OverFast will look for the player again


class PlayerNotFound(_Event, frozen=True, tag="not_found"):
    """OverFast does not know the player (processor)."""

    data: NotFoundData


PlayerEvent = FetchStarted | FetchStored | SessionFound | RankChanged | PrivacyChanged | PlayerNotFound
EVENT_TYPES: tuple[type[_Event], ...] = (
    FetchStarted,
    FetchStored,
    SessionFound,
    RankChanged,
    PrivacyChanged,
    PlayerNotFound,
)


# --- dead-letter ---------------------------------------------------------------------------------------


class DeadLetter(Struct, frozen=True, kw_only=True):
    """A message a service could not take, with why and where it came from. The poison value itself is kept
    (up to :attr:`MAX_VALUE` bytes of it) as text when it is UTF-8, else in base64; it also stays at its
    source offset."""

    MAX_VALUE: ClassVar[int] = 1 << 20

    error: Text
    service: Annotated[str, Meta(max_length=32)]
    source_topic: Annotated[str, Meta(max_length=255)]
    source_partition: int
    source_offset: int
    key: Annotated[str, Meta(max_length=1000)] | None = None
    value: str | None = None  # the value as text, if it is UTF-8
    value_base64: str | None = None  # otherwise its bytes in base64
    value_bytes: int  # the size of the whole value
    truncated: bool = False  # only the first MAX_VALUE bytes are kept here
    at: Timestamp


# --- hero-stats ----------------------------------------------------------------------------------------

H = TypeVar("H")


class HeroStatsAnswer(Struct, Generic[H], frozen=True, kw_only=True):
    """One answer of ``GET /heroes/stats`` (the meta service): pick rate and winrate per hero, in percent, of
    one combination of query parameters, with OverFast's rows as they came.

    Generic like FetchResult: the meta service writes ``HeroStatsAnswer[Raw]`` (OverFast's bytes); readers
    decode :data:`CheckedHeroStats`.
    """

    answer_id: Id  # unique per answer: the idempotency key of the store
    fetched_at: Timestamp
    gamemode: Gamemode
    platform: Platform
    region: Region
    division: MetaDivision | None = None  # competitive_division; None: every division
    role: Role | None = None  # None: every role
    heroes: H  # OverFast's array: [{hero, pickrate, winrate}], percent
    status: Annotated[int, Meta(ge=100, le=599)] = 200  # HTTP status of OverFast's answer
    cache_headers: Annotated[dict[Annotated[str, Meta(max_length=64)], Text], Meta(max_length=16)] = field(
        default_factory=dict
    )  # x-cache-ttl, cache-control, age


CheckedHeroStats = HeroStatsAnswer[HeroStats]
WireHeroStats = HeroStatsAnswer[Raw]
