"""Topics as code: every topic owstream uses, its partitions and configs, declared in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class TopicSpec:
    suffix: str  # the name after "<prefix>."
    purpose: str
    keyed: bool = True  # keyed topics get `kafka_partitions` partitions, others one
    config: dict[str, str] = field(default_factory=dict)


FETCH_REQUESTS = TopicSpec(
    "fetch-requests",
    "what to fetch (dashboard, CLI, scheduler -> fetcher)",
    config={"retention.ms": str(7 * DAY_MS)},
)
FETCH_RESULTS = TopicSpec(
    "fetch-results",
    "raw OverFast JSON per fetch; the replayable history, kept forever",
    config={"retention.ms": "-1", "retention.bytes": "-1", "max.message.bytes": str(8 * 1024 * 1024)},
)
PLAYER_EVENTS = TopicSpec(
    "player-events",
    "derived events: fetch progress, sessions, rank changes, privacy changes",
    config={"retention.ms": str(30 * DAY_MS)},
)
DEAD_LETTER = TopicSpec(
    "dead-letter",
    "messages that could not be processed, with headers saying why and where from",
    keyed=False,
    config={"retention.ms": "-1", "max.message.bytes": str(8 * 1024 * 1024)},
)

HERO_STATS = TopicSpec(
    "hero-stats",
    "OverFast's /heroes/stats answers (the meta service), keyed by combination; the meta's history, kept forever",
    config={"retention.ms": "-1", "retention.bytes": "-1"},
)

ALL_TOPICS: tuple[TopicSpec, ...] = (FETCH_REQUESTS, FETCH_RESULTS, PLAYER_EVENTS, DEAD_LETTER, HERO_STATS)


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The concrete names for one prefix (tests use their own prefix)."""

    prefix: str

    def of(self, spec: TopicSpec) -> str:
        return f"{self.prefix}.{spec.suffix}"

    @property
    def fetch_requests(self) -> str:
        return self.of(FETCH_REQUESTS)

    @property
    def fetch_results(self) -> str:
        return self.of(FETCH_RESULTS)

    @property
    def player_events(self) -> str:
        return self.of(PLAYER_EVENTS)

    @property
    def dead_letter(self) -> str:
        return self.of(DEAD_LETTER)

    @property
    def hero_stats(self) -> str:
        return self.of(HERO_STATS)

    def all(self) -> list[str]:
        return [self.of(spec) for spec in ALL_TOPICS]

    def group(self, service: str) -> str:
        """The consumer group of a service: "<prefix>.fetcher", "<prefix>.processor"."""
        return f"{self.prefix}.{service}"
