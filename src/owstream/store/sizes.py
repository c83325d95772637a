"""How much room the store takes, per table (its indexes included): for the population benchmark's store bytes
per tracked player and day, and for sizing a store (docs/scaling.md)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select, text

from owstream.store import schema


@dataclass(frozen=True)
class TableSize:
    rows: int
    bytes: int  # the table's pages and its indexes' (SQLite: dbstat; PostgreSQL: pg_total_relation_size)


def table_sizes(conn: Connection) -> dict[str, TableSize]:
    """Every table of the schema: its rows and its bytes on disk, indexes included."""
    if conn.dialect.name == "postgresql":
        query = text("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                     "WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace")  # fmt: skip
        sizes = {str(name): int(size) for name, size in conn.execute(query)}
    else:
        owners = conn.execute(text("SELECT name, tbl_name FROM sqlite_schema"))
        owner = {str(name): str(table) for name, table in owners}
        sizes = {}
        for name, size in conn.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")):
            table = str(owner.get(name, name))
            sizes[table] = sizes.get(table, 0) + int(size)
    return {
        name: TableSize(int(conn.execute(select(func.count()).select_from(table)).scalar_one()), sizes.get(name, 0))
        for name, table in schema.metadata.tables.items()
    }
