"""The local 3-node KRaft cluster (``owstream kafka start --brokers 3``), started once for this module:
replication factor 3 and min.insync.replicas 2 everywhere, a node killed with SIGKILL loses no acknowledged
message, the status shows it, the node comes back, and ``kafka stop`` from another process leaves no JVM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import confluent_kafka as ck
import pytest

from owstream.bus import Admin, Consumer, Producer, TopicNames
from owstream.config import Settings
from owstream.localkafka import LocalBroker, free_ports
from owstream.runtime.kafka import ensure_kafka
from owstream.runtime.status import kafka_status
from support.contracts import check_broker
from support.env import owstream_env
from support.homes import broker_home
from support.pipeline import wait_for

pytestmark = pytest.mark.kafka

NODES = 3


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, jar_home: Path) -> Iterator[Settings]:
    home = broker_home(tmp_path_factory.mktemp("cluster-home"), jar_home)
    base = free_ports(2 * NODES)
    settings = Settings(
        home=home, kafka_port=base, kafka_controller_port=base + NODES, kafka_brokers=NODES, kafka_partitions=3,
        topic_prefix="cluster", store_url=f"sqlite:///{home / 'unused.db'}",
    )  # fmt: skip
    broker = LocalBroker(settings)
    broker.start()
    try:
        ensure_kafka(settings, start_local=False)
        yield settings
        if LocalBroker(settings).state() is None:  # the last test stops it: the same data, started again
            LocalBroker(settings).start()
        check_broker(settings)
    finally:
        broker.stop()


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``owstream ARGS`` in another process that knows nothing of the cluster but its home and first port
    (OWSTREAM_KAFKA_BROKERS left at 1): the state file must tell it the rest."""
    env = owstream_env(settings.replace(kafka_brokers=1))
    return subprocess.run(
        [sys.executable, "-m", "owstream.cli", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def _consume_all(settings: Settings, group: str, topic: str, want: int) -> list[bytes]:
    consumer = Consumer(settings, group, [topic])
    got: list[bytes] = []
    try:

        def more() -> bool:
            batch = consumer.poll_batch(200, timeout=0.5)
            got.extend(r.value for r in batch)
            consumer.store(batch)
            return len(got) >= want

        wait_for(more, timeout=90)
    finally:
        consumer.close()
    return got


def test_three_nodes_replicate_every_topic_and_the_internal_ones(cluster: Settings) -> None:
    proc = _cli(cluster, "kafka", "status", "--json")
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    brokers = status["brokers"]
    assert [b["id"] for b in brokers] == [1, 2, 3]
    assert len({b["address"] for b in brokers}) == NODES
    assert all(b["alive"] and b["controller"] for b in brokers)
    assert len({b["pid"] for b in brokers}) == NODES
    assert status["broker"]["bootstrap"] == ",".join(b["address"] for b in brokers)
    names = TopicNames(cluster.topic_prefix)
    topics = {t["name"]: t for t in status["topics"]}
    assert set(topics) == set(names.all())
    for topic in topics.values():
        assert (topic["replication_factor"], topic["min_insync_replicas"]) == (3, 2), topic["name"]
        assert all(len(p["isr"]) == NODES for p in topic["partition_details"])
    assert status["under_replicated"] == []

    # A transaction and a group commit create the internal topics: replicated three times, min ISR 2 too.
    producer = ck.Producer({"bootstrap.servers": cluster.bootstrap_servers, "transactional.id": "cluster-test"})
    producer.init_transactions(60)
    producer.begin_transaction()
    producer.produce(names.fetch_requests, b"in a transaction", key="TxPlayer-1")
    producer.commit_transaction(60)
    assert _consume_all(cluster, names.group("reader"), names.fetch_requests, 1) == [b"in a transaction"]
    internal = ["__consumer_offsets", "__transaction_state"]
    with Admin(cluster) as admin:
        infos = {t.name: t for t in admin.topics(internal)}
        assert {name: t.replication_factor for name, t in infos.items()} == dict.fromkeys(internal, 3)
        assert admin.min_insync_replicas(internal) == dict.fromkeys(internal, 2)
    data_dirs = {p.resolve() for p in cluster.home.glob("kafka/cluster/node-*/data")}
    assert len(data_dirs) == NODES


def _dead_and_under_replicated(settings: Settings, node_id: int) -> dict[str, Any] | None:
    status = kafka_status(settings)
    dead = [b["id"] for b in status["brokers"] if not b["alive"]]
    return status if dead == [node_id] and status["under_replicated"] else None


def test_a_node_killed_with_sigkill_loses_no_acknowledged_message(cluster: Settings) -> None:
    names = TopicNames(cluster.topic_prefix)
    producer = Producer(cluster)  # idempotent, acks=all
    before = [f"before-{i}".encode() for i in range(60)]
    for i, value in enumerate(before):
        producer.send(names.fetch_results, value, key=f"Player{i}-1")
    producer.flush()
    state = LocalBroker(cluster).state()
    assert state is not None
    victim = state.nodes[1]
    os.kill(victim.pid, signal.SIGKILL)
    wait_for(lambda: not victim.running, timeout=10)

    after = [f"after-{i}".encode() for i in range(60)]
    for i, value in enumerate(after):
        producer.send(names.fetch_results, value, key=f"Player{i}-1")
    producer.flush(timeout=90)  # two of three in sync are enough for acks=all with min.insync.replicas 2
    got = _consume_all(cluster, names.group("survivor"), names.fetch_results, len(before) + len(after))
    assert sorted(got) == sorted(before + after)

    status = wait_for(lambda: _dead_and_under_replicated(cluster, victim.node_id), timeout=60)
    for partition in status["under_replicated"]:
        assert victim.node_id in partition["replicas"] and victim.node_id not in partition["isr"]
        assert len(partition["isr"]) >= 2
    human = _cli(cluster, "kafka", "status")
    assert human.returncode == 0, human.stderr
    assert "under-replicated" in human.stdout
    assert "brokers" in human.stdout

    restarted = LocalBroker(cluster).start()  # starts the dead node only
    assert [n.pid for n in restarted.nodes if n.node_id != victim.node_id] == [
        n.pid for n in state.nodes if n.node_id != victim.node_id
    ]
    recovered = wait_for(
        lambda: (s := kafka_status(cluster))["under_replicated"] == [] and all(b["alive"] for b in s["brokers"]),
        timeout=90,
    )
    assert recovered


def test_kafka_stop_from_another_process_stops_every_node(cluster: Settings) -> None:
    state = LocalBroker(cluster).state()
    assert state is not None and len(state.nodes) == NODES
    proc = _cli(cluster, "kafka", "stop")
    assert proc.returncode == 0, proc.stderr
    assert "stopped" in proc.stdout
    assert not [n.pid for n in state.nodes if n.running]
    assert LocalBroker(cluster).state() is None
