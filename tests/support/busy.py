"""A machine kept busy: spinning processes, as many as it takes for a load average of 7 or more on 2 cores (the
load the failed ``make test`` runs saw), each in its own process group, all killed when the block ends (also
when the test fails or times out: the fixture's teardown runs)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

SPIN = "while True:\n    pass\n"
DEFAULT = 8  # on 2 cores: a load average of ~8 once it has settled, ~7 within a minute


@contextlib.contextmanager
def busy_cpus(processes: int = DEFAULT) -> Iterator[list[int]]:
    """Keep ``processes`` processes spinning for the block; yields their pids."""
    spinners: list[subprocess.Popen[bytes]] = []
    try:
        argv = [sys.executable, "-c", SPIN]
        for _ in range(processes):
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
            spinners.append(proc)
        yield [p.pid for p in spinners]
    finally:
        for proc in spinners:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in spinners:
            proc.wait(10)
