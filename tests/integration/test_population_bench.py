"""The population benchmark's counting on a tiny run through the real pipeline (the session's broker): the calls it
reports are the simulator's own counters, and each one is a call the fetch plan makes for a refresh the benchmark
saw stored; every game played was seen and every stored number is the simulator's. (Its figures are measured by
``owstream bench --only population``, never asserted.)"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from owstream.cli.bench import BENCH_DIR
from owstream.config import Settings
from owstream.simulator import data as simdata

pytestmark = pytest.mark.kafka

START = float(simdata.BASE_TIME)
DAYS = 0.25  # 6 simulated hours: 36 refreshes of every player before issue 23
SEED = 13  # one of its 8 players plays 2 competitive games on pc, then 1 of quickplay on console, in those hours


@pytest.fixture(scope="module")
def bench() -> Iterator[Any]:
    sys.path.insert(0, str(BENCH_DIR))
    try:
        import bench_population

        yield bench_population
    finally:
        sys.path.remove(str(BENCH_DIR))


@pytest.mark.parametrize("new", [False, True], ids=["before", "after"])
def test_the_population_benchmark_counts_what_the_simulator_served(bench: Any, kafka: Settings, new: bool) -> None:
    name = f"{kafka.topic_prefix}-{'after' if new else 'before'}"
    raw = bench.phase(kafka.replace(rate_limit=10_000.0), name, 8, DAYS, SEED, START, new=new)
    simulator = raw["simulator"]
    public = [pid for pid in simulator.player_ids() if pid not in simulator.private_player_ids()]
    refreshes = {pid: len(raw["fetched"].get(pid, [])) for pid in simulator.player_ids()}
    # what the benchmark reports is what the simulator counted, player by player
    assert raw["calls"] == Counter(endpoint for (_pid, endpoint), n in raw["by_player"].items() for _ in range(n))
    assert set(raw["calls"]) == {"summary", "stats"}  # the searches were the first fetch's, not counted
    # each refresh it saw stored asked one summary; the stats are those the plan asks for it
    assert raw["calls"]["summary"] == sum(refreshes.values()) == sum(raw["outcomes"].values())
    for pid in public:
        platforms = len(simulator.player(pid).platforms)
        asked = refreshes[pid] if not new else raw["results"].changed_by_player[pid]
        assert raw["by_player"][(pid, "stats")] == 2 * platforms * asked, pid
    if not new:  # every player every 600 s
        assert set(refreshes.values()) == {DAYS * 86400 // 600}
    else:  # only the one who played asked its stats again
        assert [pid for pid in public if raw["results"].changed_by_player[pid]] == ["Tidepool-90674"]
    # each refresh's result is on fetch-results once (the private one's apart: not "ok")
    assert raw["results"].count == sum(refreshes[pid] for pid in public)
    # nothing played was missed (2 play sessions; 3 of owstream's: each game was stored by a refresh of its own),
    # and every number stored is the simulator's
    truth = raw["truth"]
    assert truth.games == truth.games_seen == 3 and truth.sessions == 2 and raw["sessions"] == 3
    assert raw["checked"] == len(public) and raw["wrong"] == [] and raw["unasked"] == []
