"""The store's size per table (Store.table_sizes, for the population benchmark and docs/scaling.md), on SQLite and
PostgreSQL: every table listed with its rows, and the bytes of a table (its indexes included) grow with its rows."""

from __future__ import annotations

from owstream.store import Store, schema
from support.results import ok_result, src


def test_every_table_is_listed_with_its_rows_and_its_bytes_grow_with_them(store: Store) -> None:
    empty = store.table_sizes()
    assert set(empty) == set(schema.metadata.tables)
    assert empty["raw_results"].rows == 0 and empty["snapshots"].rows == 0
    for index in range(40):
        store.apply_results(src(ok_result("TeKrop-2217", f"r{index}", 1_000.0 + index * 600)))
    full = store.table_sizes()
    assert full["raw_results"].rows == full["snapshots"].rows == full["fetch_outcomes"].rows == 40
    assert full["players"].rows == 1 and full["stats"].rows > 0
    # 40 results of ~13 KB (stored compressed) take room, their indexes too
    assert full["raw_results"].bytes > empty["raw_results"].bytes + 40 * 1000
    assert all(full[name].bytes >= empty[name].bytes for name in full)  # a table's first pages are there when empty
