"""The store's change marker (what the dashboard keeps its cached reads by), on SQLite and PostgreSQL: equal
while only reads happen, different after any commit, whichever connection or process made it."""

from __future__ import annotations

import time

from owstream.store import SourcedResult, Store
from support.results import ok_result, stored


def test_reads_leave_the_marker_as_it_was(store: Store) -> None:
    first = store.change_marker()
    store.watchlist()
    store.players()
    store.watch_view()
    assert store.change_marker() == first


def test_a_write_by_another_store_on_the_same_database_changes_it(store: Store, store_url: str) -> None:
    first = store.change_marker()
    with Store.open(store_url) as other:  # another process's connection, as the processor's
        other.watch_add("TeKrop-2217", time.time())
    second = store.change_marker()
    assert second != first
    with Store.open(store_url) as other:
        other.apply_results([SourcedResult(stored(ok_result("KIRIKO-12460", "r-1", 1_700_000_000.0)), "t", 0, 0)])
    assert store.change_marker() not in (first, second)


def test_a_write_by_the_same_store_changes_it(store: Store) -> None:
    first = store.change_marker()
    store.watch_add("TeKrop-2217", time.time())
    second = store.change_marker()
    assert second != first
    store.watch_remove("TeKrop-2217")
    assert store.change_marker() not in (first, second)
