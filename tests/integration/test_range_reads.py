"""Reading a whole topic (``read_all``: ``owstream replay``, the population benchmark's PostgreSQL replay) on the
session's broker: a caller slow with each batch, as a replay into a busy store is, still gets every message."""

from __future__ import annotations

import time
from typing import Any

import pytest

from owstream.bus import Producer, TopicNames, read_all, readers
from owstream.config import Settings
from support.pipeline import recorded_json
from support.results import encoded, result

pytestmark = pytest.mark.kafka

SENT = 30


def test_read_all_gives_every_message_to_a_caller_slower_than_the_idle_limit_with_each_batch(
    kafka: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = TopicNames(kafka.topic_prefix).fetch_results
    summary = recorded_json("players_KIRIKO-12460_summary.json")
    producer = Producer(kafka)
    for i in range(SENT):
        item = result(
            result_id=f"r{i}", request_ids=[f"q{i}"], player_id=f"Player{i % 3}-1000", fetched_at=1_000.0 + i,
            outcome="private", summary=summary,
        )  # fmt: skip
        producer.send(topic, encoded(item), key=item.player_id)
    producer.flush_or_raise(30)
    producer.close()
    arrived = readers._arrived
    # small batches (5 at most) so that there are several, and a short idle limit the caller's work outlasts
    monkeypatch.setattr(readers, "_arrived", lambda consumer, timeout, _most: arrived(consumer, timeout, 5))
    monkeypatch.setattr(readers, "IDLE", 0.2)
    read: list[Any] = []
    batches = 0
    for batch in read_all(kafka, topic):
        batches += 1
        read.extend(batch)
        time.sleep(3 * readers.IDLE)  # the caller's work on the batch (a store taking its time), not a wait on Kafka
    assert batches > 1
    assert sorted(str(r.key) for r in read) == sorted(f"Player{i % 3}-1000" for i in range(SENT))
