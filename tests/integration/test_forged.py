"""Whoever can write a topic is not trusted by its readers (on the real broker): a forged fetch-result answering
another client's request does not answer it, 1,000 invented request ids and a fetch time in the year 5138 (or
an hour ahead) are dead letters that leave the player fetchable, ``<script>`` in a summary is shown as text,
a picture that is not an http(s) URL is refused, and a 5 MB forged session event reaches no webhook."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from owstream.bus import Producer, TopicNames, read_all
from owstream.config import Settings, get_settings
from owstream.messages import codec, contracts
from owstream.messages.contracts import Contract
from owstream.messages.models import RankChanged, RankChangeData, SessionData, SessionFound
from owstream.services.fetcher import Fetcher
from owstream.services.notifier import Notifier
from owstream.services.processor import Processor
from owstream.services.requests import QUEUED, RequestTracker
from owstream.services.runner import in_background
from owstream.store import Store
from support.pipeline import wait_for
from support.replay_server import ReplayServer
from support.results import ok_result, replace
from support.webhooks import WebhookReceiver

pytestmark = pytest.mark.kafka

VICTIM, OTHER = "TeKrop-2217", "JohnV1-1190"


FORGED: list[tuple[str, bytes]] = []  # (topic, value) of what this test forged


@pytest.fixture
def settings(kafka: Settings, forged: set[tuple[str, int, int]]) -> Iterator[Settings]:
    """The ``kafka`` fixture's settings; what these tests forge on the topics only owstream writes breaks the
    contract on purpose, so its offsets are left out of the closing check (every other message, the dead
    letters, the events and the results owstream wrote, is checked against its schema)."""
    FORGED.clear()
    yield kafka
    forged.update(_forged_offsets(kafka))


def _forged_offsets(settings: Settings) -> set[tuple[str, int, int]]:
    """Where the messages this test forged landed (found by topic and value)."""
    wanted: dict[str, set[bytes]] = {}
    for topic, value in FORGED:
        wanted.setdefault(topic, set()).add(value)
    return {
        (r.topic, r.partition, r.offset)
        for topic, values in wanted.items()
        for batch in read_all(settings, topic)
        for r in batch
        if r.value in values
    }


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = Store.open(settings.resolved_store_url)
    yield store
    store.close()


def forge(settings: Settings, topic: str, value: bytes, key: str, contract: Contract[Any] | None = None) -> None:
    FORGED.append((topic, value))
    producer = Producer(settings)
    producer.send(topic, value, key=key, headers=contract.headers if contract else None)
    assert producer.flush(timeout=15) == 0
    producer.close()


def forge_result(settings: Settings, forged: Any) -> None:
    forge(settings, TopicNames(settings.topic_prefix).fetch_results, codec.encode(forged), forged.player_id)


def letters(settings: Settings) -> list[dict[str, Any]]:
    topic = TopicNames(settings.topic_prefix).dead_letter
    return [json.loads(r.value) for batch in read_all(settings, topic) for r in batch]


def events(settings: Settings) -> list[dict[str, Any]]:
    topic = TopicNames(settings.topic_prefix).player_events
    return [json.loads(r.value) for batch in read_all(settings, topic) for r in batch]


def test_a_forged_result_for_another_player_does_not_answer_a_request(settings: Settings, store: Store) -> None:
    tracker = RequestTracker(settings, VICTIM, source="test")  # no fetcher yet: the request waits
    try:
        forged = ok_result(OTHER, "forged-1", time.time(), request_ids=[tracker.status.request_id])
        forge_result(settings, forged)
        with in_background([Processor(settings, store)]) as died:
            wait_for(lambda: any(e["request_id"] == tracker.status.request_id for e in events(settings)), timeout=30)
            (stored,) = [e for e in events(settings) if e["type"] == "fetch_stored"]
            assert stored["player_id"] == OTHER  # the processor published it: the reader is who refuses it
            tracker.poll(timeout=1.0)
            assert tracker.status.state == QUEUED and not tracker.status.done
            with ReplayServer() as replay:  # now the real fetch answers it
                fetching = settings.replace(overfast_url=replay.url, rate_limit=100.0)
                with in_background([Fetcher(fetching)]) as fetcher_died:
                    state = tracker.wait(timeout=60)
                    assert fetcher_died() == []
            assert died() == []
        assert state.done and state.outcome == "ok"
        assert {e.player_id for e in state.events} == {VICTIM}
    finally:
        tracker.close()


def test_invented_request_ids_and_times_from_the_future_are_dead_letters(settings: Settings, store: Store) -> None:
    now = time.time()
    invented = ok_result(VICTIM, "many-ids", now, request_ids=[f"invented-{i}" for i in range(1001)])
    year_5138 = ok_result(VICTIM, "far-future", 1e11)
    hour_ahead = ok_result(VICTIM, "hour-ahead", now + 3600)
    for forged in (invented, year_5138, hour_ahead):
        forge_result(settings, forged)
    with in_background([Processor(settings, store)]) as died:
        wait_for(lambda: len(letters(settings)) == 3, timeout=30)
        assert died() == []
    why = {json.loads(letter["value"])["result_id"]: letter["error"] for letter in letters(settings)}
    assert why["many-ids"] == "not a FetchResult (request_ids: expected `array` of length <= 1000)"
    assert why["far-future"] == "not a FetchResult (fetched_at: expected `float` <= 4102444800.0)"
    assert (
        why["hour-ahead"].startswith("not a FetchResult (fetched_at: ")
        and "s ahead of this reader's clock" in why["hour-ahead"]
    )
    assert store.last_fetches(VICTIM).fetched_at is None  # still fetched when asked: nothing made it look fresh
    assert events(settings) == []  # not one fetch_stored for an invented id


def test_script_in_a_summary_is_text_and_a_picture_must_be_a_url(
    settings: Settings, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = "<script>alert(1)</script>"
    xss = ok_result(VICTIM, "xss", time.time())
    assert xss.summary is not None
    xss = replace(xss, summary=xss.summary | {"username": script, "title": f"<img src=x onerror=alert(2)>{script}"})
    local_file = replace(xss, result_id="local-avatar", summary=xss.summary | {"avatar": "/etc/passwd"})
    forge_result(settings, xss)
    forge_result(settings, local_file)
    with in_background([Processor(settings, store)]) as died:
        wait_for(lambda: letters(settings) and store.player_report(VICTIM), timeout=30)
        assert died() == []
    (letter,) = letters(settings)
    assert letter["error"].startswith("not a FetchResult (summary.avatar: expected `str` matching regex '^https?://")

    monkeypatch.setenv("OWSTREAM_STORE_URL", settings.resolved_store_url)
    monkeypatch.setenv("OWSTREAM_HOME", str(tmp_path))
    monkeypatch.setenv("OWSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # the page's Kafka part is not what is tested
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    try:

        def page() -> None:
            from owstream.dashboard.views import player

            player.render()

        at = AppTest.from_function(page, default_timeout=30)
        at.query_params["player"] = VICTIM
        at.run()
        assert not at.exception
        assert at.header[0].value == r"\<script\>alert\(1\)\</script\>"  # markdown shows it as it is: text
        caption = " ".join(c.value for c in at.caption)
        assert r" · \<img src=x onerror=alert\(2\)\>\<script\>alert\(1\)\</script\> · " in caption  # the title, as text
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        get_settings.cache_clear()


def test_a_5_mb_forged_session_event_reaches_no_webhook(settings: Settings, store: Store) -> None:
    names = TopicNames(settings.topic_prefix)
    with WebhookReceiver() as receiver:
        store.watch_add(VICTIM, time.time() - 60)
        assert store.notifications.set_target(VICTIM, receiver.url(), "json", time.time() - 60)
        session = SessionData(
            gamemode="competitive", is_reset=False, games=3, wins=2, losses=1, winrate=66.67, kda=2.0,
            time_played=1800, eliminations=30, assists=10, deaths=20, damage=9000, healing=100,
            heroes=[f"hero-{i:07d}" for i in range(400_000)],  # 5 MB of hero keys
        )  # fmt: skip
        huge = codec.encode(SessionFound(event_id="huge:session:0", player_id=VICTIM, at=time.time(), data=session))
        assert len(huge) > 5_000_000
        forge(settings, names.player_events, huge, VICTIM, contracts.PLAYER_EVENT)
        after = RankChanged(event_id="after:rank_change:0", player_id=VICTIM, at=time.time(),
                            data=RankChangeData(platform="pc", role="tank", to_division="gold", to_tier=3))  # fmt: skip
        forge(settings, names.player_events, codec.encode(after), VICTIM, contracts.PLAYER_EVENT)
        notifier = Notifier(settings.replace(notify_allow="127.0.0.1"), store, backoff_base=0.2)
        with in_background([notifier]) as died:
            wait_for(receiver.delivered, timeout=30)  # the event behind it: read past the huge one
            wait_for(lambda: notifier.read >= 2, timeout=30)
            assert died() == []
        assert [r.body["event_id"] for r in receiver.received] == ["after:rank_change:0"]
        assert store.notifications.statuses(["huge:session:0"]) == {}  # never a delivery
