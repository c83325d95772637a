"""Named migrations: an ordered list of functions, each applied once and recorded in ``schema_migrations``.

Add a migration by appending ``("000N_what_it_does", function)`` to :data:`MIGRATIONS`; never edit or reorder
one that has shipped. Each runs in its own transaction together with its ``schema_migrations`` row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, func, inspect, select, update

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
    ("0012_heroes", _heroes),
]


def applied(conn: Connection) -> set[str]:
    """Names of the migrations already applied."""
    return set(conn.execute(select(schema.schema_migrations.c.name)).scalars())


def migrate(engine: Engine) -> list[str]:
    """Apply every pending migration in order; return the names applied now."""
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        if not inspect(conn).has_table(schema.schema_migrations.name):
            schema.schema_migrations.create(conn)
    done: list[str] = []
    for name, migration in MIGRATIONS:
        with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            if name in applied(conn):
                continue
            log.info("applying store migration %s", name)
            migration(conn)
            # the time a migration ran is bookkeeping, not derived data: replay never rebuilds it
            conn.execute(schema.schema_migrations.insert().values(name=name, applied_at=time.time()))
            done.append(name)
    return done
