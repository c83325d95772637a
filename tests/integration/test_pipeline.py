"""Request -> fetcher -> fetch-results -> processor -> store, on the real broker, against the replay
server of the recorded OverFast responses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from owstream.bus import Consumer, Producer, TopicNames
from owstream.config import Settings
from owstream.messages import codec
from owstream.messages.models import CheckedResult, FetchRequest, new_id
from owstream.services.fetcher import Fetcher
from owstream.services.processor import Processor
from owstream.services.runner import in_background
from owstream.store import Store
from support.pipeline import recorded_json, request_and_wait, wait_for
from support.replay_server import ReplayServer

pytestmark = pytest.mark.kafka

FULL_PLAYERS = ["TeKrop-2217", "KIRIKO-12460", "JohnV1-1190"]


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture
def settings(kafka: Settings, replay: ReplayServer) -> Settings:
    return kafka.replace(overfast_url=replay.url, rate_limit=50.0)


@pytest.fixture
def pipeline(settings: Settings) -> Iterator[Store]:
    store = Store.open(settings.resolved_store_url)
    with in_background([Fetcher(settings), Processor(settings, store)]) as died:
        yield store
        assert died() == []
    store.close()


def _results(settings: Settings, want: int) -> list[tuple[CheckedResult, dict[str, Any]]]:
    """The next ``want`` results on fetch-results: checked, and as the JSON any Kafka client reads."""
    names = TopicNames(settings.topic_prefix)
    consumer = Consumer(settings, names.group("test-reader"), [names.fetch_results])
    got: list[tuple[CheckedResult, dict[str, Any]]] = []
    try:
        wait_for(
            lambda: (
                got.extend((codec.decode_result(r.value), json.loads(r.value)) for r in consumer.poll_batch(100, 0.5))
                or len(got) >= want
            )
        )
    finally:
        consumer.close()
    return got


def test_recorded_players_come_out_equal_to_the_recorded_json(settings: Settings, pipeline: Store) -> None:
    states = {pid: request_and_wait(settings, pid) for pid in [*FULL_PLAYERS, "Player-137712", "Unknown-1234"]}

    assert {pid: st.outcome for pid, st in states.items()} == {
        "TeKrop-2217": "ok",
        "KIRIKO-12460": "ok",
        "JohnV1-1190": "ok",
        "Player-137712": "private",
        "Unknown-1234": "not_found",
    }
    assert states["Unknown-1234"].retry_after == 600

    results = {checked.player_id: (checked, as_json) for checked, as_json in _results(settings, 5)}
    for pid in FULL_PLAYERS:
        checked, as_json = results[pid]
        assert as_json["summary"] == recorded_json(f"players_{pid}_summary.json")  # OverFast's JSON as it came
        assert as_json["stats"] == {}  # asked per platform, never summed
        for platform, modes in as_json["platform_stats"].items():
            for mode in ("competitive", "quickplay"):
                assert modes[mode] == recorded_json(f"players_{pid}_stats_summary_{mode}_{platform}.json")
        assert checked.cache_headers.get("x-cache-ttl") == "600"
    assert set(results["KIRIKO-12460"][1]["platform_stats"]) == {"pc", "console"}
    assert set(results["TeKrop-2217"][1]["platform_stats"]) == {"pc"}
    assert results["Player-137712"][0].stats == {} and results["Player-137712"][0].platform_stats == {}

    for pid in FULL_PLAYERS:
        for platform in results[pid][1]["platform_stats"]:
            report = pipeline.player_report(pid, platform=platform)
            assert report is not None
            _equal_to_recorded(pid, platform, report)
    private = pipeline.player_report("Player-137712")
    assert private is not None and private["player"]["private"] is True
    assert pipeline.request_status(states["Unknown-1234"].request_id).outcome == "not_found"  # type: ignore[union-attr]


def _equal_to_recorded(pid: str, platform: str, report: dict[str, Any]) -> None:
    """Every number of one platform's report equals OverFast's answer for that platform filter ({}: nothing)."""
    for mode in ("competitive", "quickplay"):
        recorded = recorded_json(f"players_{pid}_stats_summary_{mode}_{platform}.json")
        if not recorded:
            assert mode not in report["gamemodes"]
            continue
        block = report["gamemodes"][mode]
        for field in ("games_played", "games_won", "games_lost", "time_played", "winrate", "kda"):
            assert block["overall"][field] == recorded["general"][field], (pid, mode, field)
        assert set(block["heroes"]) == set(recorded["heroes"])
        for hero, stats in recorded["heroes"].items():
            assert block["heroes"][hero]["games_played"] == stats["games_played"]
            assert block["heroes"][hero]["average"] == stats["average"]
            assert block["heroes"][hero]["total"] == stats["total"]


def test_duplicate_requests_in_flight_are_coalesced_and_recent_fetches_skipped(
    settings: Settings, replay: ReplayServer
) -> None:
    names = TopicNames(settings.topic_prefix)
    producer = Producer(settings)
    requests = [FetchRequest(player_id="TeKrop-2217", request_id=new_id()) for _ in range(3)]
    for request in requests:
        producer.send(names.fetch_requests, codec.encode(request), key=request.player_id)
    producer.flush()
    store = Store.open(settings.resolved_store_url)
    with in_background([Fetcher(settings), Processor(settings, store)]):
        wait_for(lambda: all(store.request_status(str(r.request_id)) for r in requests), timeout=60)
        assert replay.count("/players/TeKrop-2217/summary") == 1
        second = request_and_wait(settings, "TeKrop-2217")
        assert second.outcome == "skipped"
        assert replay.count("/players/TeKrop-2217/summary") == 1
        forced = request_and_wait(settings, "TeKrop-2217", force=True)
        assert forced.outcome == "ok"
        assert replay.count("/players/TeKrop-2217/summary") == 2
    store.close()
    results = [checked for checked, _ in _results(settings, 3)]
    first = next(r for r in results if r.outcome == "ok")
    assert sorted(first.request_ids) == sorted(str(r.request_id) for r in requests)
