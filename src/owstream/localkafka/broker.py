"""The local Apache Kafka: one KRaft node, or a cluster of several on one machine, on 127.0.0.1, no Docker.

``LocalBroker.start()`` resolves the pinned jars (cached), formats each node's storage on its first start,
launches one ``kafka.Kafka`` JVM per node as a detached process (all at once: a cluster's quorum needs a
majority up), and returns when every node's port accepts connections and the cluster's metadata lists every
broker. ``stop()`` sends every node SIGTERM (a controlled shutdown) and waits for the JVMs to exit. Which
nodes, ports, directories and properties: :mod:`owstream.localkafka.cluster`.

``<home>/kafka/broker.json`` names every running node (id, pid, ports), so that ``owstream kafka stop`` and
``status`` from any other process find them all, whatever that process's ``OWSTREAM_KAFKA_BROKERS``.
``start()`` on a cluster with a dead node starts that node again.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import subprocess
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from owstream.bus.admin import Admin
from owstream.config import Settings
from owstream.errors import BrokerError, PortInUse
from owstream.localkafka import cluster
from owstream.localkafka.cluster import NodeSpec
from owstream.localkafka.jars import KAFKA_VERSION, Progress, ensure_jars, resource_path
from owstream.localkafka.java import find_java
from owstream.processes import alive, stop_group

log = logging.getLogger(__name__)

# Sized for one machine: measured side by side, and each flag explained, in docs/broker.md. The heap is
# settings.kafka_heap_opts.
JVM_FLAGS = [
    "-XX:+UseSerialGC",  # no concurrent GC threads or remembered sets; gives heap back after a collection
    "-XX:TieredStopAtLevel=1",  # C1 only: half the start and load CPU of C1+C2 on two cores, less code cache
    "-XX:ReservedCodeCacheSize=32m",  # C1 code takes about 10 MiB
    "-XX:MaxMetaspaceSize=128m",  # about 42 MiB are used: a leak fails loudly instead of growing
    "-Djdk.nio.maxCachedBufferSize=262144",  # no per-thread cache of large temporary direct buffers
    "-Djava.awt.headless=true",
]
# The storage tool runs for a second or two: no JIT beyond C1, the smallest collector.
TOOL_FLAGS = ["-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]


@dataclass(frozen=True, slots=True)
class NodeState:
    node_id: int
    pid: int
    port: int
    controller_port: int
    started_at: float

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return alive(self.pid)


@dataclass(frozen=True, slots=True)
class BrokerState:
    """The running local Kafka: every node it was started with (one may have died since)."""

    nodes: tuple[NodeState, ...]
    version: str

    @property
    def pid(self) -> int:
        return self.nodes[0].pid

    @property
    def port(self) -> int:
        return self.nodes[0].port

    @property
    def controller_port(self) -> int:
        return self.nodes[0].controller_port

    @property
    def started_at(self) -> float:
        return min(n.started_at for n in self.nodes)

    @property
    def bootstrap(self) -> str:
        return ",".join(n.address for n in self.nodes)

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "nodes": [asdict(n) for n in self.nodes]})

    @classmethod
    def from_json(cls, text: str) -> BrokerState:
        raw: dict[str, Any] = json.loads(text)
        if "nodes" not in raw:  # written by an owstream of one node only
            raw = {
                "version": raw["version"],
                "nodes": [{"node_id": 1, **{k: v for k, v in raw.items() if k != "version"}}],
            }
        return cls(tuple(NodeState(**n) for n in raw["nodes"]), str(raw["version"]))


def new_cluster_id() -> str:
    """A KRaft cluster id like ``kafka-storage random-uuid`` prints: base64url of a random UUID that does not
    start with "-" (the storage tool would read it as an option, as Kafka's own Uuid.randomUuid avoids)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class LocalBroker:
    """The local Kafka of ``settings.home``: ``brokers`` nodes (default ``settings.kafka_brokers``).

    ``properties`` are added to (or replace) every node's ``server.properties``; ``scram`` (user -> password)
    creates SCRAM-SHA-512 credentials when the storage is formatted. Both are for test brokers with
    security (tests/support/secure_broker.py)."""

    def __init__(
        self,
        settings: Settings,
        *,
        brokers: int | None = None,
        properties: Mapping[str, str] | None = None,
        scram: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.nodes = cluster.layout(settings, settings.kafka_brokers if brokers is None else brokers)
        self.root = settings.home / "kafka"
        self.state_path = self.root / "broker.json"
        self._extra = dict(properties or {})
        self._scram = dict(scram or {})

    @property
    def log_path(self) -> Path:
        return self.nodes[0].log_path

    # --- state ------------------------------------------------------------------------------------
    def state(self) -> BrokerState | None:
        """The local Kafka started from this home while any of its nodes runs, else None (a stale state
        file is removed)."""
        try:
            state = BrokerState.from_json(self.state_path.read_text())
        except (OSError, ValueError, TypeError, KeyError):
            return None
        if any(n.running for n in state.nodes):
            return state
        self.state_path.unlink(missing_ok=True)
        return None

    # --- start ------------------------------------------------------------------------------------
    def start(self, timeout: float = 90.0, *, progress: Progress | None = None) -> BrokerState:
        """Start every node (or, of a running cluster, the nodes that died) and wait until all serve
        (``progress``: hears the first start's download of the jars)."""
        running = self.state()
        kept: list[NodeState] = []
        if running is not None:
            self._check_compatible(running)
            kept = [n for n in running.nodes if n.running]
            if len(kept) == len(self.nodes):
                return running
        ids = {n.node_id for n in kept}
        todo = [spec for spec in self.nodes if spec.node_id not in ids]
        java = find_java(self.settings.java_home)
        for spec in todo:
            for p in (spec.port, spec.controller_port):
                if not port_free(p):
                    raise PortInUse(
                        f"port {p} on 127.0.0.1 is taken: stop what uses it, or set OWSTREAM_KAFKA_PORT / "
                        "OWSTREAM_KAFKA_CONTROLLER_PORT to free ports, or point OWSTREAM_KAFKA_BOOTSTRAP at your Kafka"
                    )
        classpath = f"{ensure_jars(self.settings.home, progress=progress)}/*"
        for spec in todo:
            spec.root.mkdir(parents=True, exist_ok=True)
            spec.properties_path.write_text(cluster.render(cluster.properties(spec, self.nodes, self._extra)))
        self._format([s for s in todo if not (s.data_dir / "meta.properties").exists()], java, classpath)
        procs = {spec.node_id: self._spawn(spec, java, classpath) for spec in todo}
        started = [NodeState(s.node_id, procs[s.node_id].pid, s.port, s.controller_port, time.time()) for s in todo]
        state = BrokerState(tuple(sorted([*kept, *started], key=lambda n: n.node_id)), KAFKA_VERSION)
        self.state_path.write_text(state.to_json())
        began = time.monotonic()
        try:
            self._wait_ready(todo, procs, timeout)
        except BaseException:
            self._stop_nodes(started, 20)
            if kept:
                self.state_path.write_text(BrokerState(tuple(kept), KAFKA_VERSION).to_json())
            else:
                self.state_path.unlink(missing_ok=True)
            raise
        log.info(
            "Kafka %s ready at %s in %.1f s (%d node(s) started)",
            KAFKA_VERSION, state.bootstrap, time.monotonic() - began, len(todo),
        )  # fmt: skip
        return state

    def _check_compatible(self, running: BrokerState) -> None:
        if len(running.nodes) != len(self.nodes) or running.port != self.nodes[0].port:
            nodes = f"{len(running.nodes)} node(s)"
            raise BrokerError(
                f"a local Kafka of {nodes} from {self.root} already runs on port {running.port}, not "
                f"{len(self.nodes)} node(s) on {self.nodes[0].port}: stop it first with `owstream kafka stop`"
            )

    def _log4j(self) -> list[str]:
        return [f"-Dlog4j2.configurationFile={resource_path('log4j2.properties')}"]

    def _format(self, specs: list[NodeSpec], java: Path, classpath: str) -> None:
        """Format the nodes that never ran, in parallel; nodes of a cluster share one cluster id (that of
        an already formatted node if there is one)."""
        if not specs:
            return
        cluster_id = next(filter(None, (_cluster_id(s) for s in self.nodes)), None) or new_cluster_id()
        scram = [
            arg
            for user, password in self._scram.items()
            for arg in ("--add-scram", f"SCRAM-SHA-512=[name={user},password={password}]")
        ]
        tool = [str(java), *TOOL_FLAGS, *self._log4j(), "-cp", classpath, "kafka.tools.StorageTool", "format"]
        options = cluster.format_options(self.nodes)
        procs = [
            subprocess.Popen(
                [*tool, *options, "-t", cluster_id, "-c", str(spec.properties_path), *scram],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
            )
            for spec in specs
        ]
        for spec, proc in zip(specs, procs, strict=True):
            output, _ = proc.communicate()
            if proc.returncode != 0:
                raise BrokerError(f"formatting the storage of Kafka node {spec.node_id} failed: {_last_line(output)}")

    def _spawn(self, spec: NodeSpec, java: Path, classpath: str) -> subprocess.Popen[bytes]:
        with spec.log_path.open("ab") as out:
            return subprocess.Popen(
                [str(java), *self.settings.kafka_heap_opts.split(), *JVM_FLAGS, *self._log4j(), "-cp", classpath,
                 "kafka.Kafka", str(spec.properties_path)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip

    def _wait_ready(self, specs: list[NodeSpec], procs: Mapping[int, subprocess.Popen[bytes]], timeout: float) -> None:
        """Ready when the new nodes' ports accept connections and then the cluster's metadata lists every
        node as a broker (registered and unfenced). (A client made before the ports open would back off its
        reconnects for seconds.)"""
        deadline = time.monotonic() + timeout
        admin: Admin | None = None
        want = {n.node_id for n in self.nodes}
        try:
            while time.monotonic() < deadline:
                for spec in specs:
                    code = procs[spec.node_id].poll()
                    if code is not None:
                        raise BrokerError(
                            f"Kafka node {spec.node_id} exited with status {code}: {_log_problem(spec.log_path)} "
                            f"(log: {spec.log_path})"
                        )
                if admin is None:
                    if not all(_accepts(s.port) for s in specs):
                        time.sleep(0.05)
                        continue
                    bootstrap = ",".join(n.address for n in self.nodes)
                    admin = Admin(self.settings.replace(kafka_bootstrap=bootstrap), timeout=5)
                if want <= set(admin.brokers(timeout=0.5)):
                    return
                time.sleep(0.05)
        finally:
            if admin is not None:
                admin.close()
        raise BrokerError(f"the local Kafka did not become ready within {timeout:.0f} s (log: {specs[0].log_path})")

    # --- stop -------------------------------------------------------------------------------------
    def stop(self, timeout: float = 60.0) -> bool:
        """Stop every node of this home's local Kafka; True if one was running."""
        state = self.state()
        if state is None:
            return False
        self._stop_nodes(list(state.nodes), timeout)
        self.state_path.unlink(missing_ok=True)
        return True

    def _stop_nodes(self, nodes: list[NodeState], timeout: float) -> None:
        """SIGTERM to every node at once (a controlled shutdown each; a cluster stopped one by one would
        lose its quorum before the last node is done), SIGKILL to what is left after ``timeout``."""
        with ThreadPoolExecutor(max_workers=max(1, len(nodes))) as pool:
            for n in nodes:
                pool.submit(stop_group, n.pid, timeout, name=f"Kafka node {n.node_id} (pid {n.pid})")


def _cluster_id(spec: NodeSpec) -> str | None:
    try:
        text = (spec.data_dir / "meta.properties").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "cluster.id":
            return value.strip()
    return None


def _log_problem(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()[-200:]
    except OSError:
        return "no log"
    errors = [ln for ln in lines if " ERROR " in ln or "Exception" in ln]
    return _last_line("\n".join(errors or lines))


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports (for a cluster's ``kafka_port``/``controller_port``)."""
    for _ in range(100):
        base = free_port()
        if base + count < 65536 and all(port_free(p) for p in range(base, base + count)):
            return base
    raise PortInUse(f"no {count} consecutive free ports on 127.0.0.1")


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no output"
