"""The local 3-node KRaft cluster (``owstream kafka start --brokers 3``), started once for this module:
replication factor 3 and min.insync.replicas 2 everywhere, the leader of a chosen partition killed with
SIGKILL while a producer's messages to it are in flight loses no acknowledged message and another replica
leads it, the status shows the dead node, it comes back, and ``kafka stop`` from another process leaves no
JVM."""

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

from owstream.bus import Admin, Consumer, TopicNames
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


def _leader(settings: Settings, topic: str, partition: int) -> int:
    with Admin(settings) as admin:
        (info,) = admin.topics([topic], partial=True)
    return next(p.leader for p in info.partitions if p.partition == partition)


def test_the_leader_of_a_partition_killed_mid_produce_loses_no_acknowledged_message(cluster: Settings) -> None:
    names = TopicNames(cluster.topic_prefix)
    topic, chosen = names.fetch_results, 1
    state = LocalBroker(cluster).state()
    assert state is not None
    leader = _leader(cluster, topic, chosen)
    victim = next(n for n in state.nodes if n.node_id == leader)
    producer = ck.Producer({"bootstrap.servers": cluster.bootstrap_servers, "enable.idempotence": True, "acks": "all"})
    acked: list[bytes] = []
    failed: list[str] = []

    def delivered(err: Any, msg: Any) -> None:
        if err is not None:
            failed.append(str(err))
        else:
            acked.append(msg.value())

    before = [f"before-{i}".encode() for i in range(200)]
    for i, value in enumerate(before):
        producer.produce(topic, value, key=f"Player{i}-1", partition=chosen, on_delivery=delivered)
    in_flight = len(producer)  # queued or sent, not yet acknowledged by the leader and its in-sync followers
    os.kill(victim.pid, signal.SIGKILL)
    assert in_flight > 0, "the leader died with nothing in flight"
    wait_for(lambda: not victim.running, timeout=10)
    after = [f"after-{i}".encode() for i in range(60)]
    for i, value in enumerate(after):
        producer.produce(topic, value, key=f"Player{i}-1", partition=chosen, on_delivery=delivered)
    assert producer.flush(90) == 0  # two of three in sync are enough for acks=all with min.insync.replicas 2
    assert failed == [] and sorted(acked) == sorted(before + after)
    new_leader = wait_for(lambda: (n := _leader(cluster, topic, chosen)) not in (leader, -1) and n, timeout=60)
    assert new_leader != leader  # a follower in sync took the partition over
    got = _consume_all(cluster, names.group("survivor"), topic, len(before) + len(after))
    assert sorted(got) == sorted(before + after)  # every acknowledged message, once

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
