"""Process liveness and stopping, for the parts owstream starts in their own sessions (the local broker's
JVMs, the supervisor's children): one answer to "is it still running?" and one way to stop a group; and what
they cost (PSS, threads), for the benchmarks and docs/broker.md; and the files they leave for others to read
(a ready file, the runtime file, the simulator's state), replaced at once."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (a child of ours that exited is reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError):
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies do not count)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for stat in proc.glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop_group(pgid: int, timeout: float, *, name: str, reap: Callable[[], object] | None = None) -> bool:
    """SIGTERM to a process group (a leader started with ``start_new_session``: its pid is the group id),
    SIGKILL to what is left after ``timeout`` seconds; returns once no process of the group runs.
    ``reap`` collects the leader's exit (``Popen.poll``, which keeps its exit status); by default
    :func:`alive` reaps it. True if the group stopped on SIGTERM."""
    collect = reap if reap is not None else (lambda: alive(pgid))

    def gone() -> bool:
        collect()
        return not group_alive(pgid)

    if gone():
        return True
    signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone():
            return True
        time.sleep(0.05)
    log.warning("%s did not stop within %.0f s of SIGTERM: killing it", name, timeout)
    signal_group(pgid, signal.SIGKILL)
    kill_deadline = time.monotonic() + 10.0
    while time.monotonic() < kill_deadline and not gone():
        time.sleep(0.05)
    return False


def pss_of(pid: int) -> int:
    """The proportional set size of a process, in bytes: the memory it uses, each shared page divided among
    the processes that map it (``Pss`` of ``/proc/<pid>/smaps_rollup``), so that the PSS of several processes
    adds up to what they use together. 0 when the process is gone or cannot be read."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def threads_of(pid: int) -> int:
    """How many threads a process runs (0 when it is gone)."""
    try:
        return len(list(Path(f"/proc/{pid}/task").iterdir()))
    except OSError:
        return 0


def descendants(pid: int) -> list[int]:
    """Every living process below ``pid`` (children, their children, ...), by the parent ids of /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` (same file system), then rename it over ``path``;
    the folder is made if missing. A failure leaves ``path`` as it was and no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
