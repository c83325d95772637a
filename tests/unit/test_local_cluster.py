"""The shape of the local Kafka (localkafka.cluster) and its state file, without starting a JVM; the
process measurements of owstream.processes on this test's own processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from owstream.config import Settings
from owstream.errors import ConfigError
from owstream.localkafka import BrokerState, LocalBroker
from owstream.localkafka.cluster import format_options, layout, properties
from owstream.processes import descendants, pss_of, threads_of
from support.pipeline import wait_for


def test_one_node_keeps_its_layout_and_standalone_quorum(tmp_path: Path) -> None:
    [node] = layout(Settings(home=tmp_path, kafka_port=19092, kafka_controller_port=19093), 1)
    assert (node.node_id, node.port, node.controller_port) == (1, 19092, 19093)
    assert node.data_dir == tmp_path / "kafka" / "data"
    props = properties(node, [node])
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:19093"
    assert "controller.quorum.voters" not in props
    assert props["offsets.topic.replication.factor"] == props["transaction.state.log.min.isr"] == "1"
    assert format_options([node]) == ["--standalone"]


def test_three_nodes_get_their_own_ports_dirs_and_a_quorum_of_three(tmp_path: Path) -> None:
    nodes = layout(Settings(home=tmp_path, kafka_port=19092, kafka_controller_port=19093), 3)
    assert [(n.node_id, n.port) for n in nodes] == [(1, 19092), (2, 19093), (3, 19094)]
    # The default controller port overlaps the client ports: the controllers move after them.
    assert [n.controller_port for n in nodes] == [19095, 19096, 19097]
    assert len({n.data_dir for n in nodes}) == 3
    props = properties(nodes[1], nodes)
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19095,2@127.0.0.1:19096,3@127.0.0.1:19097"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19093,CONTROLLER://127.0.0.1:19096"
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor"):
        assert props[key] == "3"
    assert props["transaction.state.log.min.isr"] == props["min.insync.replicas"] == "2"
    assert format_options(nodes) == []
    apart = layout(Settings(home=tmp_path, kafka_port=20000, kafka_controller_port=30000), 3)
    assert [n.controller_port for n in apart] == [30000, 30001, 30002]


def test_a_cluster_size_out_of_range_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="1 to 5 nodes"):
        layout(Settings(home=tmp_path), 0)


def test_the_state_file_of_a_one_node_owstream_still_reads(tmp_path: Path) -> None:
    old = {"pid": os.getpid(), "port": 1234, "controller_port": 1235, "version": "4.1.2", "started_at": 5.0}
    state = BrokerState.from_json(json.dumps(old))
    assert (state.pid, state.port, state.bootstrap, state.started_at) == (os.getpid(), 1234, "127.0.0.1:1234", 5.0)
    settings = Settings(home=tmp_path, kafka_port=1234)
    (tmp_path / "kafka").mkdir()
    (tmp_path / "kafka" / "broker.json").write_text(json.dumps(old))
    assert LocalBroker(settings).state() == state  # this process "runs" it
    assert BrokerState.from_json(state.to_json()) == state


def test_pss_threads_and_descendants_of_real_processes() -> None:
    assert pss_of(os.getpid()) > 1024 * 1024
    assert threads_of(os.getpid()) >= 1
    code = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'import time; time.sleep(30)'])"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        grandchildren = wait_for(lambda: descendants(child.pid), timeout=20)
        assert len(grandchildren) == 1
        assert {child.pid, *grandchildren} <= set(descendants(os.getpid()))
        assert pss_of(child.pid) > 0 and pss_of(grandchildren[0]) > 0
    finally:
        for pid in descendants(child.pid):
            os.kill(pid, 9)
        child.kill()
        child.wait()
    assert pss_of(child.pid) == 0 and threads_of(child.pid) == 0
