"""Decoding ``fetch-results`` messages fast: a strict msgspec shape first, pydantic for everything else.

The processor reads thousands of ~13 KB results per second. pydantic-core builds every stats block as a
dict (~700 µs per message on the reference machine, more than the whole budget of a snapshot); msgspec
decodes the common, well-formed shape into typed structs, the stats blocks left as JSON text until one is
needed (:class:`StatsBody`), then checked by :func:`decode_block`: counts are non-negative ints (not bools,
not floats), numbers are non-negative and finite, no field is unknown.

A message the strict shape does not accept (an unknown section, a missing ``result_id``, not JSON at all)
goes through :meth:`FetchResult.from_bytes`, and a block :func:`decode_block` does not accept (a field
OverFast added, a negative number) through the field-by-field normalisation, which keeps unknown fields and
names exact problems. Both paths give the same rows (tests check it): the fast one is only a shortcut.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Raw, Struct, field
from msgspec.structs import astuple

from owstream.messages import FetchResult, uncompressed

_Count = Annotated[int, Meta(ge=0, le=2**63 - 1)]  # what SQL's BIGINT holds
_Number = _Count | Annotated[float, Meta(ge=0.0, le=sys.float_info.max)]  # ints stay ints, as OverFast sent them


NULL = Raw(b"null")


class Totals(Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """``total`` or ``average`` (per 10 minutes) of a stats block."""

    eliminations: _Number
    assists: _Number
    deaths: _Number
    damage: _Number
    healing: _Number


class StatBlock(Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """One block of ``stats/summary``: ``general``, a role or a hero."""

    games_played: _Count
    games_won: _Count
    games_lost: _Count
    time_played: _Count  # seconds
    winrate: _Number | None  # percent
    kda: _Number | None
    total: Totals
    average: Totals


class StatsBody(Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """A whole ``/players/{id}/stats/summary?gamemode=...`` body (``{}`` for a gamemode never played).

    Blocks stay as their JSON text (``msgspec.Raw``) until a row is needed: a block whose text equals the
    previous snapshot's is not decoded again (most of them: a session touches a few heroes). Use
    :func:`decode_block` on the others.
    """

    general: Raw = NULL
    roles: dict[str, Raw] = field(default_factory=dict)
    heroes: dict[str, Raw] = field(default_factory=dict)


class _Result(Struct, frozen=True):
    """FetchResult's fields, with typed stats bodies; unknown top-level fields are ignored, as pydantic does."""

    result_id: str
    request_ids: list[str]
    player_id: str
    fetched_at: float
    outcome: Literal["ok", "private", "not_found", "upstream_error", "skipped"]
    summary: dict[str, Any] | None = None
    stats: dict[str, StatsBody] = field(default_factory=dict)
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None
    cache_headers: dict[str, str] = field(default_factory=dict)


_DECODER = msgspec.json.Decoder(_Result)
_BLOCK_DECODER = msgspec.json.Decoder(StatBlock)


def decode_block(raw: Raw) -> StatBlock | None:
    """A block of a :class:`StatsBody` as a checked struct; None if it does not fit the strict shape
    (``json.loads`` it and take the slow path, which keeps unknown fields or names the problem)."""
    try:
        return _BLOCK_DECODER.decode(raw)
    except msgspec.MsgspecError:
        return None


_FIELDS = _Result.__struct_fields__
assert list(_FIELDS) == list(FetchResult.model_fields)  # the same fields in the same order


def decode_result(raw: bytes) -> FetchResult:
    """The FetchResult in a message (JSON or zstd-compressed JSON); ValueError if it is not one (pydantic's
    ValidationError for JSON that is not a FetchResult).

    A result decoded by the fast path holds :class:`StatsBody` structs as ``stats`` values instead of raw
    JSON objects; :func:`owstream.normalize.normalize_stats` takes either. Keep ``raw`` alongside such a
    result (``SourcedResult.raw``): ``to_bytes`` can write it again, but through msgspec, not byte for byte.
    """
    data = uncompressed(raw)
    try:
        wire = _DECODER.decode(data)
    except msgspec.MsgspecError:
        return FetchResult.model_validate_json(data)
    return FetchResult.trusted(dict(zip(_FIELDS, astuple(wire), strict=True)))  # checked by msgspec
