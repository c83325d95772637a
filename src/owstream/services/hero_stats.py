"""The processor's part for ``<prefix>.hero-stats``: OverFast's /heroes/stats answers into the store.

Kept apart from the processor's fetch-results loop, which calls :func:`split` on each batch and
:func:`store_answers` with the hero-stats records; a record that cannot be decoded goes to the dead-letter
topic (through the ``dead`` callback, so its offset moves with the batch's), the others are stored in one
transaction, idempotent by answer id (one by one if the store refuses the batch: only the answers it refuses
are dead letters). A store that is unavailable raises StoreUnavailable: the stream kernel
pauses the partitions and hands the batch back later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from owstream.bus import Record
from owstream.errors import ProcessingError, StoreRejected
from owstream.messages import contracts
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
    answer, rows = contracts.HERO_STATS.read(record.value, record.headers.get("schema"))
    return SourcedAnswer(answer, rows, record.topic, record.partition, record.offset)


def store_answers(store: Store, records: Sequence[Record], dead: Callable[[Record, str], None]) -> int:
    """Decode and store ``records``; returns how many answers were new. Each record that cannot be taken goes
    to ``dead`` exactly once: one that does not decode, or one the store refuses (the batch is then applied
    answer by answer, so only the refused ones are dead letters). StoreUnavailable passes through."""
    parsed: list[tuple[Record, SourcedAnswer]] = []
    for record in records:
        try:
            parsed.append((record, parse_answer(record)))
        except ProcessingError as exc:
            dead(record, str(exc))
    if not parsed:
        return 0
    try:
        return store.apply_hero_stats([item for _record, item in parsed])
    except StoreRejected as exc:  # the data, not the database: find the answers it refuses, keep the others
        log.warning("hero stats refused by the store: %s; storing them one by one", exc)
    new = 0
    for record, item in parsed:
        try:
            new += store.apply_hero_stats([item])
        except StoreRejected as exc:
            dead(record, str(exc))
    return new
