"""The contract of each message, bound once: its model, the ``schema`` header it travels with (``<name>/<version>``,
also the file ``schemas/<name>.schema.json``) and its bounded decoder. A topic (:class:`owstream.bus.Topic`)
carries one contract; nothing else names a schema or picks a decoder.

::

    value = FETCH_REQUEST.encode(request)               # compact JSON
    FETCH_REQUEST.headers                               # content-type and schema headers
    request = FETCH_REQUEST.read(value, header)         # the header checked, then the bounded decode
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from owstream.errors import ProcessingError
from owstream.messages import codec
from owstream.messages.bodies import HeroStat
from owstream.messages.models import (
    CheckedHeroStats,
    CheckedResult,
    DeadLetter,
    FetchRequest,
    PlayerEvent,
    StoreResult,
    WireHeroStats,
)

M = TypeVar("M")
CONTENT_TYPE = ("content-type", b"application/json")


@dataclass(frozen=True, slots=True)
class Contract(Generic[M]):
    """One message kind: ``model`` names it (and is the key of :data:`CONTRACTS`), ``schema``/``version`` make
    its header, ``decoder`` reads a value as ``M`` within the codec's bounds (ProcessingError otherwise),
    ``json_model`` is what its JSON Schema is generated from, ``description`` heads the schema file."""

    model: str
    schema: str
    version: int
    decoder: Callable[[bytes], M]
    json_model: Any
    description: str

    @property
    def schema_id(self) -> str:
        """``fetch-result/1``: the ``schema`` header of this kind's messages."""
        return f"{self.schema}/{self.version}"

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [CONTENT_TYPE, ("schema", self.schema_id.encode())]

    def encode(self, message: Any) -> bytes:
        return codec.encode(message)

    def check(self, header: bytes | None) -> None:
        """ProcessingError if a ``schema`` header names a schema this version does not read (absent is
        fine: any Kafka client may write a message without headers)."""
        if header is None:
            return
        text = header.decode("utf-8", "replace")
        got_name, _, got_version = text.partition("/")
        if got_name != self.schema or not got_version.isdigit() or int(got_version) > self.version:
            raise ProcessingError(f"schema {text[:80]!r} is not one this version reads ({self.schema_id} or older)")

    def read(self, value: bytes, header: bytes | None = None) -> M:
        """A message of this kind: its header checked, then decoded within the codec's bounds."""
        self.check(header)
        return self.decoder(value)


FETCH_REQUEST: Contract[FetchRequest] = Contract(
    "FetchRequest", "fetch-request", 1, codec.decode_request, FetchRequest,
    "A request to fetch one player from OverFast (topic <prefix>.fetch-requests, key: player id).",
)  # fmt: skip
FETCH_RESULT: Contract[StoreResult] = Contract(
    "FetchResult", "fetch-result", 1, codec.decode_stored, CheckedResult,
    "What one fetch of a player gave: OverFast's summary and stats summary per gamemode as OverFast sent "
    "them, or an outcome without them (topic <prefix>.fetch-results, key: player id, kept forever).",
)  # fmt: skip
PLAYER_EVENT: Contract[PlayerEvent] = Contract(
    "PlayerEvent", "player-event", 1, codec.decode_event, PlayerEvent,
    "Something the pipeline found out about a player; one shape per type "
    "(topic <prefix>.player-events, key: player id).",
)  # fmt: skip
DEAD_LETTER: Contract[DeadLetter] = Contract(
    "DeadLetter", "dead-letter", 1, lambda value: codec.decode_as(value, DeadLetter), DeadLetter,
    "A message a service could not take, and why (topic <prefix>.dead-letter).",
)  # fmt: skip
HERO_STATS: Contract[tuple[WireHeroStats, list[HeroStat]]] = Contract(
    "HeroStats", "hero-stats", 1, codec.decode_hero_stats, CheckedHeroStats,
    "One answer of OverFast's GET /heroes/stats: pick rate and winrate per hero (percent) of one platform, "
    "gamemode, region and division, as OverFast sent them (topic <prefix>.hero-stats, key: the "
    "combination, kept forever).",
)  # fmt: skip

CONTRACTS: dict[str, Contract[Any]] = {
    c.model: c for c in (FETCH_REQUEST, FETCH_RESULT, PLAYER_EVENT, DEAD_LETTER, HERO_STATS)
}
