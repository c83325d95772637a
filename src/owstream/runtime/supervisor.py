"""A small process supervisor for ``owstream up``.

Each part (simulator, fetcher, processor, scheduler, dashboard) runs as a child process in its own
session and process group, with stdout and stderr appended to its log file. Parts start in order; each must
be ready before the next one starts: its ``ready`` check, given the part's pid, returns true on an explicit
signal (a ready file the part writes, an HTTP health check), never on a sentence in its log. A part that
exits is restarted with exponential backoff until it exits too often within a window; then it is *failed*.
``stop()`` stops the parts in reverse order: SIGTERM to the whole process group, then SIGKILL after a grace
period, so no grandchild is left behind.

The status view lives here too: a Rich table on a terminal, plain lines (``fetcher: ready (pid 123)``)
otherwise, and the line ``all parts ready`` once every part is ready.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import IO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from owstream.processes import signal_group, stop_group

logger = logging.getLogger(__name__)

ALL_READY = "all parts ready"
START_MARKER = "=== owstream supervisor: starting "
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class Status(StrEnum):
    PENDING = "pending"  # not started yet
    STARTING = "starting"  # running, ready check not passed yet
    READY = "ready"
    RESTARTING = "restarting"  # exited, waiting for its backoff delay
    FAILED = "failed"  # gave up: too many restarts, or not ready in time
    STOPPED = "stopped"


@dataclass(frozen=True)
class RestartPolicy:
    """At most ``max_restarts`` restarts within ``window`` seconds, after delays of 1 s, 2 s, 4 s...
    capped at ``max_delay``."""

    max_restarts: int = 5
    window: float = 300.0
    initial_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, recent_restarts: int) -> float:
        """Backoff before the next restart, given the restarts already made within the window."""
        return float(min(self.initial_delay * 2**recent_restarts, self.max_delay))


@dataclass
class PartSpec:
    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] | None = None  # None: the supervisor's environment
    ready: Callable[[int], bool] | None = None  # given the part's pid; None: ready as soon as it runs
    ready_timeout: float = 60.0
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    cwd: Path | None = None


@dataclass(frozen=True)
class PartState:
    name: str
    status: Status
    pid: int | None
    restarts: int
    log_path: Path
    exit_code: int | None  # of the last exit; negative: killed by that signal


def http_ready(url: str, timeout: float = 1.0) -> Callable[[int], bool]:
    """A ready check: GET ``url`` (a loopback address only) answers 200."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "http" or parsed.hostname not in _LOCAL_HOSTS:
        raise ValueError(f"http_ready checks loopback http URLs only, not {url!r}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # ignore *_proxy variables

    def check(_pid: int) -> bool:
        try:
            with opener.open(url, timeout=timeout) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    return check


def file_ready(path: Path) -> Callable[[int], bool]:
    """A ready check: the part wrote its own pid to ``path`` (``owstream run X --ready-file PATH`` does, once
    its Kafka clients are up). A file left by an earlier process of the part does not count."""

    def check(pid: int) -> bool:
        try:
            return path.read_text(encoding="ascii").strip() == str(pid)
        except (OSError, UnicodeDecodeError):
            return False

    return check


class _Part:
    """The mutable bookkeeping of one part; only the Supervisor touches it."""

    def __init__(self, spec: PartSpec) -> None:
        self.spec = spec
        self.status = Status.PENDING
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.restart_times: list[float] = []
        self.exit_code: int | None = None
        self.started_at = 0.0
        self.restart_at = 0.0

    def state(self) -> PartState:
        running = self.proc is not None and self.status in (Status.STARTING, Status.READY)
        pid = self.proc.pid if running and self.proc is not None else None
        return PartState(self.spec.name, self.status, pid, self.restarts, self.spec.log_path, self.exit_code)


class Supervisor:
    """Starts, watches, restarts and stops a sequence of parts. Thread-safe: ``poll()`` may run in a
    thread while another calls ``states()`` or ``stop()``."""

    def __init__(
        self,
        parts: Sequence[PartSpec],
        *,
        on_change: Callable[[PartState], None] | None = None,
        stop_timeout: float = 10.0,
        poll_interval: float = 0.1,
    ) -> None:
        names = [p.name for p in parts]
        if len(set(names)) != len(names):
            raise ValueError(f"part names must be unique: {names}")
        self._parts = [_Part(spec) for spec in parts]
        self.on_change = on_change  # may be replaced before start()
        self._stop_timeout = stop_timeout
        self._poll_interval = poll_interval
        self._lock = threading.RLock()
        self._stopping = threading.Event()

    # --- queries ---------------------------------------------------------------------------------
    def states(self) -> list[PartState]:
        with self._lock:
            return [part.state() for part in self._parts]

    def all_ready(self) -> bool:
        return all(s.status is Status.READY for s in self.states())

    def any_failed(self) -> bool:
        return any(s.status is Status.FAILED for s in self.states())

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> bool:
        """Start every part in order, each once the previous one is ready. False (and the remaining parts
        left pending) as soon as one fails or ``stop()`` is called."""
        for index, part in enumerate(self._parts):
            with self._lock:
                if self._stopping.is_set():
                    return False
                self._spawn(part)
            while True:
                with self._lock:
                    now = time.monotonic()
                    for earlier in self._parts[: index + 1]:
                        self._step(earlier, now)
                    status = part.status
                if status is Status.READY:
                    break
                if status is Status.FAILED or self._stopping.wait(self._poll_interval):
                    return False
        return True

    def poll(self) -> None:
        """One round of supervision: notice exits, schedule and perform restarts, check readiness."""
        with self._lock:
            if self._stopping.is_set():
                return
            now = time.monotonic()
            for part in self._parts:
                self._step(part, now)

    def stop(self) -> None:
        """Stop every part in reverse order; returns once no process of any part's group is left."""
        self._stopping.set()
        with self._lock:
            for part in reversed(self._parts):
                self._terminate(part, self._stop_timeout)
                if part.status is not Status.FAILED:
                    self._set(part, Status.STOPPED)

    def run_forever(
        self, *, on_tick: Callable[[], None] | None = None, on_ready: Callable[[], None] | None = None
    ) -> int:
        """Start, supervise until SIGINT/SIGTERM (or a part fails), stop. 0 after a signal, 1 on failure.
        Must run in the main thread (it installs signal handlers)."""
        received = threading.Event()

        def handler(signum: int, frame: FrameType | None) -> None:
            logger.info("received %s, stopping", signal.Signals(signum).name)
            received.set()
            self._stopping.set()

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            if self.start():
                if on_ready is not None:
                    on_ready()
                while not received.is_set() and not self.any_failed():
                    self.poll()
                    if on_tick is not None:
                        on_tick()
                    received.wait(self._poll_interval)
        finally:
            failed = self.any_failed()
            self.stop()
            for sig, old in previous.items():
                signal.signal(sig, old)
        return 1 if failed else 0

    # --- internals (called with the lock held) ---------------------------------------------------
    def _set(self, part: _Part, status: Status) -> None:
        part.status = status
        state = part.state()
        logger.debug("%s: %s (pid %s)", state.name, state.status, state.pid)
        if self.on_change is not None:
            try:
                self.on_change(state)
            except Exception:
                logger.exception("on_change callback failed for %s", state.name)

    def _spawn(self, part: _Part) -> None:
        spec = part.spec
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with spec.log_path.open("ab") as log:
            log.write(f"\n{START_MARKER}{spec.name} at {stamp} ===\n".encode())
            log.flush()
            part.proc = subprocess.Popen(
                spec.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=spec.env,
                cwd=spec.cwd,
                start_new_session=True,
            )
        part.started_at = time.monotonic()
        self._set(part, Status.STARTING)

    def _step(self, part: _Part, now: float) -> None:
        if part.status is Status.RESTARTING and now >= part.restart_at:
            part.restarts += 1
            part.restart_times.append(now)
            self._spawn(part)
            return
        if part.proc is None or part.status not in (Status.STARTING, Status.READY):
            return
        code = part.proc.poll()
        if code is not None:
            self._exited(part, code, now)
        elif part.status is Status.STARTING:
            self._check_ready(part, now)

    def _check_ready(self, part: _Part, now: float) -> None:
        check = part.spec.ready
        assert part.proc is not None
        try:
            ready = check is None or check(part.proc.pid)
        except Exception:
            logger.exception("ready check of %s raised", part.spec.name)
            ready = False
        if ready:
            self._set(part, Status.READY)
        elif now - part.started_at > part.spec.ready_timeout:
            logger.error("%s not ready after %.0f s", part.spec.name, part.spec.ready_timeout)
            self._terminate(part, self._stop_timeout)
            self._set(part, Status.FAILED)

    def _exited(self, part: _Part, code: int, now: float) -> None:
        assert part.proc is not None
        part.exit_code = code
        signal_group(part.proc.pid, signal.SIGKILL)  # leftovers of the dead leader's group
        policy = part.spec.restart
        recent = [t for t in part.restart_times if now - t < policy.window]
        part.restart_times = recent
        if len(recent) >= policy.max_restarts:
            logger.error("%s exited with %s; %d restarts within %.0f s, giving up",
                         part.spec.name, code, len(recent), policy.window)  # fmt: skip
            self._set(part, Status.FAILED)
            return
        delay = policy.delay(len(recent))
        logger.warning("%s exited with %s; restarting in %.1f s", part.spec.name, code, delay)
        part.restart_at = now + delay
        self._set(part, Status.RESTARTING)

    def _terminate(self, part: _Part, timeout: float) -> None:
        proc = part.proc
        if proc is None:
            return
        was_running = proc.poll() is None
        stop_group(proc.pid, timeout, name=part.spec.name, reap=proc.poll)  # its pid is the group id
        proc.wait()
        if was_running:
            part.exit_code = proc.returncode


# --- status view -----------------------------------------------------------------------------------
_STYLES = {
    Status.PENDING: "dim",
    Status.STARTING: "yellow",
    Status.READY: "green",
    Status.RESTARTING: "magenta",
    Status.FAILED: "bold red",
    Status.STOPPED: "dim",
}


def render(states: Sequence[PartState]) -> Table:
    """The status table: one row per part."""
    ready = bool(states) and all(s.status is Status.READY for s in states)
    table = Table(title="owstream", title_justify="left", caption=ALL_READY if ready else None)
    for column in ("part", "status", "pid", "restarts", "last exit", "log"):
        table.add_column(column, no_wrap=column != "log")
    for s in states:
        table.add_row(
            s.name,
            f"[{_STYLES[s.status]}]{s.status.value}[/]",
            "" if s.pid is None else str(s.pid),
            str(s.restarts),
            "" if s.exit_code is None else str(s.exit_code),
            str(s.log_path),
        )
    return table


def format_line(state: PartState) -> str:
    """One plain status line, e.g. ``fetcher: ready (pid 123)``."""
    extra = f"pid {state.pid}" if state.pid is not None else "no process"
    if state.exit_code is not None and state.status in (Status.RESTARTING, Status.FAILED):
        extra += f", exit {state.exit_code}"
    if state.status is Status.FAILED:
        extra += f", see {state.log_path}"
    return f"{state.name}: {state.status.value} ({extra})"


class LineReporter:
    """``on_change`` callback that writes one line per change, and ``all parts ready`` each time every
    part has become ready."""

    def __init__(self, names: Sequence[str], stream: IO[str]) -> None:
        self._latest: dict[str, Status] = dict.fromkeys(names, Status.PENDING)
        self._stream = stream
        self._all_ready = False

    def __call__(self, state: PartState) -> None:
        self._latest[state.name] = state.status
        lines = [format_line(state)]
        all_ready = all(s is Status.READY for s in self._latest.values())
        if all_ready and not self._all_ready:
            lines.append(ALL_READY)
        self._all_ready = all_ready
        self._stream.write("".join(f"{line}\n" for line in lines))
        self._stream.flush()


def supervise(
    parts: Sequence[PartSpec],
    *,
    console: Console | None = None,
    stop_timeout: float = 10.0,
    on_ready: Callable[[], None] | None = None,
    on_change: Callable[[PartState], None] | None = None,
) -> int:
    """Run ``parts`` until SIGINT/SIGTERM with a live Rich table on a terminal, plain lines otherwise;
    ``on_change`` hears every change of a part too. Returns the exit status for the CLI: 0 after a signal,
    1 when a part failed."""
    console = console or Console()

    def also(view: Callable[[PartState], None]) -> Callable[[PartState], None]:
        if on_change is None:
            return view

        def both(state: PartState) -> None:
            view(state)
            on_change(state)

        return both

    if not console.is_terminal:
        reporter = LineReporter([p.name for p in parts], console.file)
        return Supervisor(parts, on_change=also(reporter), stop_timeout=stop_timeout).run_forever(on_ready=on_ready)
    supervisor = Supervisor(parts, stop_timeout=stop_timeout)
    with Live(render(supervisor.states()), console=console, refresh_per_second=4) as live:

        def refresh(_: PartState | None = None) -> None:
            live.update(render(supervisor.states()))

        supervisor.on_change = also(refresh)
        code = supervisor.run_forever(on_tick=refresh, on_ready=on_ready)
        refresh()
    for state in supervisor.states():
        if state.status is Status.FAILED:
            console.print(format_line(state), style="red", highlight=False)
    return code
