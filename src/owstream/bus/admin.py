"""Cluster administration: readiness, topics as code, and the status the CLI and dashboard show."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from owstream.bus.client import client_config
from owstream.bus.topics import ALL_TOPICS, TopicNames, TopicSpec
from owstream.config import Settings
from owstream.errors import BusError, KafkaUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    partition: int
    start_offset: int
    end_offset: int


@dataclass(frozen=True, slots=True)
class TopicInfo:
    name: str
    partitions: list[PartitionInfo]

    @property
    def messages(self) -> int:
        return sum(p.end_offset - p.start_offset for p in self.partitions)


@dataclass(frozen=True, slots=True)
class GroupInfo:
    group_id: str
    state: str
    members: int
    lag: dict[str, int] = field(default_factory=dict)  # topic -> total lag

    @property
    def total_lag(self) -> int:
        return sum(self.lag.values())


class Admin:
    """Cluster administration; a context manager (``with Admin(settings) as admin:``)."""

    def __init__(self, settings: Settings, *, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._admin = AdminClient(client_config(settings))
        self._reader: Any = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def ping(self, timeout: float = 2.0) -> bool:
        try:
            self._admin.list_topics(timeout=timeout)
        except ck.KafkaException:
            return False
        return True

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping(timeout=min(2.0, max(0.1, deadline - time.monotonic()))):
                return
        raise KafkaUnavailable(
            f"Kafka is not reachable at {self.settings.bootstrap_servers} "
            "(start it with `owstream kafka start` or set OWSTREAM_KAFKA_BOOTSTRAP)"
        )

    def ensure_topics(self, names: TopicNames, specs: tuple[TopicSpec, ...] = ALL_TOPICS) -> list[str]:
        """Create the topics that do not exist yet; return the names created. Safe to call any time."""
        existing = self._topic_names()
        replicas = self.replication_factor()
        new = [
            NewTopic(
                names.of(spec),
                num_partitions=self.settings.kafka_partitions if spec.keyed else 1,
                replication_factor=replicas,
                config=dict(spec.config) | ({"min.insync.replicas": "2"} if replicas >= 3 else {}),
            )
            for spec in specs
            if names.of(spec) not in existing
        ]
        created = []
        for name, future in self._admin.create_topics(new, request_timeout=self.timeout).items() if new else []:
            try:
                future.result()
                created.append(name)
            except ck.KafkaException as exc:
                if exc.args[0].code() != ck.KafkaError.TOPIC_ALREADY_EXISTS:
                    raise BusError(f"cannot create topic {name}: {exc.args[0].str()}") from exc
        if created:
            self._wait_for_leaders(created)
            log.info("created topics %s", ", ".join(created))
        return created

    def _wait_for_leaders(self, topics: list[str]) -> None:
        """A new partition answers NOT_LEADER until its broker has applied the metadata: wait for that,
        so that producers and status readers never see the window."""
        meta = self._admin.list_topics(timeout=self.timeout).topics
        self._watermarks([ck.TopicPartition(t, p) for t in topics if t in meta for p in meta[t].partitions])

    def replication_factor(self) -> int:
        """The setting, or (0) as many brokers as the cluster has, at most 3."""
        if self.settings.kafka_replication_factor > 0:
            return self.settings.kafka_replication_factor
        try:
            brokers = len(self._admin.list_topics(timeout=self.timeout).brokers)
        except ck.KafkaException as exc:
            raise KafkaUnavailable(f"Kafka is not reachable at {self.settings.bootstrap_servers}") from exc
        return max(1, min(3, brokers))

    def _topic_names(self) -> set[str]:
        try:
            return set(self._admin.list_topics(timeout=self.timeout).topics)
        except ck.KafkaException as exc:
            raise KafkaUnavailable(f"Kafka is not reachable at {self.settings.bootstrap_servers}") from exc

    def topics(self, names: list[str]) -> list[TopicInfo]:
        """Partitions with start and end offsets of the named topics (those that exist)."""
        meta = self._admin.list_topics(timeout=self.timeout)
        tps = [
            ck.TopicPartition(name, p)
            for name in names
            if name in meta.topics
            for p in sorted(meta.topics[name].partitions)
        ]
        marks = self._watermarks(tps)
        out = []
        for name in names:
            if name not in meta.topics:
                continue
            parts = [PartitionInfo(p, *marks.get((name, p), (0, 0))) for p in sorted(meta.topics[name].partitions)]
            out.append(TopicInfo(name, parts))
        return out

    def _watermarks(self, tps: list[Any]) -> dict[tuple[str, int], tuple[int, int]]:
        """(start, end) offset of each partition, asked of its leader (which refreshes stale metadata,
        unlike the admin ListOffsets right after a topic was created)."""
        if not tps:
            return {}
        if self._reader is None:
            self._reader = ck.Consumer(client_config(self.settings) | {"group.id": "owstream-admin"})
        deadline = time.monotonic() + self.timeout
        marks: dict[tuple[str, int], tuple[int, int]] = {}
        for tp in tps:
            while (tp.topic, tp.partition) not in marks:
                try:
                    marks[(tp.topic, tp.partition)] = self._reader.get_watermark_offsets(tp, timeout=self.timeout)
                except ck.KafkaException as exc:
                    if time.monotonic() > deadline:
                        raise BusError(f"cannot read offsets of {tp.topic}: {exc.args[0].str()}") from exc
                    time.sleep(0.05)  # leadership is being applied: ask again
        return marks

    def groups(self, prefix: str = "") -> list[GroupInfo]:
        """Consumer groups (whose id starts with ``prefix``) with members and lag per topic."""
        listing = self._admin.list_consumer_groups(request_timeout=self.timeout).result()
        ids = sorted(g.group_id for g in listing.valid if g.group_id.startswith(prefix))
        if not ids:
            return []
        described = self._admin.describe_consumer_groups(ids, request_timeout=self.timeout)
        infos = []
        for gid in ids:
            desc = described[gid].result()
            lag = self._group_lag(gid)
            state = getattr(desc.state, "name", str(desc.state)).lower()
            infos.append(GroupInfo(gid, state, len(desc.members), lag))
        return infos

    def group_members(self, group_id: str) -> int:
        try:
            desc = self._admin.describe_consumer_groups([group_id], request_timeout=self.timeout)[group_id].result()
        except ck.KafkaException:
            return 0
        return len(desc.members)

    def committed(self, group_id: str) -> dict[tuple[str, int], int]:
        """The offsets ``group_id`` committed, per (topic, partition) it committed any for."""
        req = [ck.ConsumerGroupTopicPartitions(group_id)]
        try:
            listing = self._admin.list_consumer_group_offsets(req, request_timeout=self.timeout)[group_id].result()
        except ck.KafkaException as exc:
            raise BusError(f"cannot read the offsets of group {group_id}: {exc.args[0].str()}") from exc
        return {(tp.topic, tp.partition): tp.offset for tp in listing.topic_partitions if tp.offset >= 0}

    def _group_lag(self, group_id: str) -> dict[str, int]:
        committed = self.committed(group_id)
        marks = self._watermarks([ck.TopicPartition(t, p) for t, p in committed])
        lag: dict[str, int] = {}
        for (topic, partition), offset in committed.items():
            end = marks.get((topic, partition), (0, 0))[1]
            lag[topic] = lag.get(topic, 0) + max(0, end - offset)
        return lag

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
