"""The notifier's tables: each tracked player's webhook (``watchlist.notify_*``) and the deliveries by event id.

A delivery is ``pending`` (waiting for ``next_attempt_at``), ``sent``, ``given_up`` (after the attempts'
bound, or a webhook that refuses for good) or ``dropped`` (its player lost the webhook before it was
sent). The store is the notifier's queue: what waits survives a restart. Several notifiers may share a
store: a delivery is claimed by moving its ``next_attempt_at`` forward only if it is unchanged, so one
delivery is in one notifier's hands at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from owstream.store import schema
from owstream.store.engine import WRITE, upsert

PENDING, SENT, GIVEN_UP, DROPPED = "pending", "sent", "given_up", "dropped"
FINISHED = frozenset({SENT, GIVEN_UP, DROPPED})


@dataclass(frozen=True)
class Target:
    """Where a tracked player's alerts go."""

    player_id: str
    url: str  # a secret: never logged, shown masked
    format: str | None  # discord | slack | json; None: from the URL
    since: float  # alerts for events of fetches from then on


@dataclass(frozen=True)
class Delivery:
    event_id: str
    player_id: str
    event_type: str
    event: str  # the event's JSON
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: float
    next_attempt_at: float
    updated_at: float


def set_target(conn: Connection, player_id: str, url: str | None, fmt: str | None, since: float) -> bool:
    """Set (or with ``url`` None, clear) a tracked player's webhook; False if the player is not tracked.
    Clearing drops the player's pending deliveries."""
    w = schema.watchlist.c
    values = {"notify_url": url, "notify_format": fmt if url else None, "notify_since": since if url else None}
    changed = conn.execute(update(schema.watchlist).where(w.player_id == player_id).values(**values)).rowcount
    if changed and url is None:
        drop_pending(conn, player_id, since, "the player's webhook was removed")
    return bool(changed)


def drop_pending(conn: Connection, player_id: str, now: float, why: str) -> int:
    d = schema.deliveries.c
    stmt = (
        update(schema.deliveries)
        .where(d.player_id == player_id, d.status == PENDING)
        .values(status=DROPPED, last_error=why, updated_at=now)
    )
    return int(conn.execute(stmt).rowcount)


def targets(conn: Connection, player_ids: Iterable[str]) -> dict[str, Target]:
    """The webhooks of those of ``player_ids`` that are tracked and have one."""
    w = schema.watchlist.c
    wanted = sorted(set(player_ids))
    found: dict[str, Target] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(w.player_id, w.notify_url, w.notify_format, w.notify_since).where(
                w.player_id.in_(wanted[start : start + 500]), w.notify_url.is_not(None)
            )
        )
        for pid, url, fmt, since in rows:
            found[pid] = Target(pid, url, fmt, since or 0.0)
    return found


def target(conn: Connection, player_id: str) -> Target | None:
    return targets(conn, [player_id]).get(player_id)


def add_deliveries(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """New pending deliveries (event_id, player_id, event_type, event, created_at); an event id already
    recorded (an event published again) changes nothing."""
    if not rows:
        return
    table = schema.deliveries
    values = [
        {**row, "status": PENDING, "attempts": 0, "next_attempt_at": row["created_at"], "updated_at": row["created_at"]}
        for row in rows
    ]
    stmt: Any = upsert(conn.dialect.name, table)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["event_id"]), values)


def statuses(conn: Connection, event_ids: Iterable[str]) -> dict[str, str]:
    d = schema.deliveries.c
    wanted = sorted(set(event_ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        query = select(d.event_id, d.status).where(d.event_id.in_(wanted[start : start + 500]))
        found.update((eid, status) for eid, status in conn.execute(query))
    return found


def due(conn: Connection, now: float, limit: int = 50) -> list[Delivery]:
    """Pending deliveries whose time has come, oldest first."""
    d = schema.deliveries.c
    query = (
        select(schema.deliveries)
        .where(d.status == PENDING, d.next_attempt_at <= now)
        .order_by(d.next_attempt_at, d.created_at, d.event_id)
        .limit(limit)
    )
    return [Delivery(**row) for row in conn.execute(query).mappings()]


def next_due_at(conn: Connection) -> float | None:
    d = schema.deliveries.c
    value = conn.execute(select(func.min(d.next_attempt_at)).where(d.status == PENDING)).scalar()
    return float(value) if value is not None else None


def claim(conn: Connection, delivery: Delivery, until: float) -> bool:
    """Take ``delivery`` for one attempt (until ``until``): False if another notifier took it first."""
    d = schema.deliveries.c
    stmt = (
        update(schema.deliveries)
        .where(d.event_id == delivery.event_id, d.status == PENDING, d.next_attempt_at == delivery.next_attempt_at)
        .values(next_attempt_at=until)
    )
    return bool(conn.execute(stmt).rowcount)


def record_attempt(
    conn: Connection,
    event_id: str,
    *,
    status: str,
    attempts: int,
    now: float,
    next_attempt_at: float | None = None,
    http_status: int | None = None,
    error: str | None = None,
) -> None:
    """The outcome of one attempt: sent, given up, or pending again from ``next_attempt_at``."""
    values: dict[str, Any] = {
        "status": status,
        "attempts": attempts,
        "last_status": http_status,
        "last_error": error[:2000] if error else None,
        "updated_at": now,
    }
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    conn.execute(update(schema.deliveries).where(schema.deliveries.c.event_id == event_id).values(**values))


def counts(conn: Connection) -> dict[str, int]:
    d = schema.deliveries.c
    return {str(k): int(v) for k, v in conn.execute(select(d.status, func.count()).group_by(d.status))}


def unfinished_and_failed(conn: Connection, limit: int = 50) -> list[Delivery]:
    """Pending and given-up deliveries, newest change first (the Pipeline page)."""
    d = schema.deliveries.c
    query = (
        select(schema.deliveries)
        .where(d.status.in_((PENDING, GIVEN_UP)))
        .order_by(d.updated_at.desc(), d.event_id)
        .limit(limit)
    )
    return [Delivery(**row) for row in conn.execute(query).mappings()]


class Notifications:
    """The functions above, each in its own transaction on an engine (``Store.notifications``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _write(self) -> Connection:
        return self._engine.connect().execution_options(**{WRITE: True})

    def set_target(self, player_id: str, url: str | None, fmt: str | None, at: float) -> bool:
        with self._write() as conn, conn.begin():
            return set_target(conn, player_id, url, fmt, at)

    def targets(self, player_ids: Iterable[str]) -> dict[str, Target]:
        with self._engine.connect() as conn:
            return targets(conn, player_ids)

    def add(self, rows: Sequence[dict[str, Any]]) -> dict[str, str]:
        """Record new deliveries; the status of every one of them (new or recorded before)."""
        with self._write() as conn, conn.begin():
            add_deliveries(conn, rows)
            return statuses(conn, [row["event_id"] for row in rows])

    def statuses(self, event_ids: Iterable[str]) -> dict[str, str]:
        with self._engine.connect() as conn:
            return statuses(conn, event_ids)

    def due(self, now: float, limit: int = 50) -> list[Delivery]:
        with self._engine.connect() as conn:
            return due(conn, now, limit)

    def next_due_at(self) -> float | None:
        with self._engine.connect() as conn:
            return next_due_at(conn)

    def claim(self, delivery: Delivery, until: float) -> bool:
        with self._write() as conn, conn.begin():
            return claim(conn, delivery, until)

    def drop_pending(self, player_id: str, now: float, why: str) -> int:
        with self._write() as conn, conn.begin():
            return drop_pending(conn, player_id, now, why)

    def record(self, event_id: str, **outcome: Any) -> None:
        with self._write() as conn, conn.begin():
            record_attempt(conn, event_id, **outcome)

    def counts(self) -> dict[str, int]:
        with self._engine.connect() as conn:
            return counts(conn)

    def unfinished_and_failed(self, limit: int = 50) -> list[Delivery]:
        with self._engine.connect() as conn:
            return unfinished_and_failed(conn, limit)
