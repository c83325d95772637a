"""Whether anything was written to the store: a marker that changes whenever any connection, of any process,
commits a write. The dashboard keeps its reads cached until it changes (a page opened again re-reads nothing
when nothing was stored in between).

- SQLite: ``PRAGMA data_version`` on one connection kept for it. SQLite documents that two answers of the
  same connection differ when another connection committed in between (every write here is another
  connection's: this one never writes); the connection's identity is part of the marker, so a new connection
  after an error counts as a change.
- PostgreSQL: the cluster's next transaction id (``pg_snapshot_xmax(pg_current_snapshot())``): every writing
  transaction takes an id, reads do not. It also moves for other databases' writes: a change too many, never
  one missed.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from owstream.errors import StoreError

Marker = tuple[int, int]  # (connection, version)
_connections = itertools.count(1)


class Changes:
    """The store's change marker (thread-safe: the dashboard's sessions ask from their own threads)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._raw: Any = None  # SQLite: the DBAPI connection kept for PRAGMA data_version
        self._number = 0

    def marker(self) -> Marker:
        """A value equal to the last one asked for only when nothing was committed in between; StoreError
        when the store cannot be asked."""
        try:
            if self._engine.dialect.name == "sqlite":
                return self._sqlite()
            with self._engine.connect() as conn:
                return 0, int(conn.exec_driver_sql("SELECT pg_snapshot_xmax(pg_current_snapshot())::text").scalar_one())
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise StoreError(f"cannot ask the store for its changes: {exc}") from exc

    def _sqlite(self) -> Marker:
        with self._lock:
            if self._raw is None:
                self._raw = self._engine.raw_connection()  # autocommit (engine.py): no transaction held open
                self._number = next(_connections)
            try:
                cursor = self._raw.cursor()
                try:
                    cursor.execute("PRAGMA data_version")
                    version = int(cursor.fetchone()[0])
                finally:
                    cursor.close()
            except Exception:
                self.close_locked()
                raise
            return self._number, version

    def close(self) -> None:
        with self._lock:
            self.close_locked()

    def close_locked(self) -> None:
        if self._raw is not None:
            raw, self._raw = self._raw, None
            with contextlib.suppress(Exception):  # a broken connection is dropped either way
                raw.close()
