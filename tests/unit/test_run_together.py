"""``owstream run services``: several services in one process; one dying ends them all, so none is left dead."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from owstream.services.runner import Ready, run_together


class Waits:
    """Says it is ready, then serves until asked to stop; remembers whether it was stopped."""

    def __init__(self) -> None:
        self.stopped = False

    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        if ready is not None:
            ready()
        stop.wait()
        self.stopped = True


class Dies:
    def __init__(self, after: threading.Event) -> None:
        self.after = after

    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        self.after.wait(10)
        raise RuntimeError("boom")


class Returns:
    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        return None


class Signals:
    """Ready, then sends SIGTERM to its own process, as the supervisor stopping `up` would."""

    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        if ready is not None:
            ready()
        os.kill(os.getpid(), signal.SIGTERM)
        stop.wait()


def test_a_dead_service_stops_the_others_and_the_exit_status_says_so(tmp_path: Path) -> None:
    ready = tmp_path / "services.ready"
    first, second = Waits(), Waits()
    go = threading.Event()
    go.set()
    status = run_together({"a": first, "b": second, "c": Dies(go)}, ready_file=ready)
    assert status == 1
    assert first.stopped and second.stopped
    assert not ready.exists()  # "c" never said it was ready: nor did the process


def test_a_service_that_returns_unasked_counts_as_dead() -> None:
    waits = Waits()
    assert run_together({"a": waits, "b": Returns()}) == 1
    assert waits.stopped


def test_sigterm_stops_all_cleanly_after_all_were_ready(tmp_path: Path) -> None:
    ready = tmp_path / "services.ready"
    waits = Waits()
    before = signal.getsignal(signal.SIGTERM)
    assert run_together({"a": waits, "b": Signals()}, ready_file=ready) == 0
    assert waits.stopped
    assert ready.read_text().strip() == str(os.getpid())
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back
