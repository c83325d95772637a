"""Helpers for pipeline tests: run the fetcher and processor in threads, request fetches, wait."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from owstream.config import Settings
from owstream.services.requests import RequestState, RequestTracker
from support.replay_server import RESPONSES, RESPONSES2


def request_and_wait(settings: Settings, player_id: str, *, force: bool = False, timeout: float = 60) -> RequestState:
    tracker = RequestTracker(settings, player_id, force=force, source="test")
    try:
        state = tracker.wait(timeout=timeout)
    finally:
        tracker.close()
    assert state.done, f"{player_id}: still {state.state} after {timeout} s"
    return state


def recorded_json(name: str) -> Any:
    for directory in (RESPONSES, RESPONSES2):
        path: Path = directory / name
        if path.exists():
            return json.loads(path.read_text())
    raise FileNotFoundError(name)


def wait_for(predicate: Any, timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy (bounded; not a sleep standing in for sync)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
