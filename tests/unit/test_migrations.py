"""Named migrations on real SQLite files: each applied once, in order, also to a store made by an older
release."""

from __future__ import annotations

import copy
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from owstream.store import Store
from owstream.store.migrations import MIGRATIONS, migrate
from support.results import ok_result, replace, src


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


def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_a_store_from_before_0003_gets_the_removed_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before-0003.db'}"
    store = Store.open(url)
    store.apply_results(src(ok_result("JohnV1-1190", "j0", 1.0), ok_result("KIRIKO-12460", "k0", 2.0)))
    report = store.player_report("JohnV1-1190")
    store.close()
    engine = create_engine(url)
    with engine.begin() as conn:  # make it look like a store written before 0003 existed
        rows = conn.execute(text("SELECT count(*) FROM stats")).scalar_one()
        conn.execute(text("ALTER TABLE stats DROP COLUMN removed"))
        conn.execute(text("DELETE FROM schema_migrations WHERE name = '0003_stats_changes_only'"))
    assert rows > 0 and "removed" not in _columns(url, "stats")
    assert migrate(engine) == ["0003_stats_changes_only"]
    assert migrate(engine) == []
    with engine.connect() as conn:
        removed = conn.execute(text("SELECT removed, count(*) FROM stats GROUP BY removed")).all()
        names = conn.execute(text("SELECT name FROM schema_migrations ORDER BY name")).scalars().all()
    engine.dispose()
    assert "removed" in _columns(url, "stats")
    assert [tuple(r) for r in removed] == [(0, rows)]  # every existing row reads "not removed"
    assert names == [name for name, _ in MIGRATIONS]
    # the migrated store reads as before and takes new snapshots
    again = Store.open(url)
    try:
        assert again.player_report("JohnV1-1190") == report
        later = ok_result("JohnV1-1190", "j1", 3.0)
        assert later.summary is not None
        summary = {**later.summary, "last_updated_at": later.summary["last_updated_at"] + 60}
        stats = copy.deepcopy(later.stats)
        del stats["quickplay"]["heroes"]["ana"]  # a vanished block: the new column is written
        again.apply_results(src(replace(later, summary=summary, stats=stats)))
        with again.engine.connect() as conn:
            gone = conn.execute(text("SELECT gamemode, scope, key FROM stats WHERE removed")).all()
        assert [tuple(r) for r in gone] == [("quickplay", "hero", "ana")]
        new_report = again.player_report("JohnV1-1190")
        assert new_report is not None and "ana" not in new_report["gamemodes"]["quickplay"]["heroes"]
    finally:
        again.close()


def test_a_store_from_before_0004_loses_the_extra_column_and_nothing_else(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with Store.open(url) as store:
        store.apply_results(src(ok_result("TeKrop-2217", "t0", 1.0)))
        report = store.player_report("TeKrop-2217")
    engine = create_engine(url)
    with engine.begin() as conn:  # a store written before 0004: unknown fields were copied into "extra"
        conn.execute(text("ALTER TABLE stats ADD COLUMN extra TEXT"))
        conn.execute(text("UPDATE stats SET extra = '{\"mvp_cards\": 3}'"))
        conn.execute(text("DELETE FROM schema_migrations WHERE name = '0004_stats_without_extra'"))
        rows = conn.execute(text("SELECT count(*) FROM stats")).scalar_one()
    assert "extra" in _columns(url, "stats")
    assert migrate(engine) == ["0004_stats_without_extra"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stats")).scalar_one() == rows
    engine.dispose()
    assert "extra" not in _columns(url, "stats")
    with Store.open(url) as again:
        assert again.player_report("TeKrop-2217") == report


def test_aliases_learned_before_0009_are_no_longer_trusted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Store.open(url).close()
    engine = create_engine(url)
    john = "a1b2c3d4e5f6a7b8c9d0e1|0123456789abcdef0123456789abcdef"
    with engine.begin() as conn:  # a store written before 0009: the alias taken from a wrongly labelled hit
        for column in ("verdict", "why", "checked_at", "next_check_at", "checks"):
            conn.execute(text(f"ALTER TABLE player_aliases DROP COLUMN {column}"))
        conn.execute(text("ALTER TABLE fetch_outcomes DROP COLUMN suggestion"))
        conn.execute(
            text("INSERT INTO player_aliases (alias, player_id, blizzard_id, learned_at) VALUES (:a, :a, :b, 1.0)"),
            {"a": "Player-137712", "b": john},
        )
        conn.execute(text("DELETE FROM schema_migrations WHERE name = '0009_identity_checks'"))
    assert migrate(engine) == ["0009_identity_checks"]
    assert migrate(engine) == []
    engine.dispose()
    with Store.open(url) as store:
        row = store.aliases.lookup("Player-137712")
        assert row is not None and row.verdict == "legacy" and not row.proven and row.due(0.0)
        assert store.aliases.owner_of(john) is None  # no longer joins histories
        assert store.last_fetches("Player-137712").suggestion is None  # the new column reads
