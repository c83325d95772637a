"""A fetch result with where it came from: what the processor hands the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from owstream.messages.models import StoreResult


@dataclass(frozen=True)
class SourcedResult:
    """A checked FetchResult with where it came from.

    ``raw``: the message value as read from Kafka, if the caller has it; stored (compressed) as is, so the
    store keeps OverFast's bytes exactly. Without it the result is encoded again.
    """

    result: StoreResult
    topic: str
    partition: int
    offset: int
    raw: bytes | None = None
