"""The topics as any Kafka tool sees them, through kcat (Debian's package): a request written as one JSON line
is served like one from the CLI, and every topic reads as JSON that validates against its schema."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from owstream.bus import TopicNames
from owstream.config import Settings
from owstream.services.fetcher import Fetcher
from owstream.services.processor import Processor
from owstream.services.runner import in_background
from owstream.store import Store
from support.contracts import validator
from support.pipeline import wait_for
from support.replay_server import ReplayServer

pytestmark = pytest.mark.kafka

KCAT = shutil.which("kcat") or "/usr/bin/kcat"


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


def test_a_request_written_by_kcat_is_stored_and_every_topic_reads_as_valid_json(settings: Settings) -> None:
    names = TopicNames(settings.topic_prefix)
    lines = 'TeKrop-2217\t{"player_id": "TeKrop-2217"}\nJohnV1-1190\t{"player_id":"JohnV1-1190","force":true}\n'
    kcat(settings, "-P", "-t", names.fetch_requests, "-K", "\t", stdin=lines)
    store = Store.open(settings.resolved_store_url)
    try:
        with in_background([Fetcher(settings), Processor(settings, store)]) as died:
            wait_for(lambda: store.player_report("TeKrop-2217") and store.player_report("JohnV1-1190"), timeout=60)
            assert died() == []
        requests = read_with_kcat(settings, names.fetch_requests)
        for message in requests:  # named after where the message is: a requester can follow it
            request_id = f"{names.fetch_requests}:{message['partition']}:{message['offset']}"
            status = store.request_status(request_id)
            assert status is not None and status.outcome == "ok", request_id
    finally:
        store.close()

    seen: dict[str, int] = {}
    for topic in (names.fetch_results, names.player_events):
        for message in read_with_kcat(settings, topic):
            headers = dict(zip(message["headers"][::2], message["headers"][1::2], strict=True))
            assert headers["content-type"] == "application/json"
            value = json.loads(message["payload"])  # plain UTF-8 JSON, not a private format
            errors = list(validator(headers["schema"]).iter_errors(value))
            assert errors == [], (topic, headers["schema"], errors[:3])
            seen[headers["schema"]] = seen.get(headers["schema"], 0) + 1
    assert seen["fetch-result/1"] == 2
    assert seen["player-event/1"] >= 4  # fetch_started and fetch_stored of each request
    results = [json.loads(m["payload"]) for m in read_with_kcat(settings, names.fetch_results)]
    assert {r["summary"]["username"] for r in results} == {"TeKrop", "JohnV1"}
