"""The messages on owstream's topics: typed pydantic models at the Kafka boundary.

* ``<prefix>.fetch-requests``  FetchRequest, key = player id
* ``<prefix>.fetch-results``   FetchResult,  key = player id (raw OverFast JSON, zstd; the replayable history)
* ``<prefix>.player-events``   PlayerEvent,  key = player id
* ``<prefix>.dead-letter``     the raw bytes of a message that could not be processed, headers say why
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal, Self

import msgspec
import zstandard
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticSerializationError

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # the first bytes of a zstd frame (never of JSON)
_ZSTD_LEVEL = 3  # the fetcher has time to spare; the topic and the store keep every result forever

GAMEMODES: tuple[str, ...] = ("quickplay", "competitive")

Outcome = Literal[
    "ok",  # summary + stats per gamemode are in the result
    "private",  # the profile is private: summary only, no stats
    "not_found",  # OverFast does not know the player (retry_after says when to ask again)
    "upstream_error",  # OverFast/Blizzard busy or down after retries (retry_after if known)
    "skipped",  # fetched less than the OverFast cache time ago and not forced: nothing new to fetch
]

EventType = Literal[
    "fetch_started",  # a fetcher took the request (fetcher)
    "fetch_stored",  # the result of a request is in the store (processor); data.outcome says which
    "session",  # a new play session was detected (processor); data holds its summary
    "rank_change",  # a competitive rank moved (processor)
    "privacy_change",  # the profile became private or public (processor)
    "not_found",  # OverFast does not know the player (processor)
]


def new_id() -> str:
    return uuid.uuid4().hex


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def trusted(cls, values: dict[str, Any]) -> Self:
        """An instance of values already checked, one per field in field order (no defaults, no aliases).

        ``model_construct`` minus its per-field alias and default handling, which costs more than the
        rest of building a processor event; the result is the same kind of instance (tests compare them).
        """
        model = cls.__new__(cls)
        object.__setattr__(model, "__dict__", values)
        object.__setattr__(model, "__pydantic_fields_set__", set(values))
        object.__setattr__(model, "__pydantic_extra__", None)
        object.__setattr__(model, "__pydantic_private__", None)
        return model

    @classmethod
    def from_bytes(cls, data: bytes) -> Any:
        """The message in ``data``: JSON, or zstd-compressed JSON (how FetchResult travels)."""
        return cls.model_validate_json(uncompressed(data))


def compressed(data: bytes) -> bytes:
    """``data`` as a zstd frame (left as it is if it is one already)."""
    if data.startswith(ZSTD_MAGIC):
        return data
    return zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(data)


def uncompressed(data: bytes) -> bytes:
    """The JSON in ``data``, which may be a zstd frame."""
    if data.startswith(ZSTD_MAGIC):
        try:
            return zstandard.ZstdDecompressor().decompress(data)
        except zstandard.ZstdError as exc:
            raise ValueError(f"a zstd frame that does not decompress: {exc}") from exc
    return data


class FetchRequest(Message):
    request_id: str = Field(default_factory=new_id)
    player_id: str
    force: bool = False
    requested_at: float = Field(default_factory=time.time)
    source: str = "cli"  # cli, dashboard, scheduler


class FetchResult(Message):
    result_id: str = Field(default_factory=new_id)  # unique per fetch: the idempotency key of the store
    request_ids: list[str]  # every request this fetch answered (duplicates in flight are coalesced)
    player_id: str
    fetched_at: float
    outcome: Outcome
    summary: dict[str, Any] | None = None  # raw GET /players/{id}/summary
    stats: dict[str, dict[str, Any]] = Field(default_factory=dict)  # gamemode -> raw stats/summary JSON
    status: int | None = None  # HTTP status of the last upstream answer
    error: str | None = None  # upstream's message for not_found / upstream_error
    retry_after: float | None = None  # seconds, when upstream said
    cache_headers: dict[str, str] = Field(default_factory=dict)  # x-cache-ttl, cache-control, age

    def to_bytes(self) -> bytes:
        """zstd-compressed JSON: ~4x smaller on a topic kept forever, and the store keeps it as it came."""
        try:
            body = super().to_bytes()
        except PydanticSerializationError:  # stats from owstream.decoding hold msgspec structs: msgspec writes them
            body = msgspec.json.encode(self.__dict__)
        return compressed(body)


_EVENT_ENCODER = msgspec.json.Encoder()


class PlayerEvent(Message):
    event_id: str = Field(default_factory=new_id)
    type: EventType
    player_id: str
    at: float = Field(default_factory=time.time)
    request_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """JSON of the same values as pydantic's, three times faster (the processor sends thousands per second);
        the bytes can differ in float notation (``1e16`` for pydantic's ``1e+16``)."""
        try:
            return _EVENT_ENCODER.encode(self.__dict__)
        except TypeError:  # a value msgspec does not know: pydantic's serialiser does
            return super().to_bytes()
