"""Fixtures of the compose tests: the compose client on the test project, and the stack up (composetools.py
says how the commands are run)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from composetools import HERE, Compose, compose_command

from owstream.localkafka import free_port


@pytest.fixture(scope="session")
def compose(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Compose]:
    """The compose client on the test project, which is taken down (volumes too) before and after."""
    argv = compose_command()
    if argv is None:
        pytest.fail("no Docker Compose v2 client: run these tests with `make compose-test`, which provides one")
    directory = tmp_path_factory.mktemp("compose")
    client = Compose(argv, directory / "test.env", {})
    if os.environ.get("OWSTREAM_COMPOSE_ENGINE") == "own":
        client.files.append(HERE / "offline.yaml")
    client.write_settings(
        # the offline demo: the simulator as OverFast, its players moving on every minute
        COMPOSE_PROFILES="demo",
        OWSTREAM_OVERFAST_URL="http://simulator:8080",
        OWSTREAM_REFRESH_INTERVAL="60",
        OWSTREAM_OVERFAST_CACHE_SECONDS="60",
        OWSTREAM_DASHBOARD_PORT=str(free_port()),  # never the default 8501 of a developer's dashboard
    )
    down = ("--profile", "demo", "--profile", "postgres", "down", "--volumes", "--remove-orphans")
    client(*down, timeout=300)
    try:
        yield client
    finally:
        client(*down, check=False, timeout=300)


@pytest.fixture(scope="session")
def stack(compose: Compose) -> Compose:
    """The stack up with the demo profile: ``up -d --build --wait`` must exit 0 (every container healthy)."""
    began = time.monotonic()
    result = compose("up", "-d", "--build", "--wait", "--wait-timeout", "600", timeout=1800)
    print(f"\nup --build --wait: {time.monotonic() - began:.0f} s")
    assert result.returncode == 0
    return compose
