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
from owstream.errors import ProcessingError, StoreRejected, StoreUnavailable
from owstream.messages import codec
from owstream.store import SourcedAnswer, Store

log = logging.getLogger(__name__)


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
    sleep: Callable[[float], object] = time.sleep,
) -> int:
    """Decode and store ``records``; returns how many answers were new. A store that is unavailable is waited
    out (``sleep`` returns True to stop waiting); answers the store refuses are dead-lettered."""
    items: list[SourcedAnswer] = []
    for record in records:
        try:
            items.append(parse_answer(record))
        except ProcessingError as exc:
            dead(record, str(exc))
    if not items:
        return 0
    attempt = 0
    while True:
        try:
            return store.apply_hero_stats(items)
        except StoreRejected as exc:  # the data, not the database: no retry makes it pass
            for record in records:
                dead(record, str(exc))
            return 0
        except StoreUnavailable as exc:  # rolled back, nothing lost
            attempt += 1
            wait = min(5.0, 0.1 * 2**attempt)
            log.warning("storing hero stats failed (%s); retrying in %.1f s", exc, wait)
            if sleep(wait):
                raise
