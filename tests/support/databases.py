"""Databases for store tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, create_engine, func, select

from owstream.store import Store, schema


def fresh_database(server: str, name: str) -> str:
    """A new, empty database ``name`` on the PostgreSQL ``server``; its URL."""
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return f"{server}/{name}"


def table_dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every derived table's rows, sorted; snapshot ids replaced by result ids (they are autoincrement), so two
    stores built from the same results compare equal (replay, one batch or many, warm or cold caches)."""
    s = schema.snapshots.c
    with store.engine.connect() as conn:
        result_of = dict(conn.execute(select(s.id, s.result_id)).all())
        dump: dict[str, list[tuple[Any, ...]]] = {}
        for table in schema.DERIVED_TABLES:
            dump[table.name] = sorted(_dump_rows(conn, table, result_of), key=repr)
    return dump


def _dump_rows(conn: Any, table: Table, result_of: dict[int, str]) -> list[tuple[Any, ...]]:
    snapshot_columns = {"snapshot_id", "to_snapshot_id", "from_snapshot_id"}
    names = [c.name for c in table.columns if not (table is schema.snapshots and c.name == "id")]
    rows = []
    for row in conn.execute(select(*(table.c[n] for n in names))).all():
        rows.append(tuple(result_of.get(v, v) if n in snapshot_columns else v for n, v in zip(names, row, strict=True)))
    return rows


def count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.metadata.tables[table])).scalar_one())
