"""Topics as code: every topic owstream uses, declared once with its partitions, configs and the contract of
its messages (model, ``schema`` header, bounded decoder: :mod:`owstream.messages.contracts`).

:class:`Topics` gives the typed :class:`Topic` of each for one prefix; a topic encodes what it is given with
its headers (:meth:`Topic.message`) and reads a record back as its model (:meth:`Topic.read`), so no service
names a schema or picks a decoder. :class:`TopicNames` is the names alone (admin, tools, tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from owstream.bus.client import Headers, Record
from owstream.messages import contracts
from owstream.messages.contracts import Contract

DAY_MS = 24 * 3600 * 1000
M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class TopicSpec:
    suffix: str  # the name after "<prefix>."
    purpose: str
    contract: Contract[Any]
    keyed: bool = True  # keyed topics get `kafka_partitions` partitions, others one
    config: dict[str, str] = field(default_factory=dict)


FETCH_REQUESTS = TopicSpec(
    "fetch-requests",
    "what to fetch (dashboard, CLI, scheduler -> fetcher)",
    contracts.FETCH_REQUEST,
    config={"retention.ms": str(7 * DAY_MS)},
)
FETCH_RESULTS = TopicSpec(
    "fetch-results",
    "raw OverFast JSON per fetch; the replayable history, kept forever",
    contracts.FETCH_RESULT,
    config={"retention.ms": "-1", "retention.bytes": "-1", "max.message.bytes": str(8 * 1024 * 1024)},
)
PLAYER_EVENTS = TopicSpec(
    "player-events",
    "derived events: fetch progress, sessions, rank changes, privacy changes",
    contracts.PLAYER_EVENT,
    config={"retention.ms": str(30 * DAY_MS)},
)
DEAD_LETTER = TopicSpec(
    "dead-letter",
    "messages that could not be processed, with headers saying why and where from",
    contracts.DEAD_LETTER,
    keyed=False,
    config={"retention.ms": "-1", "max.message.bytes": str(8 * 1024 * 1024)},
)
HERO_STATS = TopicSpec(
    "hero-stats",
    "OverFast's /heroes/stats answers (the meta service), keyed by combination; the meta's history, kept forever",
    contracts.HERO_STATS,
    config={"retention.ms": "-1", "retention.bytes": "-1"},
)

ALL_TOPICS: tuple[TopicSpec, ...] = (FETCH_REQUESTS, FETCH_RESULTS, PLAYER_EVENTS, DEAD_LETTER, HERO_STATS)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message ready to produce: value encoded, headers set."""

    topic: str
    value: bytes
    key: str | None
    headers: Headers


@dataclass(frozen=True, slots=True)
class Topic(Generic[M]):
    """One topic of one prefix, bound to the contract of its messages."""

    name: str
    contract: Contract[M]

    def message(self, message: Any, *, key: str | None) -> Outgoing:
        """``message`` encoded for this topic, with its content-type and schema headers."""
        return Outgoing(self.name, self.contract.encode(message), key, self.contract.headers)

    def raw(self, value: bytes, *, key: str | None) -> Outgoing:
        """A value encoded already (e.g. an event whose size was checked) with this topic's headers."""
        return Outgoing(self.name, value, key, self.contract.headers)

    def read(self, record: Record) -> M:
        """The message of ``record``: its ``schema`` header checked, its value decoded within bounds;
        ProcessingError (dead-letter it) otherwise."""
        return self.contract.read(record.value, record.headers.get("schema"))


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


class Topics:
    """The typed topics of one prefix: ``Topics(prefix).fetch_results.read(record)``."""

    def __init__(self, prefix: str) -> None:
        self.names = TopicNames(prefix)
        self.fetch_requests = self._topic(FETCH_REQUESTS, contracts.FETCH_REQUEST)
        self.fetch_results = self._topic(FETCH_RESULTS, contracts.FETCH_RESULT)
        self.player_events = self._topic(PLAYER_EVENTS, contracts.PLAYER_EVENT)
        self.dead_letter = self._topic(DEAD_LETTER, contracts.DEAD_LETTER)
        self.hero_stats = self._topic(HERO_STATS, contracts.HERO_STATS)

    def _topic(self, spec: TopicSpec, contract: Contract[M]) -> Topic[M]:
        return Topic(self.names.of(spec), contract)

    def group(self, service: str) -> str:
        return self.names.group(service)
