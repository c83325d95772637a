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
    """Decode and store ``records``; returns how many answers were new. Each record that cannot be taken goes
    to ``dead`` exactly once: one that does not decode, or one the store refuses (the batch is then applied
    answer by answer, so only the refused ones are dead letters). A store that is unavailable is waited out
    (``sleep`` returns True to stop waiting)."""
    parsed: list[tuple[Record, SourcedAnswer]] = []
    for record in records:
        try:
            parsed.append((record, parse_answer(record)))
        except ProcessingError as exc:
            dead(record, str(exc))
    if not parsed:
        return 0
    try:
        return _apply_waiting(store, [item for _record, item in parsed], sleep)
    except StoreRejected:  # the data, not the database: find the answers it refuses, keep the others
        pass
    new = 0
    for record, item in parsed:
        try:
            new += _apply_waiting(store, [item], sleep)
        except StoreRejected as exc:
            dead(record, str(exc))
    return new


def _apply_waiting(store: Store, items: list[SourcedAnswer], sleep: Callable[[float], object]) -> int:
    """``store.apply_hero_stats(items)``, a store that is unavailable waited out (rolled back, nothing lost)."""
    attempt = 0
    while True:
        try:
            return store.apply_hero_stats(items)
        except StoreUnavailable as exc:
            attempt += 1
            wait = min(5.0, 0.1 * 2**attempt)
            log.warning("storing hero stats failed (%s); retrying in %.1f s", exc, wait)
            if sleep(wait):
                raise
