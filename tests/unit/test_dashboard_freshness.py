"""The dashboard keeps its cached reads until the store changes (owstream.dashboard.freshness): a page run
again reads nothing when nothing was stored, and shows at once what another process stored in between."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from owstream.config import get_settings
from owstream.dashboard import data, freshness
from owstream.store import SourcedResult, Store
from support.results import ok_result, stored


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("OWSTREAM_STORE_URL", url)
    monkeypatch.setenv("OWSTREAM_HOME", str(tmp_path))
    monkeypatch.setenv("OWSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # nothing listens there
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    with Store.open(url) as store:
        store.apply_results([SourcedResult(stored(ok_result("TeKrop-2217", "r-1", 1_700_000_000.0)), "t", 0, 0)])
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


def watchlist_page() -> AppTest:
    def script() -> None:
        from owstream.dashboard import freshness
        from owstream.dashboard.views import watchlist

        freshness.check()  # as app.py does before every page
        watchlist.render()

    return AppTest.from_function(script, default_timeout=15)


def shown(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info") for e in getattr(at, kind))


def test_a_page_shows_what_another_process_stored_since_its_last_run(url: str) -> None:
    at = watchlist_page().run()
    assert "Nobody is tracked yet" in shown(at)
    with Store.open(url) as other:  # the scheduler's or the CLI's write, not the dashboard's
        other.watch_add("TeKrop-2217", time.time())
    at.run()
    assert "Nobody is tracked yet" not in shown(at), "the page showed its cached read after the store changed"
    assert "refreshed" in shown(at)


def test_the_cached_reads_are_kept_while_nothing_is_stored(url: str) -> None:
    data.players()  # a cached read
    freshness.check()
    assert freshness.check() is False
    before = data.players()
    with Store.open(url) as other:
        other.watch_add("TeKrop-2217", time.time())
    assert data.players() == before, "a read within its time to live comes from the cache"
    assert freshness.check() is True
    assert data.players() != before, "after the store changed the read is made again"
