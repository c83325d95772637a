"""Named migrations on real SQLite files: each applied once, in order, also to a store made by an older
release."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from owstream.store import Store
from owstream.store.migrations import MIGRATIONS, migrate


def _indexes(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {ix["name"] for ix in inspect(engine).get_indexes(table)}
    finally:
        engine.dispose()


def test_a_new_store_gets_every_migration_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    Store.open(url).close()
    engine = create_engine(url)
    with engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM schema_migrations ORDER BY name")).scalars().all()
    assert names == [name for name, _ in MIGRATIONS]
    assert migrate(engine) == []  # nothing pending the second time
    engine.dispose()


def test_a_store_from_the_first_release_gets_the_activity_indexes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store.open(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:  # make it look like a store written before 0002 existed
        conn.execute(text("DROP INDEX ix_fetch_outcomes_at"))
        conn.execute(text("DROP INDEX ix_raw_results_fetched"))
        conn.execute(text("DELETE FROM schema_migrations WHERE name = '0002_activity_indexes'"))
    assert "ix_raw_results_fetched" not in _indexes(url, "raw_results")
    assert migrate(engine) == ["0002_activity_indexes"]
    engine.dispose()
    assert "ix_raw_results_fetched" in _indexes(url, "raw_results")
    assert "ix_fetch_outcomes_at" in _indexes(url, "fetch_outcomes")
