"""The shape of the local Kafka: which nodes, on which ports and in which directories, each with which
``server.properties``, and how each is formatted. One node and a 3-node cluster are the same code with a
different ``brokers``; :mod:`owstream.localkafka.broker` runs the JVMs.

Node ``i`` (0-based, ``node.id`` i+1) listens for clients on ``kafka_port + i`` and for the KRaft quorum on
``kafka_controller_port + i``. When those two ranges overlap (the defaults 19092 and 19093 do for more than
one node), the controller ports move to just after the client ports: 19095-19097 for three nodes.

A single node keeps the layout it always had (``<home>/kafka/data``, ``server.properties``, ``broker.log``)
and a dynamic quorum of one (``--standalone``). A cluster lives under ``<home>/kafka/cluster/node-<id>/``
with a static quorum of every node (``controller.quorum.voters``: each node broker+controller), replication
factor ``min(3, nodes)`` for the internal topics and ``min.insync.replicas`` 2 from three nodes on: a
produce with acks=all survives one node down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from owstream.config import Settings
from owstream.errors import ConfigError

MAX_NODES = 5


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One node of the local Kafka: its id, ports and directory."""

    node_id: int
    port: int
    controller_port: int
    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def properties_path(self) -> Path:
        return self.root / "server.properties"

    @property
    def log_path(self) -> Path:
        return self.root / "broker.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def layout(settings: Settings, brokers: int) -> list[NodeSpec]:
    """The nodes of a local Kafka of ``brokers`` nodes for ``settings``' home and ports."""
    if not 1 <= brokers <= MAX_NODES:
        raise ConfigError(f"a local Kafka has 1 to {MAX_NODES} nodes (3 for a replicated cluster), not {brokers}")
    root = settings.home / "kafka"
    port = settings.kafka_port
    cport = settings.kafka_controller_port
    if brokers > 1 and _overlap(port, cport, brokers):
        cport = port + brokers
    if brokers == 1:
        return [NodeSpec(1, port, cport, root)]
    return [NodeSpec(i + 1, port + i, cport + i, root / "cluster" / f"node-{i + 1}") for i in range(brokers)]


def _overlap(port: int, cport: int, n: int) -> bool:
    return port < cport + n and cport < port + n


def replication(nodes: int) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for the internal topics of a cluster of ``nodes``."""
    factor = min(3, nodes)
    return factor, 2 if factor >= 3 else 1


def properties(node: NodeSpec, nodes: list[NodeSpec], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``server.properties`` of ``node`` in a local Kafka of ``nodes``; ``extra`` adds or replaces keys
    (the test broker with a SASL_SSL listener replaces the listener keys)."""
    factor, min_isr = replication(len(nodes))
    listeners = f"PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}"
    lines = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "listeners": listeners,
        "advertised.listeners": listeners,
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(node.data_dir),
        "num.partitions": "1",
        "default.replication.factor": str(factor),
        "min.insync.replicas": str(min_isr),
        "offsets.topic.replication.factor": str(factor),
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": str(factor),
        "transaction.state.log.min.isr": str(min_isr),
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": str(factor),
        "share.coordinator.state.topic.min.isr": str(min_isr),
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "message.max.bytes": str(8 * 1024 * 1024),
        **SMALL_MACHINE,
    }
    if len(nodes) == 1:
        lines["controller.quorum.bootstrap.servers"] = f"127.0.0.1:{node.controller_port}"
    else:
        lines["controller.quorum.voters"] = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in nodes)
        lines["unclean.leader.election.enable"] = "false"
    return lines | dict(extra or {})


def format_options(nodes: list[NodeSpec]) -> list[str]:
    """How the storage tool formats a node: a quorum of one bootstraps itself (``--standalone``); the
    static quorum of a cluster is in ``controller.quorum.voters`` already."""
    return ["--standalone"] if len(nodes) == 1 else []


def render(lines: Mapping[str, str]) -> str:
    return "# written by owstream on every start\n" + "".join(f"{k}={v}\n" for k, v in lines.items())


# Buffers and thread pools sized for a laptop, a CI runner or a small server running everything on one
# machine: the measured figures and the reason for each are in docs/broker.md.
SMALL_MACHINE: dict[str, str] = {
    # The log cleaner (compacting __consumer_offsets and __transaction_state) allocates this on the heap at
    # start: 128 MiB by default, two thirds of the heap. 8 MiB dedupes about 300,000 keys per pass.
    "log.cleaner.dedupe.buffer.size": str(8 * 1024 * 1024),
    "log.cleaner.threads": "1",
    "num.network.threads": "2",  # per listener (client and controller): 3 by default
    "num.io.threads": "2",  # request handlers of the broker and of the controller: 8 each by default
    "background.threads": "2",  # retention, segment deletion, flushes: 10 by default
    "group.coordinator.threads": "1",  # consumer offsets and group state: 4 by default
    "num.recovery.threads.per.data.dir": "1",  # log loading at start and shutdown only: 2 by default
    "num.replica.fetchers": "1",
}
