"""The fast part of ``make reliability``, in the default suite: a processor and a fetcher killed with SIGKILL
with work in flight, the poison set, and a 15-second broker outage (longer than the groups' session timeout),
on a broker of this module's own (it is stopped), with the services as real processes, counted from outside
with kcat and SQL against the ids the harness sent; and the harness's own checks: a request lost before it
reached the topic is counted lost, a kill with nothing in flight fails its run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability import scenarios, windows
from reliability.pipeline import MissedWindowError, Pipeline
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
    assert row.stored == row.messages  # what the harness sent (and the scheduler's) against what the store holds


def test_a_request_lost_before_the_topic_is_counted_lost(cluster: Cluster) -> None:
    pipeline = Pipeline(cluster, "dropped at the first hop")
    try:
        pipeline.start()
        pipeline.send(20, drop=1)  # kept as sent, never produced: what a lost produce looks like from outside
        outcome = pipeline.finish(catch_up=120, settle=0)
    finally:
        pipeline.close()
    dropped = pipeline.sent_ids[-1]
    assert outcome.caught_up  # everything that reached the topic was answered
    assert (outcome.counts.lost, outcome.counts.duplicated) == (1, 0), outcome.notes
    assert outcome.counts.stored == outcome.counts.messages - 1
    assert any(note.startswith(f"{dropped}: on the topic 0x") for note in outcome.notes), outcome.notes


def test_a_kill_outside_its_window_fails_the_run(cluster: Cluster) -> None:
    pipeline = Pipeline(cluster, "killed with nothing in flight")
    try:
        pipeline.start()
        pipeline.service("scheduler").stop()  # no new work: whatever is sent is all there is
        pipeline.service("scheduler").retired = True
        pipeline.send(10)
        pipeline.wait_stored(10)
        victim = pipeline.service("processor")
        group = [victim]
        with pytest.raises(MissedWindowError, match="never results not yet stored in 3 tries"):
            windows.kill_with_work(pipeline, victim, group, windows.answered_not_stored, "results not yet stored", 3)
        assert victim.alive and pipeline.window is None  # not killed: the run fails instead
    finally:
        pipeline.close()
