"""Consumer-group lag counts the partitions a group has not committed anything on: 2,000 unread messages
are a lag of 2,000, not 0."""

from __future__ import annotations

import pytest

from owstream.bus import Admin, Consumer, Producer, Record, TopicNames
from owstream.config import Settings
from owstream.runtime.status import kafka_status
from support.pipeline import wait_for

pytestmark = pytest.mark.kafka

MESSAGES = 2_000


def _lag(settings: Settings, group: str) -> dict[str, int]:
    with Admin(settings) as admin:
        found = [g for g in admin.groups(prefix=group) if g.group_id == group]
    return found[0].lag if found else {}


def test_lag_counts_partitions_the_group_never_committed(kafka: Settings) -> None:
    names = TopicNames(kafka.topic_prefix)
    topic = names.fetch_results
    producer = Producer(kafka)
    for i in range(MESSAGES):
        producer.send(topic, b"unread", key=f"Player{i}-1")
    producer.flush()
    group = names.group("processor")
    consumer = Consumer(kafka, group, [topic])
    read: list[Record] = []
    try:
        # A member holds every partition and has read some messages, but stored no offset yet.
        wait_for(
            lambda: (
                read.extend(consumer.poll_batch(100, 0.2))
                or (read and len(consumer.assigned) == kafka.kafka_partitions)
            )
        )
        assert _lag(kafka, group) == {topic: MESSAGES}
        # It finishes the messages of one partition: only those stop counting.
        first = read[0].partition
        done = [r for r in read if r.partition == first]
        consumer.store(done)
        consumer.commit()
        assert _lag(kafka, group) == {topic: MESSAGES - len(done)}
    finally:
        consumer.close()
    # Without members the other partitions still count, in the status the CLI and the dashboard show.
    groups = {g["group"]: g for g in kafka_status(kafka)["groups"]}
    assert groups[group]["members"] == 0
    assert groups[group]["lag"] == {topic: MESSAGES - len(done)}
    assert groups[group]["total_lag"] == MESSAGES - len(done)
