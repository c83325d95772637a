"""``owstream up``: the whole product in one command.

The local broker (unless OWSTREAM_KAFKA_BOOTSTRAP names a cluster) starts first and the topics are
ensured; then the fetcher, processor, scheduler, meta service, notifier (webhook alerts) and dashboard run as
supervised child processes (``owstream run X``), each with its own log file under ``<home>/logs``. A part
that crashes is restarted with backoff; Ctrl-C or SIGTERM stops everything in reverse order, the broker last.

``--demo`` puts the OverFast simulator in front (no internet needed), uses its own topics and store
(``owstream-demo.*``, ``<home>/demo.db``), tracks every simulated player and refreshes them every
minute, so history, sessions and rank changes fill up while you watch. The simulator keeps its players in
``<home>/demo-simulator.json``: a restarted demo goes on from where it stopped.

One ``up`` per home: it holds ``<home>/up.lock`` while it runs and writes what it runs to
``<home>/runtime.json`` (:mod:`owstream.runtime.stack`), where the commands of another shell find it.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import webbrowser

from rich.console import Console

from owstream.config import Settings
from owstream.errors import PortInUse
from owstream.localkafka import LocalBroker, free_port
from owstream.localkafka.broker import port_free
from owstream.runtime.kafka import JarReporter, ensure_kafka
from owstream.runtime.stack import UpLock, new_stack, remove_stack, write_stack
from owstream.runtime.supervisor import PartSpec, PartState, RestartPolicy, file_ready, http_ready, supervise
from owstream.services.runner import SERVICES
from owstream.store import Store

log = logging.getLogger(__name__)

DEMO_PREFIX = "owstream-demo"
DEMO_REFRESH = 60  # seconds: the simulator moves its players on and the scheduler asks every minute
DEMO_SIMULATOR_STATE = "demo-simulator.json"  # in the home: the demo's players across restarts


def demo_settings(settings: Settings, simulator_port: int) -> Settings:
    return settings.replace(
        overfast_url=f"http://127.0.0.1:{simulator_port}",
        topic_prefix=DEMO_PREFIX,
        store_url=f"sqlite:///{settings.home / 'demo.db'}",
        refresh_interval=DEMO_REFRESH,
        overfast_cache_seconds=DEMO_REFRESH,
        meta_interval=DEMO_REFRESH,  # the simulator's meta drifts every minute too
        rate_limit=20.0,
    )


def child_env(settings: Settings) -> dict[str, str]:
    """The environment of every part: the parent's, with every setting spelled out."""
    return {**os.environ, **settings.as_env(), "PYTHONUNBUFFERED": "1"}


def parts(settings: Settings, *, simulator_port: int | None, together: bool = True) -> list[PartSpec]:
    """The supervised parts; ``together``: the five Python services share one process (``owstream run
    services``), else each has its own (``owstream run X``, as systemd units run them)."""
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = child_env(settings)
    owstream = [sys.executable, "-m", "owstream.cli"]
    policy = RestartPolicy(max_restarts=5, window=300.0)
    specs: list[PartSpec] = []
    if simulator_port is not None:
        state = settings.home / DEMO_SIMULATOR_STATE
        simulate = [
            "simulate",
            "--port",
            str(simulator_port),
            "--advance-every",
            str(DEMO_REFRESH),
            "--state",
            str(state),
        ]
        specs.append(
            PartSpec(
                "simulator",
                [*owstream, *simulate],
                logs / "simulator.log",
                env=env,
                ready=http_ready(f"http://127.0.0.1:{simulator_port}/gamemodes"),
                restart=policy,
            )
        )
    for name in ["services"] if together else SERVICES:
        ready = logs / f"{name}.ready"
        argv = [*owstream, "run", name, "--ready-file", str(ready)]
        specs.append(PartSpec(name, argv, logs / f"{name}.log", env=env, ready=file_ready(ready), restart=policy))
    health = dashboard_url(settings).replace("localhost", "127.0.0.1") + "/_stcore/health"
    specs.append(
        PartSpec(
            "dashboard",
            [*owstream, "run", "dashboard"],
            logs / "dashboard.log",
            env=env,
            ready=http_ready(health),
            ready_timeout=90.0,
            restart=policy,
        )
    )
    return specs


def run_up(
    settings: Settings, *, demo: bool, open_browser: bool, together: bool = True, console: Console | None = None
) -> int:
    """The whole stack until Ctrl-C or SIGTERM; refused when ``up`` already runs from this home."""
    console = console or Console()
    with UpLock(settings.home):
        try:
            return _run_locked(settings, demo=demo, open_browser=open_browser, together=together, console=console)
        finally:
            remove_stack(settings.home)


def _run_locked(settings: Settings, *, demo: bool, open_browser: bool, together: bool, console: Console) -> int:
    began = time.monotonic()
    remove_stack(settings.home)  # a stale one, of an `up` that did not stop cleanly
    _check_dashboard_port(settings)
    simulator_port = free_port() if demo else None
    if simulator_port is not None:
        settings = demo_settings(settings, simulator_port)
        console.print(
            f"demo mode: OverFast simulator on 127.0.0.1:{simulator_port}, store {settings.resolved_store_url}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    broker = LocalBroker(settings)
    started_broker = settings.uses_local_broker and broker.state() is None
    if settings.uses_local_broker:
        what = "broker" if settings.kafka_brokers == 1 else f"cluster ({settings.kafka_brokers} nodes)"
        console.print(f"starting the local Kafka {what}…" if started_broker else "using the running local Kafka")
    url = dashboard_url(settings)
    stack = new_stack(settings, demo=demo, dashboard_url=url)
    write_stack(settings.home, stack)  # at once: a second shell finds this stack's store and ports while it starts
    try:
        with JarReporter(console) as jars:
            ensure_kafka(settings, progress=jars)
        if demo:
            _track_simulated_players(settings)
        state = broker.state() if settings.uses_local_broker else None
        for node in state.nodes if state else ():
            stack.pids["kafka" if node.node_id == 1 else f"kafka-{node.node_id}"] = node.pid
        write_stack(settings.home, stack)

        def changed(part: PartState) -> None:
            if part.pid is not None and stack.pids.get(part.name) != part.pid:
                stack.pids[part.name] = part.pid
                write_stack(settings.home, stack)

        def ready() -> None:
            console.print(f"owstream is up in {time.monotonic() - began:.1f} s: open {url}  (Ctrl-C stops everything)")
            console.print(f"logs: {settings.home / 'logs'}")
            console.print(
                f"in another shell, owstream show/fetch/track/export use this stack (OWSTREAM_HOME={settings.home})",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            if open_browser:
                webbrowser.open(url)

        specs = parts(settings, simulator_port=simulator_port, together=together)
        return supervise(specs, console=console, on_ready=ready, on_change=changed)
    finally:
        if started_broker:
            console.print("stopping the local Kafka broker…")
            broker.stop()


def _check_dashboard_port(settings: Settings) -> None:
    """Refuse to start when the dashboard's port is taken (its part would only crash again and again)."""
    address = settings.dashboard_address or "127.0.0.1"
    if not port_free(settings.dashboard_port, "0.0.0.0" if address == "0.0.0.0" else address):  # noqa: S104
        raise PortInUse(
            f"port {settings.dashboard_port} of the dashboard is taken on {address} (another owstream up, from "
            "another OWSTREAM_HOME, or another program): set OWSTREAM_DASHBOARD_PORT to a free port"
        )


def _track_simulated_players(settings: Settings) -> None:
    from owstream.simulator import player_ids

    with Store.open(settings.resolved_store_url) as store:
        for pid in player_ids():
            store.watch_add(pid, time.time())


def dashboard_url(settings: Settings) -> str:
    local = settings.dashboard_address in ("127.0.0.1", "0.0.0.0", "")  # noqa: S104 - compared, not bound
    return f"http://{'localhost' if local else settings.dashboard_address}:{settings.dashboard_port}"
