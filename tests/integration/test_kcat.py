"""The topics as any Kafka tool sees them, through kcat (Debian's package): a request written as one JSON line
is served like one from the CLI, and all five topics (requests, results, events, a dead letter, the meta's
hero stats) read as JSON that validates against the schema of the topic."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from owstream.bus import Producer, TopicNames
from owstream.config import Settings
from owstream.overfast import OverFastClient
from owstream.services.fetcher import Fetcher
from owstream.services.meta import MetaService
from owstream.services.processor import Processor
from owstream.services.runner import in_background
from owstream.simulator import Simulator, SimulatorServer
from owstream.store import Store
from support.contracts import TOPIC_SCHEMA, validator
from support.pipeline import wait_for
from support.replay_server import ReplayServer

pytestmark = pytest.mark.kafka

KCAT = shutil.which("kcat") or "/usr/bin/kcat"
POISON_KEY = "Poison-1234"


def kcat(settings: Settings, *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(
        [KCAT, "-b", settings.bootstrap_servers, "-X", "isolation.level=read_committed", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def read_with_kcat(settings: Settings, topic: str) -> list[dict[str, Any]]:
    """Every message of ``topic`` as kcat prints it with -J (one JSON envelope per line)."""
    out = kcat(settings, "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture
def settings(kafka: Settings) -> Iterator[Settings]:
    with ReplayServer() as replay:
        yield kafka.replace(overfast_url=replay.url, rate_limit=50.0)


def publish_hero_stats(settings: Settings) -> int:
    """One pass of the meta service against the simulator's /heroes/stats: what it publishes on hero-stats."""
    with SimulatorServer(Simulator(seed=7, players=2)) as sim:
        meta_settings = settings.replace(overfast_url=sim.url, rate_limit=500.0)
        producer = Producer(meta_settings)
        with OverFastClient.from_settings(meta_settings) as client:
            meta = MetaService(meta_settings, client=client)
            meta.step(producer, client)
        producer.close()
    return meta.published


def test_a_request_written_by_kcat_is_stored_and_all_five_topics_read_as_valid_json(settings: Settings) -> None:
    names = TopicNames(settings.topic_prefix)
    lines = (
        'TeKrop-2217\t{"player_id": "TeKrop-2217"}\n'
        'JohnV1-1190\t{"player_id":"JohnV1-1190","force":true}\n'
        f'{POISON_KEY}\t{{"player_id": 7}}\n'  # not a request: a dead letter
    )
    kcat(settings, "-P", "-t", names.fetch_requests, "-K", "\t", stdin=lines)
    published = publish_hero_stats(settings)
    assert published > 0
    store = Store.open(settings.resolved_store_url)
    try:
        with in_background([Fetcher(settings), Processor(settings, store)]) as died:
            wait_for(
                lambda: (
                    store.player_report("TeKrop-2217")
                    and store.player_report("JohnV1-1190")
                    and len(store.hero_stats_fetched()) == published
                ),
                timeout=90,
            )
            assert died() == []
        requests = [m for m in read_with_kcat(settings, names.fetch_requests) if m["key"] != POISON_KEY]
        assert len(requests) == 2
        for message in requests:  # named after where the message is: a requester can follow it
            request_id = f"{names.fetch_requests}:{message['partition']}:{message['offset']}"
            status = store.request_status(request_id)
            assert status is not None and status.outcome == "ok", request_id
    finally:
        store.close()

    seen: dict[str, int] = {}
    for topic in names.all():
        messages = read_with_kcat(settings, topic)
        assert messages, f"nothing on {topic}"
        for message in messages:
            if message["key"] == POISON_KEY:
                continue
            pairs = message.get("headers") or []
            headers = dict(zip(pairs[::2], pairs[1::2], strict=True))
            value = json.loads(message["payload"])  # plain UTF-8 JSON, not a private format
            # a message without headers (the requests kcat wrote) is read as the topic's schema
            schema_id = headers.get("schema", f"{TOPIC_SCHEMA[topic.rsplit('.', 1)[-1]]}/1")
            assert schema_id.partition("/")[0] == TOPIC_SCHEMA[topic.rsplit(".", 1)[-1]], (topic, schema_id)
            if "schema" in headers:
                assert headers["content-type"] == "application/json"
            errors = list(validator(schema_id).iter_errors(value))
            assert errors == [], (topic, schema_id, errors[:3])
            seen[schema_id] = seen.get(schema_id, 0) + 1
    assert seen["fetch-request/1"] == 2
    assert seen["fetch-result/1"] == 2
    assert seen["player-event/1"] >= 4  # fetch_started and fetch_stored of each request
    assert seen["hero-stats/1"] == published
    (letter,) = [json.loads(m["payload"]) for m in read_with_kcat(settings, names.dead_letter)]
    assert letter["value"] == '{"player_id": 7}' and letter["source_topic"] == names.fetch_requests
    results = [json.loads(m["payload"]) for m in read_with_kcat(settings, names.fetch_results)]
    assert {r["summary"]["username"] for r in results} == {"TeKrop", "JohnV1"}
