"""The fast part of ``make reliability``, in the default suite: a processor and a fetcher killed with SIGKILL,
the poison set, and a 15-second broker outage (longer than the groups' session timeout), on a broker of this
module's own (it is stopped), with the services as real processes, counted from outside with kcat and SQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability import scenarios
from reliability.runner import render, run_scenario
from reliability.stack import Cluster, Profile

pytestmark = pytest.mark.kafka

FAST = {s.name: s for s in scenarios.fast()}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root: Path = tmp_path_factory.mktemp("reliability")
    stack = Cluster(root, Profile("fast", brokers=1, postgres=False, players=30)).start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.mark.parametrize("name", list(FAST))
def test_nothing_lost_nothing_twice_every_event_and_every_service_alive(cluster: Cluster, name: str) -> None:
    row = run_scenario(cluster, FAST[name])
    assert row.ok, render([row]) + "\n" + "\n".join(row.notes)
    assert row.stored == row.messages
