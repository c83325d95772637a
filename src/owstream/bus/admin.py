"""Cluster administration: readiness, topics as code, and the status the CLI and dashboard show."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.admin._resource import ResourceType
from confluent_kafka.cimpl import NewTopic

from owstream.bus.client import client_config
from owstream.bus.topics import ALL_TOPICS, TopicNames, TopicSpec
from owstream.config import Settings
from owstream.errors import BusError, KafkaRefused, KafkaUnavailable

log = logging.getLogger(__name__)

# Errors after which retrying with the same settings cannot succeed: wrong credentials, a failed TLS handshake.
_REFUSALS = frozenset({ck.KafkaError._AUTHENTICATION, ck.KafkaError._SSL})


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    """A partition's offsets (-1: its leader could not be asked) and replicas (broker ids)."""

    partition: int
    start_offset: int
    end_offset: int
    leader: int = -1
    replicas: tuple[int, ...] = ()
    isr: tuple[int, ...] = ()

    @property
    def under_replicated(self) -> bool:
        """Fewer replicas in sync than assigned: a broker is down or behind."""
        return len(self.isr) < len(self.replicas)


@dataclass(frozen=True, slots=True)
class TopicInfo:
    name: str
    partitions: list[PartitionInfo]

    @property
    def messages(self) -> int:
        return sum(p.end_offset - p.start_offset for p in self.partitions if p.end_offset >= 0)

    @property
    def replication_factor(self) -> int:
        return max((len(p.replicas) for p in self.partitions), default=0)


@dataclass(frozen=True, slots=True)
class GroupInfo:
    group_id: str
    state: str
    members: int
    lag: dict[str, int] = field(default_factory=dict)  # topic -> total lag

    @property
    def total_lag(self) -> int:
        return sum(self.lag.values())


class _FailureLog:
    """librdkafka's log for an admin client: passed on to the bus logger, the last connection failure kept
    (librdkafka tells why a connection failed only there, not to the error callback)."""

    def __init__(self) -> None:
        self.target = logging.getLogger("owstream.bus.librdkafka")
        self.last_failure: str | None = None

    def log(self, level: int, msg: str, *args: Any) -> None:
        if len(args) == 3 and args[0] == "FAIL":
            self.last_failure = str(args[2]).split("]: ", 1)[-1][:300]
        self.target.log(level, msg, *args)


class Admin:
    """Cluster administration; a context manager (``with Admin(settings) as admin:``)."""

    def __init__(self, settings: Settings, *, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._refused: str | None = None
        self._log = _FailureLog()
        self._admin = AdminClient(client_config(settings) | {"error_cb": self._on_error, "logger": self._log})
        self._reader: Any = None

    def _on_error(self, err: Any) -> None:
        """librdkafka's error callback (served by ``poll``): remember a refusal that retrying cannot cure."""
        if err.code() in _REFUSALS:
            self._refused = err.str()

    def _check_refused(self) -> None:
        self._admin.poll(0)
        if self._refused is not None:
            raise KafkaRefused(
                f"Kafka at {self.settings.bootstrap_servers} refused this client: {self._refused} (check "
                "OWSTREAM_KAFKA_SECURITY_PROTOCOL, _SASL_MECHANISM, _SASL_USERNAME, _SASL_PASSWORD, _SSL_CA_LOCATION)"
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def ping(self, timeout: float = 2.0) -> bool:
        """Whether the cluster answers; KafkaRefused when it refuses the credentials or the TLS handshake."""
        try:
            self._admin.list_topics(timeout=timeout)
        except ck.KafkaException:
            self._check_refused()
            return False
        return True

    def brokers(self, timeout: float = 2.0) -> dict[int, str]:
        """The brokers the cluster's metadata lists (registered and not fenced): id -> host:port; {} when
        no broker answers."""
        try:
            meta = self._admin.list_topics(timeout=timeout)
        except ck.KafkaException:
            self._check_refused()
            return {}
        return {b.id: f"{b.host}:{b.port}" for b in meta.brokers.values()}

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping(timeout=min(2.0, max(0.1, deadline - time.monotonic()))):
                return
        self._admin.poll(0)
        last = self._log.last_failure
        why = f" (last: {last})" if last else ""
        if last and "APIVERSION_QUERY" in last:  # a listener that closes on a plain ApiVersions request
            why += f": is OWSTREAM_KAFKA_SECURITY_PROTOCOL={self.settings.kafka_security_protocol} what it expects?"
        raise KafkaUnavailable(
            f"Kafka is not reachable at {self.settings.bootstrap_servers}{why} "
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

    def topics(self, names: list[str], *, partial: bool = False) -> list[TopicInfo]:
        """Partitions with start and end offsets, leader, replicas and in-sync replicas of the named topics
        (those that exist). ``partial``: a partition whose leader does not answer within a second gets
        offsets -1 (and so do the others of that leader) instead of a BusError after ``timeout``: what a
        status of a cluster with a broker down needs."""
        meta = self._admin.list_topics(timeout=self.timeout)
        parts = {
            (name, p): meta.topics[name].partitions[p]
            for name in names
            if name in meta.topics
            for p in sorted(meta.topics[name].partitions)
        }
        tps = [ck.TopicPartition(t, p) for t, p in parts]
        marks = (
            self._partial_watermarks(tps, {k: m.leader for k, m in parts.items()}) if partial else self._watermarks(tps)
        )
        out = []
        for name in names:
            if name not in meta.topics:
                continue
            infos = []
            for p in sorted(meta.topics[name].partitions):
                m = parts[(name, p)]
                start, end = marks.get((name, p), (-1, -1))
                infos.append(PartitionInfo(p, start, end, m.leader, tuple(m.replicas), tuple(m.isrs)))
            out.append(TopicInfo(name, infos))
        return out

    def min_insync_replicas(self, names: list[str]) -> dict[str, int]:
        """Each named topic's ``min.insync.replicas`` (the topic's own or the broker default)."""
        if not names:
            return {}
        resources = [ConfigResource(ResourceType.TOPIC, name) for name in names]
        out = {}
        for resource, future in self._admin.describe_configs(resources, request_timeout=self.timeout).items():
            try:
                entries = future.result()
            except ck.KafkaException:
                continue  # deleted meanwhile
            entry = entries.get("min.insync.replicas")
            if entry is not None and entry.value is not None:
                out[resource.name] = int(entry.value)
        return out

    def _reader_client(self) -> Any:
        if self._reader is None:
            self._reader = ck.Consumer(client_config(self.settings) | {"group.id": "owstream-admin"})
        return self._reader

    def _watermarks(self, tps: list[Any]) -> dict[tuple[str, int], tuple[int, int]]:
        """(start, end) offset of each partition, asked of its leader (which refreshes stale metadata,
        unlike the admin ListOffsets right after a topic was created)."""
        if not tps:
            return {}
        reader = self._reader_client()
        deadline = time.monotonic() + self.timeout
        marks: dict[tuple[str, int], tuple[int, int]] = {}
        for tp in tps:
            while (tp.topic, tp.partition) not in marks:
                try:
                    marks[(tp.topic, tp.partition)] = reader.get_watermark_offsets(tp, timeout=self.timeout)
                except ck.KafkaException as exc:
                    if time.monotonic() > deadline:
                        raise BusError(f"cannot read offsets of {tp.topic}: {exc.args[0].str()}") from exc
                    time.sleep(0.05)  # leadership is being applied: ask again
        return marks

    def _partial_watermarks(
        self, tps: list[Any], leaders: dict[tuple[str, int], int]
    ) -> dict[tuple[str, int], tuple[int, int]]:
        """Like ``_watermarks``, leaving out the partitions of a leader that did not answer in a second."""
        if not tps:
            return {}
        reader = self._reader_client()
        silent: set[int] = set()
        marks: dict[tuple[str, int], tuple[int, int]] = {}
        for tp in tps:
            leader = leaders.get((tp.topic, tp.partition), -1)
            if leader < 0 or leader in silent:
                continue
            try:
                marks[(tp.topic, tp.partition)] = reader.get_watermark_offsets(tp, timeout=1.0)
            except ck.KafkaException:
                silent.add(leader)
        return marks

    def groups(self, prefix: str = "", *, partial: bool = False) -> list[GroupInfo]:
        """Consumer groups (whose id starts with ``prefix``) with members and lag per topic; ``partial`` as
        for :meth:`topics` (a partition whose leader does not answer is left out of the lag)."""
        listing = self._admin.list_consumer_groups(request_timeout=self.timeout).result()
        ids = sorted(g.group_id for g in listing.valid if g.group_id.startswith(prefix))
        if not ids:
            return []
        described = self._admin.describe_consumer_groups(ids, request_timeout=self.timeout)
        infos = []
        for gid in ids:
            desc = described[gid].result()
            assigned = {
                (tp.topic, tp.partition)
                for member in desc.members
                if member.assignment is not None
                for tp in member.assignment.topic_partitions
            }
            lag = self._group_lag(gid, assigned, partial=partial)
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

    def _group_lag(
        self, group_id: str, assigned: set[tuple[str, int]] | None = None, *, partial: bool = False
    ) -> dict[str, int]:
        """Messages the group has yet to read, per topic it reads.

        The topics a group reads are those it committed offsets on and those assigned to its members now;
        every partition of them counts. A partition with a committed offset lags by its end offset minus
        that offset (or minus its start offset, when retention already deleted up to past the commit). A
        partition with no committed offset lags by end minus start: every message still on it is unread,
        and a member starting there with ``auto.offset.reset=earliest`` (every owstream group) reads them
        all. (A group with ``latest`` would skip them instead; the watermarks cannot tell what a member will
        do, so the status counts what nobody has read.) Counting only committed partitions, as before,
        showed 2,000 messages nobody had read as lag 0."""
        committed = self.committed(group_id)
        topics = {t for t, _ in committed} | {t for t, _ in assigned or ()}
        if not topics:
            return {}
        meta = self._admin.list_topics(timeout=self.timeout).topics
        tps = [ck.TopicPartition(t, p) for t in sorted(topics) if t in meta for p in sorted(meta[t].partitions)]
        if partial:
            leaders = {(tp.topic, tp.partition): meta[tp.topic].partitions[tp.partition].leader for tp in tps}
            marks = self._partial_watermarks(tps, leaders)
        else:
            marks = self._watermarks(tps)
        lag: dict[str, int] = {}
        for tp in tps:
            if (tp.topic, tp.partition) not in marks:
                continue  # its leader did not answer
            start, end = marks[(tp.topic, tp.partition)]
            read_to = max(start, committed.get((tp.topic, tp.partition), start))
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, end - read_to)
        return lag

    def create_acls(self, bindings: list[Any]) -> None:
        """Create ACL bindings (``confluent_kafka.admin.AclBinding``; :mod:`owstream.bus.acls` makes them);
        BusError if the cluster refuses (no authorizer, or this client may not alter ACLs)."""
        try:
            for future in self._admin.create_acls(bindings, request_timeout=self.timeout).values():
                future.result()
        except ck.KafkaException as exc:
            raise BusError(f"cannot create ACLs: {exc.args[0].str()}") from exc

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
