"""A visitor of a public dashboard on a real broker: told how many requests are ahead, refused when the queue
is too long, and their Refresh never forces a fetch past OverFast's cache (the Player page under AppTest,
the fetch-requests topic and the fetcher's consumer group real)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from owstream.bus import Admin, Producer, TopicNames, read_tail
from owstream.config import Settings, get_settings
from owstream.messages import codec, contracts
from owstream.messages.models import FetchRequest, new_id
from owstream.services.fetcher import Fetcher
from owstream.services.processor import Processor
from owstream.services.runner import in_background
from owstream.store import Store
from support.pipeline import request_and_wait, wait_for
from support.replay_server import ReplayServer

pytestmark = pytest.mark.kafka


@pytest.fixture
def visitor(kafka: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A dashboard served on a public address (every session a visitor), on the test's broker and store."""
    with ReplayServer() as replay:
        settings = kafka.replace(overfast_url=replay.url, rate_limit=50.0)
        for name, value in settings.as_env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("OWSTREAM_DASHBOARD_ADDRESS", "0.0.0.0")
        monkeypatch.setenv("OWSTREAM_FETCH_BACKLOG_MAX", "3")
        get_settings.cache_clear()
        st.cache_data.clear()
        st.cache_resource.clear()
        yield settings
        st.cache_data.clear()
        st.cache_resource.clear()
        get_settings.cache_clear()


def player_page(player: str | None = None) -> AppTest:
    def script() -> None:
        from owstream.dashboard.views import player

        player.render()

    at = AppTest.from_function(script, default_timeout=60)
    if player:
        at.query_params["player"] = player
    return at.run()


def queued(settings: Settings, count: int) -> None:
    """``count`` requests on fetch-requests that no fetcher reads."""
    producer = Producer(settings)
    topic = TopicNames(settings.topic_prefix).fetch_requests
    for i in range(count):
        request = FetchRequest(player_id=f"Queued-{1000 + i}", request_id=new_id(), requested_at=time.time(),
                               source="test")  # fmt: skip
        producer.send(topic, codec.encode(request), key=request.player_id, headers=contracts.FETCH_REQUEST.headers)
    producer.flush(15)
    producer.close()


def fetcher_lag(settings: Settings) -> int:
    names = TopicNames(settings.topic_prefix)
    with Admin(settings) as admin:
        groups = admin.groups(prefix=names.group("fetcher"))
    return sum(g.lag.get(names.fetch_requests, 0) for g in groups)


def test_a_visitor_is_told_the_queue_and_refused_past_its_bound(visitor: Settings) -> None:
    store = Store.open(visitor.resolved_store_url)
    with in_background([Fetcher(visitor), Processor(visitor, store)]):
        assert request_and_wait(visitor, "TeKrop-2217").outcome == "ok"  # the fetcher's group exists
    queued(visitor, 5)  # the fetcher is stopped: five requests wait
    wait_for(lambda: fetcher_lag(visitor) == 5, timeout=30)

    at = player_page()
    at.text_input(key="player_box").input("KIRIKO#12460")
    at.button[0].click().run()
    assert not at.exception
    busy = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "Busy: 5 requests ahead in the queue" in busy
    names = TopicNames(visitor.topic_prefix)
    asked = [codec.decode_request(r.value).player_id for r in read_tail(visitor, names.fetch_requests, 20)]
    assert "KIRIKO-12460" not in asked  # refused: nothing queued
    store.close()


def test_a_visitors_refresh_honours_overfasts_cache(visitor: Settings) -> None:
    store = Store.open(visitor.resolved_store_url)
    with in_background([Fetcher(visitor), Processor(visitor, store)]):
        assert request_and_wait(visitor, "TeKrop-2217").outcome == "ok"
        at = player_page("TeKrop-2217")
        at.button(key="refresh").click().run()
        assert not at.exception
        names = TopicNames(visitor.topic_prefix)
        requests = [codec.decode_request(r.value) for r in read_tail(visitor, names.fetch_requests, 10)]
        refresh = [r for r in requests if r.source == "dashboard"]
        assert len(refresh) == 1 and refresh[0].force is False  # a visitor never skips the cache
    store.close()
