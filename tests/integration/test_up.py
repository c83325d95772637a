"""`owstream up --demo --no-browser` as a user runs it: every part ready, the dashboard's health check
answering (what its pages draw is tests/e2e's), demo data reaching the store, every message on the demo's
topics valid against its schema, a killed part restarted, and SIGTERM leaving no process behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from owstream.config import Settings
from owstream.localkafka import free_port
from owstream.localkafka.jars import ensure_jars, jars_dir
from owstream.runtime.up import DEMO_PREFIX
from support.contracts import check_topics
from support.pipeline import wait_for

pytestmark = pytest.mark.kafka

READY = re.compile(r"^(\w+): ready \(pid (\d+)\)")


class Output:
    """Collects a process's stdout lines from a reader thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def ready_pids(self) -> dict[str, list[int]]:
        pids: dict[str, list[int]] = {}
        for line in self.lines:
            match = READY.match(line)
            if match:
                pids.setdefault(match.group(1), []).append(int(match.group(2)))
        return pids


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def processes_of(home: Path) -> set[int]:
    """Live processes whose environment says OWSTREAM_HOME=<home>: everything `up` started, the JVM too."""
    marker = f"OWSTREAM_HOME={home}".encode()
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in environ and running(int(entry.name)):
            found.add(int(entry.name))
    return found


@pytest.mark.parametrize(
    ("flag", "parts", "victim"),
    [
        ("--one-process", {"services", "dashboard"}, "services"),
        ("--process-per-service", {"fetcher", "processor", "scheduler", "meta", "notifier", "dashboard"}, "processor"),
    ],
)
def test_up_demo_runs_restarts_and_stops_cleanly(
    tmp_path: Path, jar_home: Path, flag: str, parts: set[str], victim: str
) -> None:
    ensure_jars(jar_home)
    home = tmp_path / "home"
    (home / "kafka" / "jars").mkdir(parents=True)
    jars_dir(home).symlink_to(jars_dir(jar_home), target_is_directory=True)
    dashboard_port, kafka_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OWSTREAM_")}
    env.update(
        OWSTREAM_HOME=str(home),
        OWSTREAM_KAFKA_PORT=str(kafka_port),
        OWSTREAM_KAFKA_CONTROLLER_PORT=str(free_port()),
        OWSTREAM_DASHBOARD_PORT=str(dashboard_port),
        OWSTREAM_KAFKA_PARTITIONS="2",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "owstream.cli", "up", "--demo", "--no-browser", flag],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
    )  # fmt: skip
    out = Output(proc)
    try:
        wait_for(lambda: any("all parts ready" in ln for ln in out.lines) or proc.poll() is not None, timeout=240)
        assert proc.poll() is None, "\n".join(out.lines)
        assert len(processes_of(home)) >= 2 + len(parts)  # up, broker JVM, simulator, services, dashboard
        assert parts <= set(out.ready_pids())
        assert any(f"localhost:{dashboard_port}" in ln for ln in out.lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{dashboard_port}/_stcore/health", timeout=5) as resp:
            assert resp.read() == b"ok"

        engine = create_engine(f"sqlite:///{home / 'demo.db'}")
        with engine.connect() as conn:
            wait_for(lambda: conn.execute(text("SELECT count(*) FROM snapshots")).scalar(), timeout=120)
            wait_for(lambda: conn.execute(text("SELECT count(*) FROM hero_stats")).scalar(), timeout=120)  # the meta
        engine.dispose()
        demo = Settings(home=home, kafka_port=kafka_port, topic_prefix=DEMO_PREFIX)
        assert check_topics(demo) > 0  # the demo's requests, results and events, as the services wrote them

        second_shell(home, out.ready_pids(), dashboard_port)

        old = out.ready_pids()[victim][-1]
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: len(out.ready_pids().get(victim, [])) >= 2, timeout=120)
        assert out.ready_pids()[victim][-1] != old
        assert any(ln.startswith(f"{victim}: restarting") for ln in out.lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    leftovers = processes_of(home)
    assert leftovers == set(), f"processes left behind: {leftovers}"
    assert proc.returncode == 0, "\n".join(out.lines)
    assert not (home / "runtime.json").exists()  # a clean stop leaves no runtime file behind


def second_shell(home: Path, ready: dict[str, list[int]], dashboard_port: int) -> None:
    """Another shell with no variable but the home: the commands find the running demo through its runtime
    file, and a second `up` is refused, saying which one runs, without touching the first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OWSTREAM_")}
    env.update(OWSTREAM_HOME=str(home), COLUMNS="200")

    def owstream(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "owstream.cli", *args]
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)

    runtime = json.loads((home / "runtime.json").read_text())
    assert runtime["topic_prefix"] == "owstream-demo" and runtime["store_url"].endswith("demo.db")
    assert runtime["dashboard_url"] == f"http://localhost:{dashboard_port}"
    assert all(runtime["pids"][part] == pids[-1] for part, pids in ready.items())

    status = owstream("kafka", "status", "--json")
    assert status.returncode == 0, status.stderr
    started = owstream("kafka", "start")  # the stack's broker, on its ports: not a second one, not "stop it"
    assert started.returncode == 0 and "already running at" in started.stdout, started.stderr
    assert "owstream-demo.fetch-results" in {t["name"] for t in json.loads(status.stdout)["topics"]}
    listed = json.loads(owstream("track", "list", "--json").stdout)["watchlist"]
    stored = next(e["player_id"] for e in listed if e["last_fetched_at"])
    shown = owstream("show", stored, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["player"]["player_id"] == stored

    unknown = owstream("show", "Nobody-1234")
    assert unknown.returncode == 1 and "this shell uses the running demo" in unknown.stderr

    began = time.monotonic()
    again = subprocess.run(
        [sys.executable, "-m", "owstream.cli", "up", "--demo", "--no-browser"],
        capture_output=True, text=True, env={**env, "OWSTREAM_DASHBOARD_PORT": str(dashboard_port)}, timeout=60,
        check=False,
    )  # fmt: skip
    assert again.returncode == 1 and time.monotonic() - began < 30
    assert f"owstream up already runs from OWSTREAM_HOME={home}" in again.stderr
    assert f"pid {runtime['pid']}" in again.stderr
    assert json.loads((home / "runtime.json").read_text()) == runtime  # the first stack is left alone
