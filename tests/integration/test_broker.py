"""The local broker and the Kafka layer, on the real broker of the test session."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from owstream.bus import ALL_TOPICS, Admin, Consumer, Producer, TopicNames
from owstream.config import Settings
from owstream.errors import PortInUse
from owstream.localkafka import LocalBroker, free_port
from owstream.localkafka.jars import KAFKA_VERSION, ensure_jars, jars_dir
from owstream.runtime.kafka import ensure_kafka
from support.env import owstream_env

pytestmark = pytest.mark.kafka


def _consume(settings: Settings, group: str, topic: str, want: int, limit: float = 30) -> list:
    consumer = Consumer(settings, group, [topic])
    got: list = []
    deadline = time.monotonic() + limit
    try:
        while len(got) < want and time.monotonic() < deadline:
            batch = consumer.poll_batch(100, timeout=0.5)
            got.extend(batch)
            consumer.store(batch)
    finally:
        consumer.close()
    return got


def test_round_trip_keeps_keys_headers_and_per_key_order(kafka: Settings) -> None:
    names = TopicNames(kafka.topic_prefix)
    producer = Producer(kafka)
    for i in range(30):
        player = f"Player{i % 3}-1234"
        producer.send(names.fetch_requests, f"{i}".encode(), key=player, headers=[("n", str(i).encode())])
    producer.flush()

    got = _consume(kafka, names.group("t"), names.fetch_requests, 30)

    assert len(got) == 30
    by_key: dict[str, list[int]] = {}
    for rec in got:
        assert rec.headers["n"] == rec.value
        by_key.setdefault(rec.key, []).append(int(rec.value))
    assert sorted(by_key) == ["Player0-1234", "Player1-1234", "Player2-1234"]
    for key, values in by_key.items():
        assert values == sorted(values), f"{key} out of order"
        assert len({r.partition for r in got if r.key == key}) == 1


def test_committed_offsets_resume_where_the_group_left(kafka: Settings) -> None:
    names = TopicNames(kafka.topic_prefix)
    producer = Producer(kafka)
    for i in range(5):
        producer.send(names.fetch_requests, str(i).encode(), key="k")
    producer.flush()
    first = _consume(kafka, names.group("g"), names.fetch_requests, 5)
    producer.send(names.fetch_requests, b"5", key="k")
    producer.flush()
    second = _consume(kafka, names.group("g"), names.fetch_requests, 1)
    assert [r.value for r in first] == [b"0", b"1", b"2", b"3", b"4"]
    assert [r.value for r in second] == [b"5"]


def test_topics_are_created_once_with_their_declared_configs(kafka: Settings) -> None:
    names = TopicNames(kafka.topic_prefix)
    admin = Admin(kafka)
    try:
        assert admin.ensure_topics(names) == []  # the fixture already created them: nothing new
        infos = {t.name: t for t in admin.topics(names.all())}
    finally:
        admin.close()
    assert set(infos) == set(names.all())
    assert len(infos[names.fetch_requests].partitions) == kafka.kafka_partitions
    assert len(infos[names.dead_letter].partitions) == 1


def test_topic_creation_is_idempotent_for_a_fresh_prefix(kafka_settings: Settings) -> None:
    settings = kafka_settings.replace(topic_prefix=f"fresh{os.getpid()}")
    first = Admin(settings)
    try:
        created = first.ensure_topics(TopicNames(settings.topic_prefix))
        again = first.ensure_topics(TopicNames(settings.topic_prefix))
    finally:
        first.close()
    assert sorted(created) == sorted(TopicNames(settings.topic_prefix).all())
    assert again == []


def test_status_lists_topics_offsets_and_group_lag(kafka: Settings) -> None:
    names = TopicNames(kafka.topic_prefix)
    producer = Producer(kafka)
    for i in range(4):
        producer.send(names.fetch_results, b"x", key=f"p{i}")
    producer.flush()
    _consume(kafka, names.group("processor"), names.fetch_results, 2)  # reads at least 2, commits them
    env = owstream_env(kafka)
    proc = subprocess.run(
        [sys.executable, "-m", "owstream.cli", "kafka", "status", "--json"],
        capture_output=True, text=True, env=env, check=True, timeout=120,
    )  # fmt: skip
    status = json.loads(proc.stdout)
    assert status["broker"]["reachable"] is True
    assert status["broker"]["version"] == KAFKA_VERSION
    topics = {t["name"]: t for t in status["topics"]}
    assert set(topics) == set(names.all())
    assert topics[names.fetch_results]["messages"] == 4
    assert sum(topics[names.fetch_results]["end_offsets"]) == 4
    groups = {g["group"]: g for g in status["groups"]}
    group = groups[names.group("processor")]
    consumed_committed = 4 - group["total_lag"]
    assert 2 <= consumed_committed <= 4

    human = subprocess.run(
        [sys.executable, "-m", "owstream.cli", "kafka", "status"],
        capture_output=True, text=True, env=env, check=True, timeout=120,
    )  # fmt: skip
    for name in names.all():
        assert name in human.stdout


def running(pid: int) -> bool:
    """True while the process exists and is not a zombie (an orphaned JVM's exit status waits for
    PID 1, which in a container may never collect it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


@pytest.fixture
def own_broker_settings(tmp_path: Path, jar_home: Path) -> Settings:
    """A second, private broker home sharing the cached jars."""
    ensure_jars(jar_home)
    (tmp_path / "home" / "kafka" / "jars").mkdir(parents=True)
    jars_dir(tmp_path / "home").symlink_to(jars_dir(jar_home), target_is_directory=True)
    return Settings(
        home=tmp_path / "home",
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
    )


def test_cli_start_reuses_the_jar_cache_and_stop_leaves_no_process(own_broker_settings: Settings) -> None:
    env = owstream_env(own_broker_settings)
    jar_dir = jars_dir(own_broker_settings.home).resolve()
    before = {p.name: p.stat().st_mtime_ns for p in jar_dir.iterdir()}
    start = subprocess.run(
        [sys.executable, "-m", "owstream.cli", "kafka", "start"],
        capture_output=True, text=True, env=env, timeout=180, check=False,
    )  # fmt: skip
    assert start.returncode == 0, start.stderr
    assert "ready" in start.stdout
    state = LocalBroker(own_broker_settings).state()
    assert state is not None
    pid = state.pid
    # The cache was used as it was: no jar was fetched or rewritten.
    assert {p.name: p.stat().st_mtime_ns for p in jar_dir.iterdir()} == before

    status = subprocess.run(
        [sys.executable, "-m", "owstream.cli", "kafka", "status", "--json"],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    assert len(json.loads(status.stdout)["topics"]) == len(ALL_TOPICS)

    stop = subprocess.run(
        [sys.executable, "-m", "owstream.cli", "kafka", "stop"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert stop.returncode == 0, stop.stderr
    assert "stopped" in stop.stdout
    assert not running(pid)
    assert LocalBroker(own_broker_settings).state() is None


def test_taken_port_gives_a_one_line_error(own_broker_settings: Settings) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", own_broker_settings.kafka_port))
        blocker.listen()
        with pytest.raises(PortInUse, match=str(own_broker_settings.kafka_port)):
            LocalBroker(own_broker_settings).start()
        proc = subprocess.run(
            [sys.executable, "-m", "owstream.cli", "kafka", "start"],
            capture_output=True, text=True, env=owstream_env(own_broker_settings), timeout=120, check=False,
        )  # fmt: skip
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1
    assert "is taken" in lines[0]
    assert LocalBroker(own_broker_settings).state() is None


def test_ensure_kafka_reports_an_unreachable_cluster(make_settings) -> None:  # type: ignore[no-untyped-def]
    from owstream.errors import KafkaUnavailable

    settings = make_settings(kafka_bootstrap=f"127.0.0.1:{free_port()}")
    with pytest.raises(KafkaUnavailable, match="not reachable"):
        ensure_kafka(settings, timeout=2)
