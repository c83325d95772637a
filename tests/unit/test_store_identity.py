"""The store knows itself: a file removed, replaced or emptied under it, or its identity row gone (a database
emptied or swapped, on PostgreSQL too), stops a write with StoreLost naming ``owstream replay`` before any
event is returned; read-only and full-disk errors are named as such."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import delete

from owstream.errors import StoreLost
from owstream.store import SourcedResult, Store, schema
from owstream.store.identity import diagnosis
from support.results import ok_result, src


def _one(n: int) -> list[SourcedResult]:
    return src(ok_result("TeKrop-2217", f"r{n}", 1000.0 + n))


def _sqlite(tmp_path: Path) -> tuple[Store, Path]:
    path = tmp_path / "store.db"
    store = Store.open(f"sqlite:///{path}")
    assert store.apply_results(_one(0))  # an open, written store
    return store, path


def test_a_store_file_removed_under_the_store_is_lost_before_anything_is_returned(tmp_path: Path) -> None:
    store, path = _sqlite(tmp_path)
    path.unlink()
    with pytest.raises(
        StoreLost, match=r"its file .*store\.db was removed; stop the services and run `owstream replay`"
    ):
        store.apply_results(_one(1))
    store.close()


def test_a_store_file_replaced_under_the_store_is_lost(tmp_path: Path) -> None:
    store, path = _sqlite(tmp_path)
    shutil.copy(path, tmp_path / "copy.db")
    (tmp_path / "copy.db").replace(path)  # the same content, another file
    with pytest.raises(StoreLost, match="was replaced by another file"):
        store.apply_results(_one(1))
    store.close()


def test_a_store_file_emptied_under_the_store_is_lost(tmp_path: Path) -> None:
    store, path = _sqlite(tmp_path)
    path.write_bytes(b"")
    with pytest.raises(StoreLost, match="was emptied"):
        store.apply_results(_one(1))
    store.close()


def test_a_store_whose_identity_row_is_gone_is_lost_and_writes_nothing(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(delete(schema.store_identity))
    with pytest.raises(StoreLost, match="its identity row is gone"):
        store.apply_results(_one(1))
    assert store.request_status("r1") is None


def test_a_store_reopened_on_the_same_file_is_itself(tmp_path: Path) -> None:
    store, path = _sqlite(tmp_path)
    again = Store.open(f"sqlite:///{path}")
    assert again.identity.store_id == store.identity.store_id
    assert again.apply_results(_one(1))
    store.close()
    again.close()


def test_read_only_and_full_disk_errors_are_named(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    read_only = diagnosis(path, "attempt to write a readonly database")
    assert read_only is not None and read_only.startswith("the store is read-only") and str(path) in read_only
    full = diagnosis(path, "database or disk is full")
    assert full is not None and full.startswith("the disk of the store is full")
    assert diagnosis(path, "database is locked") is None
