"""The processor's part for ``<prefix>.hero-stats``: OverFast's /heroes/stats answers into the store.

Kept apart from the processor's fetch-results loop, which calls :func:`split` on each batch and
:func:`store_answers` with the hero-stats records; a record that cannot be decoded goes to the dead-letter
topic (through the ``dead`` callback, so its offset moves with the batch's), the others are stored in one
transaction, idempotent by answer id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from owstream.bus import Record
from owstream.errors import ProcessingError, StoreError
from owstream.messages import codec
from owstream.store import SourcedAnswer, Store

log = logging.getLogger(__name__)

STORE_RETRIES = 5


def split(records: Sequence[Record], topic: str) -> tuple[list[Record], list[Record]]:
    """(the records of other topics, those of ``topic``), each in their order."""
    others = [r for r in records if r.topic != topic]
    if len(others) == len(records):
        return list(records), []
    return others, [r for r in records if r.topic == topic]


def parse_answer(record: Record) -> SourcedAnswer:
    """A consumed hero-stats message with its origin; ProcessingError if it is not one."""
    codec.check_schema("HeroStats", record.headers.get("schema"))
    answer, rows = codec.decode_hero_stats(record.value)
    return SourcedAnswer(answer, rows, record.topic, record.partition, record.offset)


def store_answers(
    store: Store,
    records: Sequence[Record],
    dead: Callable[[Record, str], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Decode and store ``records``; returns how many answers were new. A store that is briefly unavailable is
    retried with backoff (nothing is written until it takes the whole batch)."""
    items: list[SourcedAnswer] = []
    for record in records:
        try:
            items.append(parse_answer(record))
        except ProcessingError as exc:
            dead(record, str(exc))
    if not items:
        return 0
    for attempt in range(1, STORE_RETRIES + 1):
        try:
            return store.apply_hero_stats(items)
        except Exception as exc:  # a database error: rolled back, nothing lost
            if attempt == STORE_RETRIES:
                raise StoreError(f"the store rejected hero stats {attempt} times: {exc}") from exc
            wait = min(30.0, 0.5 * 2**attempt)
            log.warning("storing hero stats failed (%s); retrying in %.1f s", exc, wait)
            sleep(wait)
    return 0
