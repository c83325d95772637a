"""``owstream run``: one service, or several sharing one process (how compose.yaml runs the scheduler, the meta
and the notifier), never the dashboard with another; a ready file says ready only for the process that runs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from owstream.services.runner import SERVICES, Ready, run_foreground, service_names


def test_services_are_each_started_once_in_the_order_asked_and_services_means_all_five() -> None:
    assert service_names(["scheduler", "meta", "notifier"]) == ["scheduler", "meta", "notifier"]
    assert service_names(["meta", "services", "meta"]) == ["meta", *(s for s in SERVICES if s != "meta")]
    with pytest.raises(ValueError, match="dashboard"):
        service_names(["fetcher", "dashboard"])


def test_the_dashboard_does_not_share_a_process_and_says_so() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "owstream.cli", "run", "dashboard", "fetcher"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "OWSTREAM_KAFKA_BOOTSTRAP": "127.0.0.1:9"},
    )  # fmt: skip
    assert run.returncode == 1
    assert "the dashboard runs in a process of its own" in run.stderr


class SeesTheReadyFile:
    """Notes whether the ready file is there when it starts, then says it is ready and returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.there_at_start: bool | None = None

    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        self.there_at_start = self.path.exists()
        if ready is not None:
            ready()


def test_a_ready_file_left_by_an_earlier_run_is_gone_until_this_process_is_ready(tmp_path: Path) -> None:
    ready = tmp_path / "owstream.ready"
    ready.write_text("12345")  # a container restarted in place keeps the file of its last run
    service = SeesTheReadyFile(ready)
    run_foreground(service, ready_file=ready)
    assert service.there_at_start is False
    assert ready.read_text() == str(os.getpid())
