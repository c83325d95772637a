"""The process supervisor, with real child processes (small ``python -c`` scripts)."""

from __future__ import annotations

import io
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console

from owstream.runtime.supervisor import (
    ALL_READY,
    LineReporter,
    PartSpec,
    PartState,
    RestartPolicy,
    Status,
    Supervisor,
    file_ready,
    http_ready,
    render,
)

SRC = Path(__file__).resolve().parents[2] / "src"
FAST = RestartPolicy(max_restarts=3, window=600, initial_delay=0.01, max_delay=0.05)

SLEEPER = """
import signal
print("up", flush=True)
signal.pause()
"""

# Says it is ready the way `owstream run X --ready-file F` does: its pid, written to the file.
READY_SLEEPER = """
import os, signal, sys
from pathlib import Path
print("up", flush=True)  # logged before it says ready, as a service does: ready means the log has it
Path(sys.argv[1]).write_text(str(os.getpid()))
signal.pause()
"""

HTTP_SERVER = """
import http.server, sys
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""

CHECKS_URL_AT_START = """
import os, sys, urllib.request, signal
from pathlib import Path
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
if opener.open(sys.argv[1], timeout=5).status == 200:
    Path(sys.argv[2]).write_text(str(os.getpid()))
signal.pause()
"""

EXITS_WHEN_FILE_EXISTS = """
import sys, time
from pathlib import Path
while not Path(sys.argv[1]).exists():
    time.sleep(0.01)
sys.exit(3)
"""

# The child and its grandchild both ignore SIGTERM: only the SIGKILL to the group ends them.
STUBBORN_WITH_GRANDCHILD = """
import signal, subprocess, sys
from pathlib import Path
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c",
    "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('gc', flush=True); signal.pause()"],
    stdout=subprocess.PIPE)
grandchild.stdout.readline()
Path(sys.argv[1]).write_text(str(grandchild.pid))
import os
Path(sys.argv[2]).write_text(str(os.getpid()))
signal.pause()
"""


def py(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code), *args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def alive(pid: int) -> bool:
    """Running (not a zombie): the /proc entry exists and its state is not Z."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(predicate: Callable[[], bool], sup: Supervisor | None = None, timeout: float = 30.0) -> None:
    """Poll (and drive the supervisor) until the predicate holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sup is not None:
            sup.poll()
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def state(sup: Supervisor, name: str) -> PartState:
    return next(s for s in sup.states() if s.name == name)


@pytest.fixture
def make() -> Iterator[Callable[..., Supervisor]]:
    created: list[Supervisor] = []

    def factory(parts: list[PartSpec], **kwargs: object) -> Supervisor:
        sup = Supervisor(parts, **kwargs)  # type: ignore[arg-type]
        created.append(sup)
        return sup

    yield factory
    for sup in created:
        sup.stop()


def test_restart_delays_double_up_to_the_cap() -> None:
    policy = RestartPolicy(initial_delay=1.0, max_delay=8.0)
    assert [policy.delay(n) for n in range(6)] == [1, 2, 4, 8, 8, 8]


def test_parts_start_in_order_each_after_the_previous_is_ready(tmp_path: Path, make: Callable[..., Supervisor]) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/health"
    events: list[tuple[str, Status]] = []
    web = PartSpec("web", py(HTTP_SERVER, str(port)), tmp_path / "web.log", ready=http_ready(url))
    ready = tmp_path / "client.ready"
    client = PartSpec("client", py(CHECKS_URL_AT_START, url, str(ready)), tmp_path / "client.log",
                      ready=file_ready(ready))  # fmt: skip
    sup = make([web, client], on_change=lambda s: events.append((s.name, s.status)))

    assert sup.start()

    assert events == [
        ("web", Status.STARTING),
        ("web", Status.READY),
        ("client", Status.STARTING),
        ("client", Status.READY),
    ]
    assert sup.all_ready()
    assert all(s.pid is not None and alive(s.pid) for s in sup.states())


def test_a_part_not_ready_in_time_fails_and_later_parts_stay_pending(
    tmp_path: Path, make: Callable[..., Supervisor]
) -> None:
    pids: list[int] = []
    never = PartSpec("never", py(SLEEPER), tmp_path / "never.log", ready=lambda _pid: False, ready_timeout=0.2)
    later = PartSpec("later", py(SLEEPER), tmp_path / "later.log")
    sup = make([never, later], on_change=lambda s: pids.append(s.pid) if s.pid else None)

    assert not sup.start()

    assert [s.status for s in sup.states()] == [Status.FAILED, Status.PENDING]
    assert len(pids) == 1 and not alive(pids[0])
    assert state(sup, "later").pid is None


def test_a_killed_part_is_restarted_with_a_new_pid(tmp_path: Path, make: Callable[..., Supervisor]) -> None:
    seen: list[PartState] = []
    log, ready = tmp_path / "svc.log", tmp_path / "svc.ready"
    spec = PartSpec("svc", py(READY_SLEEPER, str(ready)), log, ready=file_ready(ready), restart=FAST)
    sup = make([spec], on_change=seen.append)
    assert sup.start()
    old_pid = state(sup, "svc").pid
    assert old_pid is not None

    os.kill(old_pid, signal.SIGKILL)
    wait_for(lambda: state(sup, "svc").status is Status.READY and state(sup, "svc").pid != old_pid, sup)

    now = state(sup, "svc")
    assert now.restarts == 1
    assert now.exit_code == -signal.SIGKILL
    assert now.pid is not None and alive(now.pid) and not alive(old_pid)
    assert Status.RESTARTING in [s.status for s in seen]
    assert log.read_text().count("up\n") == 2  # both runs append to one log


def test_a_part_that_keeps_exiting_fails_after_max_restarts(tmp_path: Path, make: Callable[..., Supervisor]) -> None:
    trigger = tmp_path / "exit-now"
    policy = RestartPolicy(max_restarts=2, window=600, initial_delay=0.01, max_delay=0.02)
    spec = PartSpec("flaky", py(EXITS_WHEN_FILE_EXISTS, str(trigger)), tmp_path / "f.log", restart=policy)
    sup = make([spec])
    assert sup.start()
    assert state(sup, "flaky").status is Status.READY

    trigger.touch()
    wait_for(lambda: state(sup, "flaky").status is Status.FAILED, sup)

    failed = state(sup, "flaky")
    assert failed.restarts == 2
    assert failed.exit_code == 3
    assert failed.pid is None
    sup.poll()  # a failed part is not restarted again
    assert state(sup, "flaky").restarts == 2


def test_restarts_outside_the_window_do_not_count(tmp_path: Path, make: Callable[..., Supervisor]) -> None:
    policy = RestartPolicy(max_restarts=1, window=0.0, initial_delay=0.01, max_delay=0.01)
    sup = make([PartSpec("svc", py(SLEEPER), tmp_path / "svc.log", restart=policy)])
    assert sup.start()
    for expected in (1, 2, 3):
        pid = state(sup, "svc").pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda n=expected: state(sup, "svc").restarts == n, sup)  # type: ignore[misc]
        wait_for(lambda: state(sup, "svc").status is Status.READY, sup)
    assert state(sup, "svc").status is Status.READY


def test_stop_kills_the_whole_group_even_when_sigterm_is_ignored(
    tmp_path: Path, make: Callable[..., Supervisor]
) -> None:
    gc_file = tmp_path / "grandchild.pid"
    ready = tmp_path / "stubborn.ready"
    spec = PartSpec("stubborn", py(STUBBORN_WITH_GRANDCHILD, str(gc_file), str(ready)), tmp_path / "stubborn.log",
                    ready=file_ready(ready))  # fmt: skip
    sup = make([spec], stop_timeout=0.3)
    assert sup.start()
    child = state(sup, "stubborn").pid
    grandchild = int(gc_file.read_text())
    assert child is not None and alive(child) and alive(grandchild)
    assert os.getpgid(grandchild) == child  # same process group as the part

    sup.stop()

    assert not alive(child)
    assert not alive(grandchild)
    assert state(sup, "stubborn").status is Status.STOPPED
    assert state(sup, "stubborn").exit_code == -signal.SIGKILL


def test_stop_goes_in_reverse_order_and_uses_sigterm_first(tmp_path: Path, make: Callable[..., Supervisor]) -> None:
    events: list[tuple[str, Status]] = []
    parts = [PartSpec(n, py(SLEEPER), tmp_path / f"{n}.log") for n in ("a", "b", "c")]
    sup = make(parts, on_change=lambda s: events.append((s.name, s.status)))
    assert sup.start()
    pids = [s.pid for s in sup.states()]

    sup.stop()

    assert [e for e in events if e[1] is Status.STOPPED] == [
        ("c", Status.STOPPED),
        ("b", Status.STOPPED),
        ("a", Status.STOPPED),
    ]
    assert all(s.exit_code == -signal.SIGTERM for s in sup.states())
    assert not any(alive(p) for p in pids if p is not None)


def test_file_ready_counts_only_the_pid_of_the_current_process(tmp_path: Path) -> None:
    path = tmp_path / "x.ready"
    check = file_ready(path)
    assert not check(123)  # no file yet
    path.write_text("123")
    assert check(123)
    assert not check(456)  # written by an earlier process of the part: a restart is not ready yet
    path.write_bytes(b"\xff\xfe")
    assert not check(123)


def test_http_ready_is_loopback_only_and_false_when_nothing_listens() -> None:
    with pytest.raises(ValueError, match="loopback"):
        http_ready("http://example.com/health")
    with pytest.raises(ValueError, match="loopback"):
        http_ready("https://127.0.0.1/health")
    assert http_ready(f"http://127.0.0.1:{free_port()}/health")(0) is False


def test_line_reporter_says_all_parts_ready_once_per_transition() -> None:
    out = io.StringIO()
    reporter = LineReporter(["a", "b"], out)
    log = Path("/tmp/x.log")

    def st(name: str, status: Status, pid: int | None) -> PartState:
        return PartState(name, status, pid, 0, log, None)

    reporter(st("a", Status.READY, 1))
    reporter(st("b", Status.STARTING, 2))
    reporter(st("b", Status.READY, 2))
    reporter(st("a", Status.RESTARTING, None))
    reporter(st("a", Status.READY, 3))
    lines = out.getvalue().splitlines()
    assert lines[:4] == ["a: ready (pid 1)", "b: starting (pid 2)", "b: ready (pid 2)", ALL_READY]
    assert lines.count(ALL_READY) == 2


def test_render_shows_each_part_status_and_log(tmp_path: Path) -> None:
    states = [
        PartState("fetcher", Status.READY, 42, 0, tmp_path / "fetcher.log", None),
        PartState("processor", Status.FAILED, None, 5, tmp_path / "processor.log", 2),
    ]
    console = Console(record=True, width=200)
    console.print(render(states))
    text = console.export_text()
    assert re.search(r"fetcher\s+│\s+ready\s+│\s+42", text)
    assert re.search(r"processor\s+│\s+failed\s+│\s+│\s+5\s+│\s+2", text)
    assert "processor.log" in text


RUN_SUPERVISE = """
import sys
from pathlib import Path
from rich.console import Console
from owstream.runtime.supervisor import PartSpec, supervise
tmp = Path(sys.argv[1])
code = "import signal; print('up', flush=True); signal.pause()"
parts = [PartSpec(n, [sys.executable, "-c", code], tmp / f"{n}.log") for n in ("first", "second")]
console = Console(force_terminal=True, width=160) if sys.argv[2:] == ["tty"] else None
sys.exit(supervise(parts, console=console))
"""


def read_lines_until(proc: subprocess.Popen[str], marker: str, timeout: float = 30.0) -> list[str]:
    """Lines of ``proc``'s stdout up to ``marker``; the rest stays readable. A reader thread keeps the wait
    bounded."""
    assert proc.stdout is not None
    stdout = proc.stdout
    found: queue.Queue[list[str]] = queue.Queue()

    def reader() -> None:
        lines: list[str] = []
        for line in stdout:
            lines.append(line.rstrip("\n"))
            if marker in lines[-1]:
                break
        found.put(lines)

    threading.Thread(target=reader, daemon=True).start()
    try:
        lines = found.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no {marker!r} line within {timeout} s") from None
    assert lines and marker in lines[-1], f"output ended before {marker!r}: {lines}"
    return lines


def end(proc: subprocess.Popen[str]) -> None:
    """After a failed assertion: stop the supervisor (it stops its parts), SIGKILL only as a last resort."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_supervise_prints_plain_lines_and_stops_everything_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(py(RUN_SUPERVISE, str(tmp_path)), stdout=subprocess.PIPE, text=True, env=env)
    try:
        lines = read_lines_until(proc, ALL_READY)
        pids = [int(m.group(1)) for line in lines if (m := re.search(r": ready \(pid (\d+)\)", line))]
        assert [line.split(":")[0] for line in lines if ": ready" in line] == ["first", "second"]
        assert len(pids) == 2 and all(alive(p) for p in pids)

        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        end(proc)
    assert proc.returncode == 0
    assert "second: stopped (no process)\nfirst: stopped (no process)" in out
    assert not any(alive(p) for p in pids)


def test_supervise_on_a_terminal_shows_the_live_table(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    argv = py(RUN_SUPERVISE, str(tmp_path), "tty")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    try:
        lines = read_lines_until(proc, ALL_READY)
        assert any("first" in line and "ready" in line for line in lines)
        assert any(str(tmp_path / "second.log") in line for line in lines)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        end(proc)
    assert proc.returncode == 0
    assert "stopped" in out
