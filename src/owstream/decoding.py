"""Decoding ``fetch-results`` messages fast: a strict msgspec shape first, pydantic for everything else.

The processor reads thousands of ~13 KB results per second. pydantic-core builds every stats block as a
dict (~700 µs per message on the reference machine, more than the whole budget of a snapshot); msgspec
decodes the common, well-formed shape straight into typed structs (~55 µs), already checked: counts are
non-negative ints (not bools, not floats), numbers are non-negative and finite, no field is unknown.

Any message the strict shape does not accept (a field OverFast added, a null block, a negative number, a
missing ``result_id``, not JSON at all) goes through :meth:`FetchResult.from_bytes` and the field-by-field
normalisation instead, which keeps unknown fields and names exact problems. Both paths give the same rows
(tests check it), so the fast path is only a cache of the slow one's answer for ordinary messages.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal, cast

import msgspec
from msgspec import Meta, Struct, field

from owstream.messages import FetchResult

_Count = Annotated[int, Meta(ge=0, le=2**63 - 1)]  # what SQL's BIGINT holds
_Number = _Count | Annotated[float, Meta(ge=0.0, le=sys.float_info.max)]  # ints stay ints, as OverFast sent them


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
    """A whole ``/players/{id}/stats/summary?gamemode=...`` body (``{}`` for a gamemode never played)."""

    general: StatBlock | None = None
    roles: dict[str, StatBlock] = field(default_factory=dict)
    heroes: dict[str, StatBlock] = field(default_factory=dict)


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
_FIELDS = _Result.__struct_fields__


def decode_result(raw: bytes) -> FetchResult:
    """The FetchResult in a message; pydantic's ValidationError if it is not one.

    A result decoded by the fast path holds :class:`StatsBody` structs as ``stats`` values instead of raw
    JSON objects; :func:`owstream.normalize.normalize_stats` takes either. Keep ``raw`` alongside such a
    result (``SourcedResult.raw``) rather than serialising it again.
    """
    try:
        wire = _DECODER.decode(raw)
    except msgspec.MsgspecError:
        return cast(FetchResult, FetchResult.from_bytes(raw))
    values = {name: getattr(wire, name) for name in _FIELDS}
    return FetchResult.model_construct(**values)  # checked by msgspec against the same field types
