"""The store: every fetch result, snapshot, session and rank change (SQLite by default, PostgreSQL by URL).

The processor is its only writer of derived data (:meth:`Store.apply_results`); the CLI and the dashboard
read it, and write the watchlist (user configuration). The only package that imports SQLAlchemy.

::

    with Store.open(url) as store:
        report = store.player_report("TeKrop-2217")
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.exc import (
    DataError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from owstream.errors import StoreError, StoreRejected, StoreUnavailable, WatchlistFull
from owstream.store import queries, schema
from owstream.store.changes import Changes
from owstream.store.engine import WRITE, make_engine, upsert
from owstream.store.identity import Identity, diagnosis, read_id
from owstream.store.migrations import migrate
from owstream.store.queries import RequestStatus, WatchEntry
from owstream.store.reading import Reads
from owstream.store.sourced import SourcedResult

if TYPE_CHECKING:
    from owstream.domain.fetchplan import Stored
    from owstream.domain.freshness import LastFetches
    from owstream.domain.heroes import Hero
    from owstream.messages.models import PlayerEvent
    from owstream.store.aliases import Aliases
    from owstream.store.herostats import SourcedAnswer, StoredAnswer
    from owstream.store.notifications import Notifications
    from owstream.store.sizes import TableSize
    from owstream.store.writer import BatchWriter

# Loaded when first asked for (``from owstream.store import Notifications``): a command that only reads a
# report does not pay for the writer, the notifier's and the meta's code.
_LAZY = {
    "Notifications": "owstream.store.notifications",
    "SourcedAnswer": "owstream.store.herostats",
    "StoredAnswer": "owstream.store.herostats",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Notifications", "RequestStatus", "SourcedAnswer", "SourcedResult", "Store", "StoredAnswer", "WatchEntry"]

log = logging.getLogger(__name__)


def translated(exc: BaseException, path: Path | None = None) -> BaseException:
    """A database error as the store's own: StoreUnavailable (retry later; a read-only store or a full disk
    said so), StoreRejected (the data), or StoreError; anything else as it is."""
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeout):
        named = diagnosis(path, _first_line(exc))
        return StoreUnavailable(named or f"the store cannot be written now: {_first_line(exc)}")
    if isinstance(exc, IntegrityError | DataError | OverflowError):
        return StoreRejected(f"the store refuses the data: {_first_line(exc)}")
    if isinstance(exc, SQLAlchemyError):
        return StoreError(f"the store failed: {_first_line(exc)}")
    return exc


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


class Store(Reads):
    """One store; not thread-safe for writing (one writer per process, the processor). The pages' reads are
    :class:`owstream.store.reading.Reads`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._batches: BatchWriter | None = None
        self._changes = Changes(engine)
        with engine.connect() as conn:
            self.identity = Identity(engine, read_id(conn))

    @classmethod
    def open(cls, url: str) -> Store:
        """Engine + pending migrations; creates the SQLite file's parent directory."""
        engine = make_engine(url)
        try:
            migrate(engine)
            return cls(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            path = Identity(engine, None).path
            why = diagnosis(path, _first_line(exc)) or str(exc)
            raise StoreError(f"cannot open the store at {engine.url!r}: {why}") from exc

    @property
    def engine(self) -> Engine:
        return self._engine

    def describe(self) -> str:
        """Where the store is (the URL without its password)."""
        return self.identity.where

    def is_empty(self) -> bool:
        """Whether the store holds no fetch result (a new store, or one whose file was lost)."""
        with self._read() as conn:
            return conn.execute(select(schema.raw_results.c.result_id).limit(1)).first() is None

    @property
    def aliases(self) -> Aliases:
        """Which history a BattleTag or Blizzard id belongs to (:mod:`owstream.store.aliases`)."""
        from owstream.store.aliases import Aliases

        return Aliases(self._engine)

    @property
    def notifications(self) -> Notifications:
        """The webhooks of tracked players and the notifier's deliveries (:mod:`owstream.store.notifications`)."""
        from owstream.store.notifications import Notifications

        return Notifications(self._engine)

    def change_marker(self) -> tuple[int, int]:
        """Equal to the last answer only when nothing was committed to the store in between, by any process
        (:mod:`owstream.store.changes`); StoreError when the store cannot be asked."""
        return self._changes.marker()

    def close(self) -> None:
        self._changes.close()
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def _writer(self) -> BatchWriter:
        """The batch writer and its state cache, made on first use (reading commands never load it)."""
        if self._batches is None:
            from owstream.store.writer import BatchWriter

            self._batches = BatchWriter()
        return self._batches

    def _write(self) -> Connection:
        return self._engine.connect().execution_options(**{WRITE: True})

    # --- writing ---------------------------------------------------------------------------------

    def apply_results(self, items: Sequence[SourcedResult]) -> list[PlayerEvent]:
        """Store a batch in one transaction; results already stored change nothing. Returns the events to
        publish: those derived from the new results and, derived again from the store with the same ids,
        those of results already stored (whose first publication may have been lost).

        Raises ProcessingError (nothing written) if a result cannot be normalised; callers that want to
        dead-letter single messages apply the batch's results one by one then.
        """
        if not items:
            return []
        try:
            self.identity.check_file()
            with self._write() as conn, conn.begin():
                self.identity.check_row(conn)
                events = self._writer.apply(conn, items)
            self.identity.check_file()  # removed while it wrote: the commit went to a file no one will read
            return events
        except BaseException as exc:
            self._writer.cache.clear()  # the cache may hold state of the rolled-back batch
            ours = translated(exc, self.identity.path)
            if ours is exc:
                raise
            raise ours from exc

    def apply_hero_stats(self, items: Sequence[SourcedAnswer]) -> int:
        """Store OverFast's /heroes/stats answers in one transaction; those already stored (by answer id)
        change nothing. Returns how many were new."""
        if not items:
            return 0
        try:
            self.identity.check_file()
            with self._write() as conn, conn.begin():
                from owstream.store import herostats

                self.identity.check_row(conn)
                new = herostats.write(conn, items)
            self.identity.check_file()
            return new
        except SQLAlchemyError as exc:
            raise translated(exc, self.identity.path) from exc

    def put_heroes(self, heroes: Sequence[Hero], at: float) -> int:
        """Store OverFast's hero catalogue (``GET /heroes``): names, roles and portraits by key."""
        try:
            with self._write() as conn, conn.begin():
                from owstream.store import lookups

                return lookups.write_heroes(conn, heroes, at)
        except SQLAlchemyError as exc:
            raise translated(exc) from exc

    def reset_derived(self) -> None:
        """Empty everything derived from fetch results (all but the watchlist and schema_migrations)."""
        try:
            with self._write() as conn, conn.begin():
                for table in schema.DERIVED_TABLES:
                    conn.execute(delete(table))
        finally:
            self._writer.cache.clear()

    def watch_add(self, player_id: str, at: float, *, limit: int | None = None) -> bool:
        """Add to the watchlist; False if already there. ``limit``: WatchlistFull when the list already
        holds that many players (checked in the same transaction)."""
        table = schema.watchlist
        with self._write() as conn, conn.begin():
            if limit is not None:
                from sqlalchemy import func, select

                held = conn.execute(select(func.count()).select_from(table)).scalar_one()
                known = conn.execute(select(table.c.player_id).where(table.c.player_id == player_id)).first()
                if known is None and held >= limit:
                    raise WatchlistFull(f"the watchlist is full: it holds {held} players (at most {limit})")
            stmt: Any = upsert(conn.dialect.name, table)
            stmt = stmt.values(player_id=player_id, added_at=at).on_conflict_do_nothing()
            return conn.execute(stmt.returning(table.c.player_id)).first() is not None

    def watch_remove(self, player_id: str) -> bool:
        """Remove from the watchlist (and its webhook: pending alerts are dropped); False if it was not there."""
        with self._write() as conn, conn.begin():
            stmt = delete(schema.watchlist).where(schema.watchlist.c.player_id == player_id)
            removed = bool(conn.execute(stmt).rowcount)
            if removed:
                from owstream.store import notifications

                notifications.drop_pending(conn, player_id, time.time(), "the player is no longer tracked")
            return removed

    # --- reading ---------------------------------------------------------------------------------

    def request_status(self, request_id: str) -> RequestStatus | None:
        with self._read() as conn:
            return queries.request_status(conn, request_id)

    def player_report(
        self, player_id: str, gamemode: str | None = None, platform: str | None = None
    ) -> dict[str, Any] | None:
        """The player's stored data, each platform apart (see :mod:`owstream.store.report`); ``platform``: only
        that one (default: every platform, ``gamemodes`` being the one played most's)."""
        with self._read() as conn:
            from owstream.store import report

            return report.player_report(conn, player_id, gamemode, platform)

    def season_report(
        self, player_id: str, season: str, gamemode: str | None = None, platform: str | None = None
    ) -> dict[str, Any] | None:
        """:meth:`player_report`'s shape for one season (``current``, ``last`` or its number) of each platform,
        with ``season``, ``season_label``, ``since`` and ``until``; None if the player is not stored,
        UnknownSeason if the season is not (see :mod:`owstream.store.seasons`)."""
        with self._read() as conn:
            from owstream.store import seasons

            return seasons.season_report(conn, player_id, season, gamemode, platform)

    def last_fetches(self, player_id: str) -> LastFetches:
        """What the store knows of the player's last fetches (the fetcher's "ask OverFast?")."""
        with self._read() as conn:
            return queries.last_fetches(conn, player_id)

    def fetch_facts(self, player_id: str) -> Stored:
        """What the fetcher plans a fetch of the player from (see :mod:`owstream.store.plans`)."""
        with self._read() as conn:
            from owstream.store import plans

            return plans.fetch_facts(conn, player_id)

    def watchlist(self) -> list[WatchEntry]:
        with self._read() as conn:
            return queries.watchlist(conn)

    def hero_stats(
        self, gamemode: str, platform: str, region: str, division: str | None = None, role: str | None = None
    ) -> StoredAnswer | None:
        """The newest stored /heroes/stats answer of one combination (division/role None: all)."""
        with self._engine.connect() as conn:
            from owstream.store import herostats

            return herostats.latest(conn, gamemode, platform, region, division=division, role=role)

    def hero_stats_fetched(self) -> dict[str, float]:
        """When each combination's newest /heroes/stats answer was fetched, by combination key."""
        with self._engine.connect() as conn:
            from owstream.store import herostats

            return herostats.fetched_times(conn)

    def export_tables(self, player_id: str) -> dict[str, Any]:
        """The tables of a player's history for analysis, by name (see :mod:`owstream.store.exports`)."""
        from owstream.store import exports

        with self._read() as conn:
            return exports.export_tables(conn, player_id)

    def table_sizes(self) -> dict[str, TableSize]:
        """Each table's rows and bytes on disk, its indexes included (see :mod:`owstream.store.sizes`)."""
        from owstream.store import sizes

        with self._read() as conn:
            return sizes.table_sizes(conn)

    def history(self, player_id: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """(columns, rows) of a player's snapshot history (see :func:`owstream.store.queries.history`)."""
        with self._read() as conn:
            return queries.history(conn, player_id)
