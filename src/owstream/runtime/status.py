"""What `owstream kafka status` and the dashboard's Pipeline page show about Kafka, as plain data (the
JSON of ``owstream kafka status --json``):

- ``broker``: where clients connect, whether it is the local Kafka, its version, the first node's pid,
  whether anything answers;
- ``brokers``: every node: id, address, whether it is a KRaft controller (known for the local Kafka, whose
  nodes are all broker+controller; ``null`` for another cluster, whose metadata does not say), whether it is
  alive (serving: its process runs and the cluster lists it as a broker), its pid when local;
- ``topics``: owstream's topics with partitions, offsets, replication factor, ``min.insync.replicas`` and
  per partition its leader, replicas and in-sync replicas (offsets ``null`` where the leader did not answer);
- ``under_replicated``: the partitions (owstream's and the internal ones: consumer offsets, transaction
  state) with fewer in-sync replicas than replicas;
- ``groups``: owstream's consumer groups with members and lag (partitions never committed count in full).
"""

from __future__ import annotations

from typing import Any

from owstream.bus import Admin, TopicInfo, TopicNames
from owstream.config import Settings
from owstream.localkafka import BrokerState, LocalBroker
from owstream.localkafka.jars import KAFKA_VERSION

INTERNAL_TOPICS = ("__consumer_offsets", "__transaction_state")


def kafka_status(settings: Settings) -> dict[str, Any]:
    """Brokers, topics (partitions, offsets, replicas) and consumer groups (members, lag) as plain data."""
    local = settings.uses_local_broker
    state = LocalBroker(settings).state() if local else None
    if state is not None:  # every node of the running local Kafka, whatever this process's kafka_brokers
        settings = settings.replace(kafka_bootstrap=state.bootstrap)
    broker: dict[str, Any] = {
        "bootstrap": settings.bootstrap_servers,
        "local": local,
        "version": KAFKA_VERSION if local else None,
        "pid": state.pid if state else None,
    }
    with Admin(settings, timeout=5) as admin:
        broker["reachable"] = admin.ping(timeout=3)
        if not broker["reachable"]:
            return {
                "broker": broker,
                "brokers": brokers_of(state, {}),
                "topics": [],
                "under_replicated": [],
                "groups": [],
            }
        registered = admin.brokers(timeout=3)
        names = TopicNames(settings.topic_prefix)
        infos = admin.topics([*names.all(), *INTERNAL_TOPICS], partial=True)
        own = [t for t in infos if t.name not in INTERNAL_TOPICS]
        min_isr = admin.min_insync_replicas([t.name for t in own])
        groups = [
            {
                "group": g.group_id,
                "state": g.state,
                "members": g.members,
                "lag": g.lag,
                "total_lag": g.total_lag,
            }
            for g in admin.groups(prefix=f"{settings.topic_prefix}.", partial=True)
        ]
    return {
        "broker": broker,
        "brokers": brokers_of(state, registered),
        "topics": [topic_entry(t, min_isr.get(t.name)) for t in own],
        "under_replicated": [
            {
                "topic": t.name,
                "partition": p.partition,
                "leader": p.leader,
                "replicas": list(p.replicas),
                "isr": list(p.isr),
            }
            for t in infos
            for p in t.partitions
            if p.under_replicated
        ],
        "groups": groups,
    }


def brokers_of(state: BrokerState | None, registered: dict[int, str]) -> list[dict[str, Any]]:
    """The nodes: those of the local Kafka's state file (alive when running and listed by the cluster),
    then any other broker the cluster lists."""
    out: list[dict[str, Any]] = []
    known: set[int] = set()
    for node in state.nodes if state else ():
        known.add(node.node_id)
        out.append(
            {
                "id": node.node_id,
                "address": node.address,
                "controller": True,
                "alive": node.running and node.node_id in registered,
                "pid": node.pid,
            }
        )
    for node_id, address in sorted(registered.items()):
        if node_id not in known:
            out.append({"id": node_id, "address": address, "controller": None, "alive": True, "pid": None})
    return out


def topic_entry(topic: TopicInfo, min_isr: int | None) -> dict[str, Any]:
    def offset(value: int) -> int | None:
        return value if value >= 0 else None

    return {
        "name": topic.name,
        "partitions": len(topic.partitions),
        "end_offsets": [offset(p.end_offset) for p in topic.partitions],
        "messages": topic.messages,
        "replication_factor": topic.replication_factor,
        "min_insync_replicas": min_isr,
        "under_replicated": sum(p.under_replicated for p in topic.partitions),
        "partition_details": [
            {
                "partition": p.partition,
                "leader": p.leader,
                "replicas": list(p.replicas),
                "isr": list(p.isr),
                "start_offset": offset(p.start_offset),
                "end_offset": offset(p.end_offset),
            }
            for p in topic.partitions
        ],
    }
