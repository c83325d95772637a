"""Named migrations: an ordered list of functions, each applied once and recorded in ``schema_migrations``.

Add a migration by appending ``("000N_what_it_does", function)`` to :data:`MIGRATIONS`; never edit or reorder
one that has shipped. Each runs in its own transaction together with its ``schema_migrations`` row.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, Connection, DefaultClause, Engine, Table, func, inspect, select, update

from owstream.store import schema
from owstream.store.engine import WRITE

log = logging.getLogger(__name__)

Migration = Callable[[Connection], None]


def _initial(conn: Connection) -> None:
    tables = [t for t in schema.metadata.sorted_tables if t is not schema.schema_migrations]
    schema.metadata.create_all(conn, tables=tables)


def _activity_indexes(conn: Connection) -> None:
    """Indexes for "what happened in the last hour" (a new store got them from 0001 already)."""
    for index in (schema.ix_fetch_outcomes_at, schema.ix_raw_results_fetched):
        index.create(conn, checkfirst=True)


def _stats_changes_only(conn: Connection) -> None:
    """Stats rows only for blocks that changed, plus a ``removed`` row for a block that vanished.

    Rows written before stay valid (a row equal to the previous one is only redundant); a block that
    vanished before this migration is not marked. ``owstream replay`` rebuilds the compact form.
    """
    removed = schema.stats.c.removed
    if removed.name in {c["name"] for c in inspect(conn).get_columns(schema.stats.name)}:
        return  # a new store: 0001 created the current table
    kind = removed.type.compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {schema.stats.name} ADD COLUMN removed {kind} NOT NULL DEFAULT FALSE")


def _stats_without_extra(conn: Connection) -> None:
    """Unknown fields are no longer copied into the stats rows: they stay in the raw result (topic and
    ``raw_results``), where a version that knows them reads them by ``owstream replay``."""
    if "extra" in {c["name"] for c in inspect(conn).get_columns(schema.stats.name)}:
        conn.exec_driver_sql(f"ALTER TABLE {schema.stats.name} DROP COLUMN extra")


def _snapshot_seasons(conn: Connection) -> None:
    """``snapshots.season``: the snapshot's own competitive season (the highest OverFast reports across its
    platforms). A store made before it is filled from the ranks it kept: the highest season of the snapshot's
    ranked roles. What the ranks cannot tell stays null -- snapshots without a ranked role (a season with no
    rank yet, an unchanged or private snapshot) and a platform whose season had no ranked role (the value can
    then be lower than OverFast's) -- and reads as "no season reported" (see owstream.domain.seasons);
    ``owstream replay`` fills every snapshot from the raw results.
    """
    s, r = schema.snapshots, schema.ranks
    if s.c.season.name in {c["name"] for c in inspect(conn).get_columns(s.name)}:
        return  # a new store: 0001 created the current table
    kind = s.c.season.type.compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {s.name} ADD COLUMN season {kind}")
    highest = select(func.max(r.c.season)).where(r.c.snapshot_id == s.c.id, r.c.season > 0).scalar_subquery()
    conn.execute(update(s).values(season=highest))


def _hero_stats(conn: Connection) -> None:
    """The meta's history: OverFast's /heroes/stats answers and their rows per hero (a new store got them
    from 0001 already)."""
    for table in (schema.hero_stats, schema.hero_stat_rows):
        table.create(conn, checkfirst=True)


def _notifications(conn: Connection) -> None:
    """Alerts: the watchlist's webhook per player, the notifier's deliveries by event id; and for the
    fetcher's fixes: an index for "when was this player last asked for" (decided from the store, in every
    process) and the player aliases (one history across a BattleTag change, by Blizzard id)."""
    have = {c["name"] for c in inspect(conn).get_columns(schema.watchlist.name)}
    for column in (schema.watchlist.c.notify_url, schema.watchlist.c.notify_format, schema.watchlist.c.notify_since):
        if column.name not in have:
            kind = column.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {schema.watchlist.name} ADD COLUMN {column.name} {kind}")
    schema.deliveries.create(conn, checkfirst=True)
    schema.player_aliases.create(conn, checkfirst=True)
    schema.ix_fetch_outcomes_player.create(conn, checkfirst=True)


def _store_identity(conn: Connection) -> None:
    """Who this store is: one row with a random id, which a running store checks is still there (a file
    removed, replaced or emptied under it). A store created now got the table from 0001 already."""
    schema.store_identity.create(conn, checkfirst=True)
    if conn.execute(select(func.count()).select_from(schema.store_identity)).scalar_one() == 0:
        conn.execute(schema.store_identity.insert().values(store_id=uuid.uuid4().hex, created_at=time.time()))


def _add_columns(conn: Connection, table: Table, columns: list[Column[Any]]) -> list[str]:
    """ADD COLUMN each of ``columns`` the table lacks (a new store got them from 0001); their names. A NOT NULL
    column needs its ``server_default`` (a literal SQL text), which fills the rows already there."""
    have = {c["name"] for c in inspect(conn).get_columns(table.name)}
    added = []
    for column in columns:
        if column.name in have:
            continue
        kind = column.type.compile(dialect=conn.dialect)
        default = column.server_default
        extra = ""
        if isinstance(default, DefaultClause):
            value = str(default.arg)
            extra = f" DEFAULT {value}" if value.isdigit() else f" DEFAULT '{value}'"
        if not column.nullable:
            extra += " NOT NULL"
        conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}{extra}")
        added.append(column.name)
    return added


def _identity_checks(conn: Connection) -> None:
    """How each player alias was proven (owstream.domain.identity), and the BattleTag offered for one not found.

    Aliases learned before were taken from OverFast's search without a proof (a private ``Player-137712`` was
    given the only public "Player"'s Blizzard id): they become ``legacy``, are no longer used to ask OverFast
    or to join histories, and are checked again on the player's next fetch."""
    a = schema.player_aliases
    added = _add_columns(conn, a, [a.c.verdict, a.c.why, a.c.checked_at, a.c.next_check_at, a.c.checks])
    if "verdict" in added:
        why = "learned from OverFast's search before identities were proven: checked again on the next fetch"
        conn.execute(update(a).values(verdict="legacy", why=why, next_check_at=0.0, checks=0))
    _add_columns(conn, schema.fetch_outcomes, [schema.fetch_outcomes.c.suggestion])


_PER_PLATFORM = ("stats", "sessions", "session_parts")


def _platforms(conn: Connection) -> None:
    """Stats, sessions and their parts per platform (``platform``: pc, console, or ``both`` for every row before:
    fetched without OverFast's platform filter, pc and console added together), the platform in their primary
    keys; each snapshot's own season per platform, filled from its ranks where they tell (``owstream replay``
    fills every snapshot from the raw results); and when each platform was last asked, per player."""
    s, r = schema.snapshots, schema.ranks
    p = schema.players.c
    _add_columns(conn, schema.players, [p.pc_asked_at, p.console_asked_at, p.summary_digest])
    for platform in ("pc", "console"):
        column = s.c[f"season_{platform}"]
        if _add_columns(conn, s, [column]):
            highest = select(func.max(r.c.season)).where(
                r.c.snapshot_id == s.c.id, r.c.platform == platform, r.c.season > 0
            )
            conn.execute(update(s).values({column.name: highest.scalar_subquery()}))
    for name in _PER_PLATFORM:
        table = schema.metadata.tables[name]
        if "platform" in {c["name"] for c in inspect(conn).get_columns(name)}:
            continue  # a new store: 0001 created the current table
        if conn.dialect.name == "sqlite":
            _rebuilt(conn, table)
        else:
            _add_columns(conn, table, [table.c.platform])
            keys = ", ".join(c.name for c in table.primary_key.columns)
            conn.exec_driver_sql(f"ALTER TABLE {name} DROP CONSTRAINT {name}_pkey")
            conn.exec_driver_sql(f"ALTER TABLE {name} ADD CONSTRAINT {name}_pkey PRIMARY KEY ({keys})")


def _rebuilt(conn: Connection, table: Table) -> None:
    """SQLite cannot change a primary key: the table is made again and its rows copied (platform ``both``)."""
    old = f"{table.name}_before_0010"
    for index in inspect(conn).get_indexes(table.name):
        conn.exec_driver_sql(f"DROP INDEX {index['name']}")
    conn.exec_driver_sql(f"ALTER TABLE {table.name} RENAME TO {old}")
    table.create(conn)
    columns = ", ".join(c.name for c in table.columns if c.name != "platform")
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({columns}, platform) SELECT {columns}, 'both' FROM {old}")
    conn.exec_driver_sql(f"DROP TABLE {old}")


def _heroes(conn: Connection) -> None:
    """OverFast's hero catalogue: names, roles and portraits by key (a new store got it from 0001 already)."""
    schema.heroes.create(conn, checkfirst=True)


MIGRATIONS: list[tuple[str, Migration]] = [
    ("0001_initial", _initial),
    ("0002_activity_indexes", _activity_indexes),
    ("0003_stats_changes_only", _stats_changes_only),
    ("0004_stats_without_extra", _stats_without_extra),
    ("0005_snapshot_seasons", _snapshot_seasons),
    ("0006_hero_stats", _hero_stats),
    ("0007_notifications", _notifications),
    ("0008_store_identity", _store_identity),
    ("0009_identity_checks", _identity_checks),
    ("0010_platforms", _platforms),
    ("0011_heroes", _heroes),
]


def applied(conn: Connection) -> set[str]:
    """Names of the migrations already applied."""
    return set(conn.execute(select(schema.schema_migrations.c.name)).scalars())


# Any fixed number: the key of the PostgreSQL advisory lock the migrations of every process take turns on.
MIGRATION_LOCK = 0x6F77_7374_7265_616D  # "owstream"


def _take_turns(conn: Connection) -> None:
    """Processes that open a new store at once (a Compose stack's services starting together) migrate it one
    after the other, each seeing what the one before committed: SQLite's write lock (BEGIN IMMEDIATE) does it
    there; on PostgreSQL a lock held until this transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))


def migrate(engine: Engine) -> list[str]:
    """Apply every pending migration in order; return the names applied now."""
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        _take_turns(conn)
        if not inspect(conn).has_table(schema.schema_migrations.name):
            schema.schema_migrations.create(conn)
    done: list[str] = []
    for name, migration in MIGRATIONS:
        with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            _take_turns(conn)
            if name in applied(conn):
                continue
            log.info("applying store migration %s", name)
            migration(conn)
            # the time a migration ran is bookkeeping, not derived data: replay never rebuilds it
            conn.execute(schema.schema_migrations.insert().values(name=name, applied_at=time.time()))
            done.append(name)
    return done
