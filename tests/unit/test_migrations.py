"""Named migrations: each applied once, in order, also to a store made by an older release; every migration
after the first brings a store from before it to this version's shape on SQLite and on PostgreSQL."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Column, Connection, Engine, MetaData, Table, create_engine, inspect, text

from owstream.store import Store, schema
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


# --- every migration after the first, on SQLite and on PostgreSQL -------------------------------------------
# What a store looked like before each migration (undone on a store made by this version, with data in it).
# A new migration must say here what it changes, or the test below fails: each runs on both databases.


def _before_0002(conn: Connection) -> None:
    conn.exec_driver_sql("DROP INDEX ix_fetch_outcomes_at")
    conn.exec_driver_sql("DROP INDEX ix_raw_results_fetched")


def _before_0003(conn: Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE stats DROP COLUMN removed")


def _before_0004(conn: Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE stats ADD COLUMN extra TEXT")
    conn.exec_driver_sql("""UPDATE stats SET extra = '{"mvp_cards": 3}'""")


def _before_0005(conn: Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE snapshots DROP COLUMN season")


def _before_0006(conn: Connection) -> None:
    conn.exec_driver_sql("DROP TABLE hero_stat_rows")
    conn.exec_driver_sql("DROP TABLE hero_stats")


def _before_0007(conn: Connection) -> None:
    for column in ("notify_url", "notify_format", "notify_since"):
        conn.exec_driver_sql(f"ALTER TABLE watchlist DROP COLUMN {column}")
    conn.exec_driver_sql("DROP TABLE deliveries")
    conn.exec_driver_sql("DROP TABLE player_aliases")
    conn.exec_driver_sql("DROP INDEX ix_fetch_outcomes_player")


def _before_0008(conn: Connection) -> None:
    conn.exec_driver_sql("DROP TABLE store_identity")


def _before_0009(conn: Connection) -> None:
    for column in ("verdict", "why", "checked_at", "next_check_at", "checks"):
        conn.exec_driver_sql(f"ALTER TABLE player_aliases DROP COLUMN {column}")
    conn.exec_driver_sql("ALTER TABLE fetch_outcomes DROP COLUMN suggestion")


def _before_0010(conn: Connection) -> None:
    """Stats, sessions and their parts without ``platform`` (nor in their primary keys), the players and
    snapshots without their per-platform columns."""
    for column in ("pc_asked_at", "console_asked_at", "summary_digest"):
        conn.exec_driver_sql(f"ALTER TABLE players DROP COLUMN {column}")
    for column in ("season_pc", "season_console"):
        conn.exec_driver_sql(f"ALTER TABLE snapshots DROP COLUMN {column}")
    for name in ("stats", "sessions", "session_parts"):
        table = schema.metadata.tables[name]
        keys = [c.name for c in table.primary_key.columns if c.name != "platform"]
        columns = [c.name for c in table.columns if c.name != "platform"]
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"ALTER TABLE {name} DROP CONSTRAINT {name}_pkey")
            conn.exec_driver_sql(f"ALTER TABLE {name} DROP COLUMN platform")
            conn.exec_driver_sql(f"ALTER TABLE {name} ADD CONSTRAINT {name}_pkey PRIMARY KEY ({', '.join(keys)})")
            continue
        old = Table(
            f"{name}_old", MetaData(),
            *[Column(c.name, c.type, nullable=c.nullable, primary_key=c.name in keys) for c in table.columns
              if c.name != "platform"],
        )  # fmt: skip
        old.create(conn)
        listed = ", ".join(columns)
        conn.exec_driver_sql(f"INSERT INTO {old.name} ({listed}) SELECT {listed} FROM {name}")
        conn.exec_driver_sql(f"DROP TABLE {name}")
        conn.exec_driver_sql(f"ALTER TABLE {old.name} RENAME TO {name}")


def _before_0011(conn: Connection) -> None:
    conn.exec_driver_sql("DROP TABLE heroes")


BEFORE: dict[str, Callable[[Connection], None]] = {
    "0002_activity_indexes": _before_0002,
    "0003_stats_changes_only": _before_0003,
    "0004_stats_without_extra": _before_0004,
    "0005_snapshot_seasons": _before_0005,
    "0006_hero_stats": _before_0006,
    "0007_notifications": _before_0007,
    "0008_store_identity": _before_0008,
    "0009_identity_checks": _before_0009,
    "0010_platforms": _before_0010,
    "0011_heroes": _before_0011,
}


def _shape(engine: Engine) -> dict[str, tuple[list[str], list[str]]]:
    """Every table's column names and index names."""
    found = inspect(engine)
    return {
        table: (
            sorted(c["name"] for c in found.get_columns(table)),
            sorted(str(i["name"]) for i in found.get_indexes(table)),
        )
        for table in sorted(found.get_table_names())
    }


def test_every_migration_after_the_first_says_what_the_store_was_before_it() -> None:
    assert list(BEFORE) == [name for name, _ in MIGRATIONS[1:]]


@pytest.mark.parametrize("name", list(BEFORE))
def test_each_migration_brings_an_older_store_to_this_version_on_both_databases(store_url: str, name: str) -> None:
    with Store.open(store_url) as store:
        store.apply_results(src(ok_result("TeKrop-2217", "t0", 1.0), ok_result("KIRIKO-12460", "k0", 2.0)))
        store.watch_add("TeKrop-2217", 3.0)
        report = store.player_report("TeKrop-2217")
    engine = create_engine(store_url)
    try:
        current = _shape(engine)
        with engine.begin() as conn:  # the store as the release before this migration left it
            BEFORE[name](conn)
            conn.execute(text("DELETE FROM schema_migrations WHERE name = :name"), {"name": name})
        assert _shape(engine) != current
        assert migrate(engine) == [name]
        assert migrate(engine) == []
        assert _shape(engine) == current  # the same tables, columns and indexes as a store made new
    finally:
        engine.dispose()
    with Store.open(store_url) as again:
        assert again.player_report("TeKrop-2217") == report
        assert [e.player_id for e in again.watchlist()] == ["TeKrop-2217"]


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
