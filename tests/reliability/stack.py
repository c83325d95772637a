"""What a reliability run drives: a real broker (one node or the 3-node cluster) started here, the OverFast
simulator in its own process, the store (SQLite, or a throwaway PostgreSQL), and the services as the
processes ``owstream run fetcher|processor|scheduler`` that anyone would start."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from owstream.config import Settings
from owstream.localkafka import LocalBroker, free_port, free_ports
from owstream.simulator import Simulator
from reliability.postgres import Postgres
from support.env import owstream_env
from support.homes import broker_home


@dataclass(frozen=True)
class Profile:
    """Where a row runs: how many broker nodes, which store, how many fetchers and processors per group."""

    name: str
    brokers: int = 1
    postgres: bool = False
    fetchers: int = 1
    processors: int = 1
    players: int = 60  # simulated players the load asks for

    @property
    def label(self) -> str:
        store = "PostgreSQL" if self.postgres else "SQLite"
        nodes = "1 broker" if self.brokers == 1 else f"{self.brokers} brokers"
        return f"{nodes}, {store}, {self.fetchers}F+{self.processors}P"


def jar_home() -> Path:
    home = Path(os.environ.get("OWSTREAM_TEST_JAR_HOME", Path.home() / ".cache" / "owstream-test"))
    home.mkdir(parents=True, exist_ok=True)
    return home


class Cluster:
    """The broker(s), the simulator and PostgreSQL of one profile, shared by its rows (each row has its own
    topic prefix, groups, transactional ids and store)."""

    SEED = 11
    ADVANCE_EVERY = 2.0  # seconds between two refreshes of every simulated player: sessions and rank changes

    def __init__(self, root: Path, profile: Profile) -> None:
        self.root = root
        self.profile = profile
        root.mkdir(parents=True, exist_ok=True)
        home = broker_home(root / "home", jar_home())
        self.sim_port = free_port()
        self.sim_url = f"http://127.0.0.1:{self.sim_port}"
        base = free_ports(2 * profile.brokers)
        self.base = Settings(
            home=home, kafka_port=base, kafka_controller_port=base + profile.brokers, kafka_brokers=profile.brokers,
            kafka_partitions=6, topic_prefix="reliability", store_url=f"sqlite:///{root / 'unused.db'}",
            rate_limit=300.0, overfast_cache_seconds=0, refresh_interval=10, overfast_timeout=2.0,
            overfast_max_attempts=4, overfast_max_backoff=5.0, log_level="INFO", overfast_url=self.sim_url,
        )  # fmt: skip
        self.players = Simulator(seed=self.SEED, players=profile.players).player_ids()
        self._sim: subprocess.Popen[bytes] | None = None
        self.postgres: Postgres | None = None

    def start(self) -> Cluster:
        LocalBroker(self.base).start(timeout=180)
        code = (
            "import logging; logging.basicConfig(level=logging.WARNING); from owstream.simulator import serve_forever; "
            f"serve_forever({self.sim_port}, seed={self.SEED}, players={self.profile.players}, "
            f"advance_every={self.ADVANCE_EVERY})"
        )
        with (self.root / "simulator.log").open("ab") as out:
            self._sim = subprocess.Popen(
                [sys.executable, "-c", code], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        _wait(lambda: _http_ok(f"{self.sim_url}/_sim/players"), 30, "the simulator")
        if self.profile.postgres:
            self.postgres = Postgres().start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            LocalBroker(self.base).stop()
        if self._sim is not None:
            self._sim.terminate()
            try:
                self._sim.wait(10)
            except subprocess.TimeoutExpired:
                self._sim.kill()
        if self.postgres is not None:
            self.postgres.stop()

    # --- the broker's faults -------------------------------------------------------------------------
    def broker_pids(self) -> list[int]:
        state = LocalBroker(self.base).state()
        return [n.pid for n in state.nodes] if state is not None else []

    def kill_broker(self, node: int = 0) -> None:
        """SIGKILL one node's JVM (no shutdown, no flush: what a power cut does to it)."""
        state = LocalBroker(self.base).state()
        assert state is not None, "no broker runs"
        victim = state.nodes[node]
        os.kill(victim.pid, signal.SIGKILL)
        _wait(lambda: not victim.running, 15, "the killed broker to die")

    def kill_node(self, node_id: int) -> None:
        """SIGKILL the JVM of the node with this broker id."""
        state = LocalBroker(self.base).state()
        assert state is not None, "no broker runs"
        index = next(i for i, node in enumerate(state.nodes) if node.node_id == node_id)
        self.kill_broker(index)

    def freeze_broker(self, frozen: bool = True) -> None:
        """SIGSTOP (or SIGCONT) every node: Kafka stops answering, connections stay open."""
        for pid in self.broker_pids():
            os.kill(pid, signal.SIGSTOP if frozen else signal.SIGCONT)

    def stop_broker(self) -> None:
        LocalBroker(self.base).stop()

    def start_broker(self) -> None:
        LocalBroker(self.base).start(timeout=180)  # the same data dirs: topics, offsets, transactions kept

    # --- the simulator's faults ---------------------------------------------------------------------
    def fault(self, **body: Any) -> None:
        request = urllib.request.Request(f"{self.sim_url}/_sim/faults", data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200

    def store_url(self, name: str) -> str:
        if self.postgres is not None:
            return self.postgres.database(name)
        return f"sqlite:///{self.root / name / 'store.db'}"


class Service:
    """One ``owstream run <name>`` process with its own OWSTREAM_INSTANCE_ID, its output in a log file."""

    def __init__(self, name: str, instance: str, settings: Settings, logs: Path) -> None:
        self.name = name
        self.instance = instance
        self.settings = settings
        self.log_path = logs / f"{name}-{instance}.log"
        self.ready_path = logs / f"{name}-{instance}.ready"
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0  # SIGKILLs the harness sent (then it started the instance again, as a supervisor would)
        self.starts = 0
        self.retired = False  # killed and left dead on purpose: the group's other members take over

    @property
    def label(self) -> str:
        return f"{self.name}/{self.instance}"

    def spawn(self) -> None:
        self.ready_path.unlink(missing_ok=True)
        env = owstream_env(self.settings, OWSTREAM_INSTANCE_ID=self.instance)
        with self.log_path.open("ab") as out:
            out.write(f"--- start {self.starts + 1} at {time.strftime('%H:%M:%S')}\n".encode())
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "owstream.cli", "run", self.name, "--ready-file", str(self.ready_path)],
                env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        self.starts += 1

    def wait_ready(self, timeout: float = 120.0) -> None:
        proc = self.proc
        assert proc is not None

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {proc.returncode} before it was ready: {self.tail()}")
            return self.ready_path.exists()

        _wait(ready, timeout, f"{self.label} to be ready")

    def start(self) -> None:
        self.spawn()
        self.wait_ready()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self.kills += 1

    def freeze(self, frozen: bool = True) -> None:
        """SIGSTOP (or SIGCONT) the process: it does nothing, its connections stay open."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP if frozen else signal.SIGCONT)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; its exit status (None: it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc is not None else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: whatever it started goes too
            self.proc.wait(10)
            return None

    def log_lines(self, since: float = 0.0, until: float | None = None) -> int:
        """Lines of this service's log at WARNING or ERROR written between two unix times."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        loud = (" WARNING ", " ERROR ", " CRITICAL ")
        return sum(1 for line in text.splitlines() if any(w in line[:40] for w in loud) and _within(line, since, until))

    def log_text(self, since: float = 0.0) -> str:
        """This service's log from the first line written at or after ``since`` (a unix time)."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        first = next((i for i, line in enumerate(lines) if _within(line, since, None)), len(lines))
        return "\n".join(lines[first:])

    def tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _within(line: str, since: float, until: float | None) -> bool:
    """Whether a log line (``2025-01-31 12:34:56,789 WARNING ...``) was written between two unix times."""
    try:
        at = time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return False
    return at >= int(since) and (until is None or at <= until + 1)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _wait(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"waited {timeout:.0f} s for {what}")
