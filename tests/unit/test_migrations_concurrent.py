"""Several processes opening a new store at once (the services of a Compose stack starting together on an
empty PostgreSQL) all get it migrated, each migration applied once: on PostgreSQL an advisory lock makes the
migrations take turns, where SQLite's write lock already does."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from owstream.store import Store, schema
from owstream.store.migrations import MIGRATIONS

OPENERS = 4


def test_stores_opened_at_once_on_a_new_database_all_open_and_migrate_it_once(store_url: str) -> None:
    start = threading.Barrier(OPENERS)
    opened: list[Store] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def open_store() -> None:
        start.wait()
        try:
            store = Store.open(store_url)
        except BaseException as exc:
            with lock:
                failures.append(exc)
            return
        with lock:
            opened.append(store)

    threads = [threading.Thread(target=open_store) for _ in range(OPENERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert failures == []
        assert len(opened) == OPENERS
        with opened[0].engine.connect() as conn:
            names = conn.execute(
                select(schema.schema_migrations.c.name, func.count()).group_by(schema.schema_migrations.c.name)
            ).all()
        assert sorted(names) == sorted((name, 1) for name, _ in MIGRATIONS)
    finally:
        for store in opened:
            store.close()
