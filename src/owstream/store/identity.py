"""The store knows itself: which store it is (the ``store_identity`` row, migration 0008) and, for SQLite, which
file it writes (device and inode, taken when it was opened).

A SQLite connection keeps writing to a file that was deleted or replaced under it, and every commit succeeds:
the processor would announce "stored" for results no file holds. So before and after each write the store
checks that its file is still the one it opened, not emptied, and that its identity row is still there and
the same; otherwise :class:`~owstream.errors.StoreLost`, which stops the processor before anything is
announced, with a message naming ``owstream replay``. A store that is read-only or on a full disk is named as
such (:func:`diagnosis`); those are waited out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from owstream.errors import StoreLost
from owstream.store import schema

REPLAY = (
    "stop the services and run `owstream replay` to rebuild the store from fetch-results "
    "(results stored since then are in that topic, none is lost there)"
)
FULL_BELOW = 1024 * 1024  # bytes free under which a write error is "the disk is full"


@dataclass(frozen=True, slots=True)
class FileId:
    path: Path
    device: int
    inode: int


def sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite store (None: PostgreSQL, or an in-memory database)."""
    if engine.url.get_backend_name() != "sqlite":
        return None
    database = engine.url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


def file_id(path: Path) -> FileId | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return FileId(path, st.st_dev, st.st_ino)


def read_id(conn: Connection) -> str | None:
    """The store's id (None: the row is gone)."""
    row = conn.execute(select(schema.store_identity.c.store_id).limit(1)).first()
    return None if row is None else str(row[0])


class Identity:
    """Who the store was when it was opened, and the check that it still is."""

    def __init__(self, engine: Engine, store_id: str | None) -> None:
        self.where = engine.url.render_as_string(hide_password=True)
        self.path = sqlite_file(engine)
        self.file = file_id(self.path) if self.path is not None else None
        self.store_id = store_id

    def check_file(self) -> None:
        """StoreLost if the SQLite file was removed, replaced or emptied since the store was opened."""
        if self.path is None or self.file is None:
            return
        now = file_id(self.path)
        if now is None:
            self._lost(f"its file {self.path} was removed")
        elif (now.device, now.inode) != (self.file.device, self.file.inode):
            self._lost(f"its file {self.path} was replaced by another file")
        elif _size(self.path) == 0:
            self._lost(f"its file {self.path} was emptied")

    def check_row(self, conn: Connection) -> None:
        """StoreLost if the identity row is gone or names another store (a database emptied or swapped)."""
        if self.store_id is None:
            return
        found = read_id(conn)
        if found != self.store_id:
            self._lost("its identity row is gone" if found is None else f"it is now another store ({found})")

    def _lost(self, what: str) -> None:
        raise StoreLost(f"the store at {self.where} is not the one this process opened: {what}; {REPLAY}")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def diagnosis(path: Path | None, error: str) -> str | None:
    """What a write error means when its cause is the file system: read-only, or the disk full."""
    lowered = error.lower()
    if "readonly" in lowered or "read-only" in lowered:
        where = f" {path}" if path is not None else ""
        return f"the store is read-only ({error}): make{where} and its directory writable"
    if "disk is full" in lowered or "no space left" in lowered:
        where = f" on the file system of {path.parent}" if path is not None else ""
        return f"the disk of the store is full ({error}): free space{where}"
    if path is not None and "disk i/o error" in lowered:
        return _file_system(path, error)
    return None


def _file_system(path: Path, error: str) -> str | None:
    """SQLite's "disk I/O error" named when the file system says why: read-only, or full."""
    try:
        fs = os.statvfs(path.parent)
    except OSError:
        return None
    if fs.f_flag & os.ST_RDONLY:
        return f"the store's file system is read-only ({error}): remount {path.parent} writable"
    if fs.f_bavail * fs.f_frsize < FULL_BELOW:
        return f"the disk of the store is full ({error}): free space on the file system of {path.parent}"
    return None
