"""The notifier on the real broker, with the fetcher and processor against the simulator, sending to a local
webhook receiver: a rank change reaches it once, in Discord's shape (how soon is not a test's to time); a
fetch that finds nothing new sends nothing; an event published again is not sent again; a 429 is waited out;
a dead webhook is given up after the bound (and says so on the Pipeline page) without holding up others;
poison on player-events is dead-lettered once each and read past."""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from owstream.bus import ALL_TOPICS, Admin, Producer, TopicNames, read_all
from owstream.bus.topics import DEAD_LETTER
from owstream.config import Settings, get_settings
from owstream.messages import codec, contracts
from owstream.messages.models import DeadLetter, RankChanged, RankChangeData
from owstream.services.fetcher import Fetcher
from owstream.services.notifier import Notifier
from owstream.services.processor import Processor
from owstream.services.runner import in_background
from owstream.simulator import Simulator, SimulatorServer
from owstream.store import Store
from support.contracts import check_topics
from support.pipeline import request_and_wait, wait_for
from support.webhooks import Answer, WebhookReceiver

pytestmark = pytest.mark.kafka

PLAYER = "Zephyr-32544"  # ranked on pc and console in the seed-7 simulator
OTHER = "Nova-12889"


@pytest.fixture
def sim() -> Iterator[tuple[Simulator, str]]:
    simulator = Simulator(seed=7)
    with SimulatorServer(simulator) as server:
        yield simulator, server.url


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def settings(kafka: Settings, sim: tuple[Simulator, str]) -> Settings:
    # The receivers run on 127.0.0.1, where webhooks may not go unless the allow-list names it.
    return kafka.replace(
        overfast_url=sim[1], rate_limit=100.0, notify_timeout=1.0, notify_max_attempts=3, notify_allow="127.0.0.1"
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = Store.open(settings.resolved_store_url)
    yield store
    store.close()


def track(store: Store, player_id: str, url: str, fmt: str | None = None) -> None:
    store.watch_add(player_id, time.time())
    assert store.notifications.set_target(player_id, url, fmt, time.time())


def move_rank(sim: Simulator, player_id: str) -> None:
    """Refresh the player until a rank moves (the simulator moves one in ~40 % of competitive refreshes)."""
    player = sim.player(player_id)
    assert player is not None
    before = copy.deepcopy(player.ranks)
    for _ in range(200):
        sim.advance(player_id)
        if player.ranks != before:
            return
    raise AssertionError("no rank moved in 200 refreshes")


def events_end(settings: Settings) -> int:
    """The events on player-events (as a read_committed reader counts them: transaction markers take offsets
    too, so end minus start offsets would count more)."""
    return sum(len(batch) for batch in read_all(settings, TopicNames(settings.topic_prefix).player_events))


def of_type(received: list[Any], kind: str) -> list[Any]:
    return [r for r in received if r.body["embeds"][0]["footer"]["text"].endswith(kind)]


def test_a_rank_change_reaches_the_webhook_once_in_discords_shape(
    settings: Settings, store: Store, sim: tuple[Simulator, str], receiver: WebhookReceiver
) -> None:
    simulator, _ = sim
    path = "/api/webhooks/1234/secret-token-abc"
    track(store, PLAYER, receiver.url(path))
    notifier = Notifier(settings, backoff_base=0.2)
    with in_background([Fetcher(settings), Processor(settings), notifier]) as died:
        assert request_and_wait(settings, PLAYER).outcome == "ok"  # the first snapshot: nothing to compare
        move_rank(simulator, PLAYER)
        assert request_and_wait(settings, PLAYER, force=True).outcome == "ok"
        wait_for(lambda: of_type(receiver.delivered(path), "rank_change"), timeout=30)
        first = of_type(receiver.delivered(path), "rank_change")[0]
        body = first.body  # Discord's execute-webhook JSON
        assert set(body) >= {"content", "embeds"} and isinstance(body["content"], str)
        assert PLAYER in body["content"] and "rank" in body["content"] and "→" in body["content"]
        assert body["allowed_mentions"] == {"parse": []}
        (embed,) = body["embeds"]
        assert embed["title"].startswith(f"{PLAYER}: ") and isinstance(embed["color"], int)
        assert {f["name"] for f in embed["fields"]} == {"Role", "Before", "Now"}
        assert first.headers["Content-Type"] == "application/json"
        wait_for(lambda: of_type(receiver.delivered(path), "session"), timeout=30)
        session = of_type(receiver.delivered(path), "session")[0].body
        assert "W -" in session["content"] and "heroes:" in session["content"]

        # a fetch that finds nothing new sends nothing
        settle(settings, store, notifier)
        count = len(receiver.received)
        assert count == len(sent_event_ids(store))  # one POST per alert
        assert request_and_wait(settings, PLAYER, force=True).outcome == "ok"
        settle(settings, store, notifier)
        assert len(receiver.received) == count

        # the same event published again (a processor that crashed after publishing) is not sent again;
        # a new event behind it on the same partition shows the notifier has read past it
        rank_id = next(eid for eid in sent_event_ids(store) if ":rank_change:" in eid)
        publish_rank_change(settings, PLAYER, rank_id)
        publish_rank_change(settings, PLAYER, "sentinel:rank_change:0")
        wait_for(lambda: len(of_type(receiver.delivered(path), "rank_change")) >= 2, timeout=30)
        end = events_end(settings)
        wait_for(lambda: notifier.read >= end, timeout=30)
        rank_alerts = of_type(receiver.delivered(path), "rank_change")
        assert len(rank_alerts) == 2  # the real one and the sentinel, never the duplicate
        assert "gold" in rank_alerts[1].body["content"].lower()
        assert died() == []


def settle(settings: Settings, store: Store, notifier: Notifier) -> None:
    """Wait until the notifier has read every event there is and no delivery is left pending."""
    end = events_end(settings)
    wait_for(lambda: notifier.read >= end and not store.notifications.unfinished_and_failed(), timeout=30)


def sent_event_ids(store: Store) -> list[str]:
    from sqlalchemy import select

    from owstream.store import schema

    d = schema.deliveries.c
    with store.engine.connect() as conn:
        return list(conn.execute(select(d.event_id).where(d.status == "sent")).scalars())


def rank_change(player_id: str, event_id: str) -> RankChanged:
    return RankChanged(
        event_id=event_id,
        player_id=player_id,
        at=time.time(),
        data=RankChangeData(platform="pc", role="support", from_division="gold", from_tier=2, to_division="gold",
                            to_tier=1, season=14),
    )  # fmt: skip


def publish_rank_change(settings: Settings, player_id: str, event_id: str) -> None:
    event = rank_change(player_id, event_id)
    producer = Producer(settings)
    producer.send(
        TopicNames(settings.topic_prefix).player_events,
        codec.encode(event),
        key=player_id,
        headers=contracts.PLAYER_EVENT.headers,
    )
    producer.flush()
    producer.close()


def test_a_429_is_waited_out_and_the_alert_sent_once(
    settings: Settings, store: Store, receiver: WebhookReceiver
) -> None:
    path = "/hooks/limited-token"
    receiver.script(path, [Answer(429, {"Retry-After": "1"}, b'{"message": "You are being rate limited."}')])
    track(store, PLAYER, receiver.url(path))
    notifier = Notifier(settings, backoff_base=0.2)
    with in_background([notifier]) as died:
        publish_rank_change(settings, PLAYER, "r429:rank_change:0")
        wait_for(lambda: receiver.delivered(path), timeout=30)
        end = events_end(settings)
        wait_for(lambda: notifier.read >= end, timeout=30)
        assert died() == []
    tries = receiver.attempts(path)
    assert [t.status for t in tries] == [429, 204]
    assert tries[1].at - tries[0].at >= 0.9  # Retry-After: 1 was honoured
    assert store.notifications.statuses(["r429:rank_change:0"]) == {"r429:rank_change:0": "sent"}


def test_a_dead_webhook_is_given_up_after_the_bound_and_others_still_get_theirs(
    settings: Settings, store: Store, receiver: WebhookReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead, alive = "/dead/secret-dead-token", "/alive/secret-alive-token"
    receiver.always(dead, Answer(200, delay=5.0))  # answers long after the notifier's 1 s timeout
    track(store, PLAYER, receiver.url(dead))
    track(store, OTHER, receiver.url(alive), "json")
    notifier = Notifier(settings.replace(notify_max_wait=0.5), backoff_base=0.2)
    with in_background([notifier]) as died:
        publish_rank_change(settings, PLAYER, "dead:rank_change:0")
        publish_rank_change(settings, OTHER, "alive:rank_change:0")
        wait_for(lambda: receiver.delivered(alive), timeout=30)  # not held up by the dead one
        generic = receiver.delivered(alive)[0].body
        assert generic["type"] == "rank_change" and generic["event"]["data"]["to_tier"] == 1
        wait_for(lambda: store.notifications.statuses(["dead:rank_change:0"]).get("dead:rank_change:0") == "given_up",
                 timeout=60)  # fmt: skip
        assert died() == []
    assert len(receiver.attempts(dead)) == settings.notify_max_attempts
    (given_up,) = store.notifications.unfinished_and_failed()
    assert given_up.status == "given_up" and given_up.attempts == 3
    assert given_up.last_error is not None and "gave up after 3 attempts" in given_up.last_error
    assert "secret-dead-token" not in given_up.last_error

    # the Pipeline page says so
    monkeypatch.setenv("OWSTREAM_STORE_URL", settings.resolved_store_url)
    monkeypatch.setenv("OWSTREAM_HOME", str(tmp_path))
    monkeypatch.setenv("OWSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # the page's Kafka part is not what is tested
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    try:

        def script() -> None:
            from owstream.dashboard.views import pipeline

            pipeline.render()

        at = AppTest.from_function(script, default_timeout=30).run()
        assert not at.exception
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Alerts given up"] == "1" and metrics["Alerts sent"] == "1"
        table = at.table[-1].value
        row = table[table["Player"] == PLAYER].iloc[0]
        assert row["Status"] == "given up" and "gave up after 3 attempts" in row["Why (last error)"]
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        get_settings.cache_clear()


def test_webhooks_inside_are_refused_and_redirects_not_followed(
    settings: Settings, store: Store, receiver: WebhookReceiver
) -> None:
    """A URL stored before the check (or a name that now resolves inside) is refused when sent; a public
    receiver redirecting to an internal port is not followed. Neither is marked sent; nothing inside is hit."""
    inside, redirecting = "/api/webhooks/9/inside-token", "/hook/redirecting-token"
    with WebhookReceiver() as internal:
        receiver.always(redirecting, Answer(302, {"Location": internal.url("/internal/admin?delete=all")}))
        track(store, PLAYER, receiver.url(inside))  # written to the store directly: the send still checks
        track(store, OTHER, receiver.url(redirecting))
        # no allow-list for the first: 127.0.0.1 is inside; the second is let through to be redirected
        strict = Notifier(settings.replace(notify_allow=""), store, backoff_base=0.2)
        allowing = Notifier(settings, store, backoff_base=0.2)
        publish_rank_change(settings, PLAYER, "inside:rank_change:0")
        with in_background([strict]) as died:
            wait_for(lambda: store.notifications.statuses(["inside:rank_change:0"]).get("inside:rank_change:0")
                     == "given_up", timeout=30)  # fmt: skip
            assert died() == []
        assert receiver.attempts(inside) == []
        publish_rank_change(settings, OTHER, "redirect:rank_change:0")
        with in_background([allowing]) as died:
            wait_for(lambda: store.notifications.statuses(["redirect:rank_change:0"]).get("redirect:rank_change:0")
                     == "given_up", timeout=30)  # fmt: skip
            assert died() == []
        assert internal.received == [] and len(receiver.attempts(redirecting)) == 1
    why = {d.event_id: d.last_error for d in store.notifications.unfinished_and_failed()}
    assert why["inside:rank_change:0"] == (
        "refused: 127.0.0.1 is a loopback address; webhooks reach only public addresses "
        "(OWSTREAM_NOTIFY_ALLOW lists receivers inside)"
    )
    assert why["redirect:rank_change:0"] == "HTTP 302 Found: a redirect, not followed"


def test_poison_between_two_rank_changes_gets_one_dead_letter_each_and_is_committed_past(
    settings: Settings, store: Store, receiver: WebhookReceiver, forged: set[tuple[str, int, int]]
) -> None:
    names = TopicNames(settings.topic_prefix)
    path = "/hooks/poisoned-token"
    track(store, PLAYER, receiver.url(path), "json")
    headers = contracts.PLAYER_EVENT.headers
    padded = json.loads(codec.encode(rank_change(PLAYER, "huge:rank_change:0")))
    padded["padding"] = "x" * 70_000  # an event past the 64 KiB an event may have
    poison = {  # value -> (headers, what the dead letter must say)
        b"\xff\xfenot JSON at all": (None, "not a PlayerEvent (not JSON"),
        b'{"type": "rank_change", "event_id": "shape:rank_change:0", "player_id": 7}': (
            headers,
            "player_id: expected `str`, got `int`",
        ),
        json.dumps(padded).encode(): (headers, "more than the 65,536 an event may have"),
        codec.encode(rank_change(PLAYER, "future:rank_change:0")): (
            [("content-type", b"application/json"), ("schema", b"player-event/99")],
            "schema 'player-event/99' is not one this version reads",
        ),
    }
    publish_rank_change(settings, PLAYER, "before:rank_change:0")
    producer = Producer(settings)
    for value, (poison_headers, _) in poison.items():
        producer.send(names.player_events, value, key=PLAYER, headers=poison_headers)
    assert producer.flush(timeout=15) == 0
    producer.close()
    publish_rank_change(settings, PLAYER, "after:rank_change:0")
    records = [r for batch in read_all(settings, names.player_events) for r in batch]
    source = {r.value: (r.topic, r.partition, r.offset) for r in records}
    forged.update(source[value] for value in poison)  # written to break the contract: the closing check skips them
    (partition,) = {r.partition for r in records}  # one key: one partition, the poison between the two events
    last = max(r.offset for r in records)

    notifier = Notifier(settings, store, backoff_base=0.2)
    with in_background([notifier]) as died:
        wait_for(lambda: len(receiver.delivered(path)) >= 2, timeout=30)
        # read past the poison: its dead letters were acknowledged
        wait_for(lambda: committed(settings, partition) > last, timeout=30, interval=0.5)
        assert died() == []
    assert sorted(r.body["event_id"] for r in receiver.delivered(path)) == [
        "after:rank_change:0",
        "before:rank_change:0",
    ]
    letters = [codec.decode_as(r.value, DeadLetter) for batch in read_all(settings, names.dead_letter) for r in batch]
    by_source = {(letter.source_topic, letter.source_partition, letter.source_offset): letter for letter in letters}
    assert len(letters) == len(poison) == notifier.dead  # one each, no more
    for value, (_, why) in poison.items():
        letter = by_source[source[value]]
        assert letter.service == "notifier" and why in letter.error, letter.error
        assert letter.key == PLAYER and letter.value_bytes == len(value) and not letter.truncated
    assert by_source[source[b"\xff\xfenot JSON at all"]].value_base64 is not None  # not UTF-8: kept in base64


def committed(settings: Settings, partition: int) -> int:
    """The notifier group's committed offset on ``partition`` of player-events (-1: none yet)."""
    names = TopicNames(settings.topic_prefix)
    with Admin(settings) as admin:
        return admin.committed(names.group("notifier")).get((names.player_events, partition), -1)


def test_a_poison_offset_waits_for_its_dead_letter_sent_again_once_kafka_takes_it(
    settings: Settings, store: Store, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    """No dead-letter topic yet (the broker creates none by itself): Kafka gives up on the letter, the event
    behind the poison is sent but the group's offset stays at the poison; once the topic exists the letter is
    sent again, acknowledged once, and the offset moves past."""
    late = settings.replace(topic_prefix=f"{settings.topic_prefix}-late")
    names = TopicNames(late.topic_prefix)
    with Admin(late) as admin:
        admin.ensure_topics(names, tuple(spec for spec in ALL_TOPICS if spec is not DEAD_LETTER))
    path = "/hooks/late-token"
    track(store, PLAYER, receiver.url(path), "json")
    publish_rank_change(late, PLAYER, "before:rank_change:0")
    producer = Producer(late)
    producer.send(names.player_events, b"not an event", key=PLAYER)
    assert producer.flush(timeout=15) == 0
    producer.close()
    publish_rank_change(late, PLAYER, "after:rank_change:0")
    records = [r for batch in read_all(late, names.player_events) for r in batch]
    (poison,) = [r for r in records if r.value == b"not an event"]
    last = max(r.offset for r in records)

    notifier = Notifier(late, store, backoff_base=0.2)
    with caplog.at_level(logging.WARNING, logger="owstream.services.notifier"), in_background([notifier]) as died:
        wait_for(lambda: len(receiver.delivered(path)) == 2, timeout=30)  # read past the poison...
        wait_for(lambda: "was not delivered" in caplog.text, timeout=120)  # ...whose letter Kafka gave up on
        assert committed(late, poison.partition) == poison.offset  # ...so the group stays at it
        assert notifier.dead == 0
        with Admin(late) as admin:
            admin.ensure_topics(names)
        wait_for(lambda: notifier.dead == 1 and committed(late, poison.partition) > last, timeout=60, interval=0.5)
        assert died() == []
    (letter,) = [codec.decode_as(r.value, DeadLetter) for batch in read_all(late, names.dead_letter) for r in batch]
    assert (letter.source_topic, letter.source_partition, letter.source_offset, letter.service) == (
        poison.topic, poison.partition, poison.offset, "notifier",
    )  # fmt: skip
    assert len(receiver.delivered(path)) == 2
    check_topics(late, forged={(poison.topic, poison.partition, poison.offset)})
