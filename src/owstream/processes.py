"""Process liveness and stopping, for the parts owstream starts in their own sessions (the local broker's
JVMs, the supervisor's children): one answer to "is it still running?" and one way to stop a group."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
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
