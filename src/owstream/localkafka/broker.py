"""The local Apache Kafka broker: single node, KRaft combined mode, 127.0.0.1 only, no Docker.

``LocalBroker.start()`` resolves the pinned jars (cached), formats the storage on first start,
launches ``kafka.Kafka`` as a detached child process with a modest heap, and returns when the admin
client answers. ``stop()`` sends SIGTERM (a controlled shutdown) and waits for the JVM to exit.
State lives under ``<home>/kafka``: ``data/`` (the log dirs), ``server.properties``, ``broker.log``
and ``broker.json`` (pid and ports of the running broker).
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import subprocess
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from owstream.bus.admin import Admin
from owstream.config import Settings
from owstream.errors import BrokerError, PortInUse
from owstream.localkafka.jars import KAFKA_VERSION, ensure_jars, resource_path
from owstream.localkafka.java import find_java
from owstream.processes import alive, stop_group

log = logging.getLogger(__name__)

JVM_FLAGS = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"]


@dataclass(frozen=True, slots=True)
class BrokerState:
    pid: int
    port: int
    controller_port: int
    version: str
    started_at: float

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


def new_cluster_id() -> str:
    """A KRaft cluster id like ``kafka-storage random-uuid`` prints: base64url of a random UUID that does not
    start with "-" (the storage tool would read it as an option, as Kafka's own Uuid.randomUuid avoids)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class LocalBroker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.home / "kafka"
        self.data_dir = self.root / "data"
        self.log_path = self.root / "broker.log"
        self.state_path = self.root / "broker.json"
        self.properties_path = self.root / "server.properties"

    # --- state ------------------------------------------------------------------------------------
    def state(self) -> BrokerState | None:
        """The running broker started from this home, or None (a stale state file is removed)."""
        try:
            state = BrokerState(**json.loads(self.state_path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if alive(state.pid):
            return state
        self.state_path.unlink(missing_ok=True)
        return None

    # --- start ------------------------------------------------------------------------------------
    def start(self, timeout: float = 90.0) -> BrokerState:
        running = self.state()
        if running is not None:
            if running.port != self.settings.kafka_port:
                raise BrokerError(
                    f"a local broker from {self.root} already runs on port {running.port}, not "
                    f"{self.settings.kafka_port}: stop it first with `owstream kafka stop`"
                )
            return running
        java = find_java(self.settings.java_home)
        port, cport = self.settings.kafka_port, self.settings.kafka_controller_port
        for p in (port, cport):
            if not port_free(p):
                raise PortInUse(
                    f"port {p} on 127.0.0.1 is taken: stop what uses it, or set OWSTREAM_KAFKA_PORT / "
                    "OWSTREAM_KAFKA_CONTROLLER_PORT to free ports, or point OWSTREAM_KAFKA_BOOTSTRAP at your Kafka"
                )
        jars = ensure_jars(self.settings.home)
        self.root.mkdir(parents=True, exist_ok=True)
        self.properties_path.write_text(self._properties(port, cport))
        classpath = f"{jars}/*"
        if not (self.data_dir / "meta.properties").exists():
            self._format(java, classpath)
        started = time.time()
        with self.log_path.open("ab") as out:
            proc = subprocess.Popen(
                [str(java), *self.settings.kafka_heap_opts.split(), *JVM_FLAGS, *self._log4j(), "-cp", classpath,
                 "kafka.Kafka", str(self.properties_path)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        state = BrokerState(proc.pid, port, cport, KAFKA_VERSION, started)
        self.state_path.write_text(json.dumps(asdict(state)))
        try:
            self._wait_ready(proc, timeout)
        except BaseException:
            stop_group(proc.pid, 20, name="the Kafka broker")
            self.state_path.unlink(missing_ok=True)
            raise
        log.info("Kafka %s ready at %s in %.1f s", KAFKA_VERSION, state.bootstrap, time.time() - started)
        return state

    def _properties(self, port: int, cport: int) -> str:
        lines = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{cport}",
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "message.max.bytes": str(8 * 1024 * 1024),
        }
        return "# written by owstream on every start\n" + "".join(f"{k}={v}\n" for k, v in lines.items())

    def _log4j(self) -> list[str]:
        return [f"-Dlog4j2.configurationFile={resource_path('log4j2.properties')}"]

    def _format(self, java: Path, classpath: str) -> None:
        cluster_id = new_cluster_id()
        cmd = [str(java), "-Xmx256m", *self._log4j(), "-cp", classpath, "kafka.tools.StorageTool", "format",
               "--standalone", "-t", cluster_id, "-c", str(self.properties_path)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BrokerError(f"formatting the Kafka storage failed: {_last_line(proc.stdout + proc.stderr)}")

    def _wait_ready(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        """Ready when the port accepts connections and then the admin client answers. (A client made
        before the port opens would back off its reconnects for seconds.)"""
        deadline = time.monotonic() + timeout
        admin: Admin | None = None
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                raise BrokerError(
                    f"the Kafka broker exited with status {code}: {self._log_problem()} (log: {self.log_path})"
                )
            if admin is None:
                if port_free(self.settings.kafka_port) or not _accepts(self.settings.kafka_port):
                    time.sleep(0.05)
                    continue
                admin = Admin(self.settings.replace(kafka_bootstrap=""), timeout=5)
            if admin.ping(timeout=0.5):
                return
        raise BrokerError(f"the Kafka broker did not become ready within {timeout:.0f} s (log: {self.log_path})")

    def _log_problem(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()[-200:]
        except OSError:
            return "no log"
        errors = [ln for ln in lines if " ERROR " in ln or "Exception" in ln]
        return _last_line("\n".join(errors or lines))

    # --- stop -------------------------------------------------------------------------------------
    def stop(self, timeout: float = 60.0) -> bool:
        """Stop the broker of this home; True if one was running."""
        state = self.state()
        if state is None:
            return False
        stop_group(state.pid, timeout, name=f"the Kafka broker (pid {state.pid})")
        self.state_path.unlink(missing_ok=True)
        return True


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


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no output"
