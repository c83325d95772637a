"""The meta's history in the store: OverFast's ``/heroes/stats`` answers (one ``hero_stats`` row each, with
OverFast's array as it came) and their rows per hero (``hero_stat_rows``, for the dashboard's queries).

Written by the processor only, idempotent by answer id: an answer read again changes nothing. Nothing here
reads the clock. A division or role of None (every one) is stored as "all".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from owstream.domain.meta import ALL
from owstream.messages import codec
from owstream.messages.bodies import HeroStat
from owstream.messages.models import WireHeroStats
from owstream.store import schema
from owstream.store.engine import upsert

MAX_HEROES_BYTES = 1 << 20  # a stored array is never larger than this (OverFast's are ~2 KB)


@dataclass(frozen=True)
class SourcedAnswer:
    """A hero-stats message, its rows checked, with where it came from."""

    answer: WireHeroStats  # ``bytes(answer.heroes)`` is OverFast's array as it came
    rows: list[HeroStat]
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class StoredAnswer:
    answer_id: str
    gamemode: str
    platform: str
    region: str
    division: str | None  # None: every division
    role: str | None  # None: every role
    fetched_at: float
    status: int
    heroes: bytes  # OverFast's JSON array, as it came
    cache_headers: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return ".".join((self.gamemode, self.platform, self.region, self.division or ALL, self.role or ALL))


def write(conn: Connection, items: Sequence[SourcedAnswer]) -> int:
    """Store the answers not stored yet (by answer id) and their rows; returns how many were new."""
    if not items:
        return 0
    table = schema.hero_stats
    values = [_answer_row(item) for item in items]
    stmt: Any = upsert(conn.dialect.name, table)
    stmt = stmt.values(values).on_conflict_do_nothing().returning(table.c.answer_id)
    inserted = set(conn.execute(stmt).scalars())
    new = set(inserted)
    rows = []
    for item in items:
        if item.answer.answer_id not in new:
            continue
        new.discard(item.answer.answer_id)  # the same answer twice in one batch: its rows once
        seen: set[str] = set()
        for row in item.rows:
            if row.hero not in seen:  # a hero listed twice: the first row counts (the array keeps both)
                seen.add(row.hero)
                rows.append({"answer_id": item.answer.answer_id, "hero": row.hero, "pickrate": row.pickrate,
                             "winrate": row.winrate})  # fmt: skip
    if rows:
        conn.execute(schema.hero_stat_rows.insert(), rows)
    return len(inserted)


def _answer_row(item: SourcedAnswer) -> dict[str, Any]:
    answer = item.answer
    return {
        "answer_id": answer.answer_id,
        "gamemode": answer.gamemode,
        "platform": answer.platform,
        "region": answer.region,
        "division": answer.division or ALL,
        "role": answer.role or ALL,
        "fetched_at": answer.fetched_at,
        "status": answer.status,
        "cache_headers": json.dumps(answer.cache_headers, sort_keys=True),
        "heroes": codec.compress(bytes(answer.heroes)),
        "source_topic": item.topic,
        "source_partition": item.partition,
        "source_offset": item.offset,
    }


def latest(
    conn: Connection, gamemode: str, platform: str, region: str, *, division: str | None = None, role: str | None = None
) -> StoredAnswer | None:
    """The newest stored answer of one combination, or None."""
    h = schema.hero_stats.c
    row = (
        conn.execute(
            select(schema.hero_stats)
            .where(h.gamemode == gamemode, h.platform == platform, h.region == region)
            .where(h.division == (division or ALL), h.role == (role or ALL))
            .order_by(h.fetched_at.desc(), h.answer_id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return StoredAnswer(
        answer_id=row["answer_id"],
        gamemode=row["gamemode"],
        platform=row["platform"],
        region=row["region"],
        division=None if row["division"] == ALL else row["division"],
        role=None if row["role"] == ALL else row["role"],
        fetched_at=row["fetched_at"],
        status=row["status"],
        heroes=codec.decompress(row["heroes"], MAX_HEROES_BYTES),
        cache_headers=json.loads(row["cache_headers"]),
    )


def fetched_times(conn: Connection) -> dict[str, float]:
    """The newest ``fetched_at`` of each combination stored, by its key (``competitive.pc.europe.all.all``)."""
    h = schema.hero_stats.c
    query = select(h.gamemode, h.platform, h.region, h.division, h.role, func.max(h.fetched_at)).group_by(
        h.gamemode, h.platform, h.region, h.division, h.role
    )
    return {".".join(row[:5]): float(row[5]) for row in conn.execute(query).all()}
