"""The contract check of every test that creates topics: each message an owstream service produced (the ones
with a ``schema`` header) validates against the JSON Schema file it names, that schema is the one of the topic
it is on, and the topics only owstream writes (player-events, dead-letter) hold nothing else.

Every fixture or harness that starts a broker or creates topics runs it before it lets go of them:
:func:`check_topics` for one topic prefix (the ``kafka`` fixture, after each test), :func:`check_broker` for
every owstream topic a broker holds, whatever its prefix (before a test's own broker is stopped, and on the
session's broker at the end of the session). The reliability harness validates what kcat reads with
:func:`problems_of`."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from confluent_kafka.admin import AdminClient

from owstream.bus import ALL_TOPICS, Record, TopicNames, read_all
from owstream.bus.client import client_config
from owstream.config import Settings

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
OWN_TOPICS = ("player-events", "dead-letter")
TOPIC_SCHEMA = {  # topic suffix -> the schema its messages carry
    "fetch-requests": "fetch-request",
    "fetch-results": "fetch-result",
    "player-events": "player-event",
    "dead-letter": "dead-letter",
    "hero-stats": "hero-stats",
}
assert set(TOPIC_SCHEMA) == {spec.suffix for spec in ALL_TOPICS}, "a topic without its schema here"
CHECKED: set[tuple[str, str]] = set()  # (bootstrap, topic) already read through since its test ended


@cache
def validator(schema_id: str) -> Any:
    name, _, _version = schema_id.partition("/")
    document = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document, format_checker=jsonschema.FormatChecker())


def problems_of(where: str, topic: str, headers: Mapping[str, bytes | str], value: bytes | str | None) -> list[str]:
    """Why one message at ``where`` on ``topic`` breaks the contract ([] if it keeps it)."""
    suffix = topic.rsplit(".", 1)[-1]
    raw_schema = headers.get("schema")
    if raw_schema is None:
        if suffix in OWN_TOPICS:
            return [f"{where}: no schema header on a topic only owstream writes"]
        return []  # written by a test or another client: its reader judges it
    schema_id = raw_schema.decode("utf-8", "replace") if isinstance(raw_schema, bytes) else raw_schema
    content_type = headers.get("content-type")
    out = []
    if content_type not in (b"application/json", "application/json"):
        out.append(f"{where}: content-type is {content_type!r}")
    if schema_id.partition("/")[0] != TOPIC_SCHEMA.get(suffix):
        return [*out, f"{where}: schema {schema_id!r} on {topic} (its messages are {TOPIC_SCHEMA.get(suffix)})"]
    try:
        text = value.decode("utf-8") if isinstance(value, bytes) else value
        document = json.loads(text or "")
    except (UnicodeDecodeError, ValueError) as exc:
        return [*out, f"{where}: not UTF-8 JSON ({exc})"]
    for error in validator(schema_id).iter_errors(document):
        out.append(f"{where}: {'/'.join(map(str, error.absolute_path))}: {error.message[:200]}")
    return out


def problems(record: Record) -> list[str]:
    """Why ``record`` breaks the contract ([] if it keeps it)."""
    where = f"{record.topic}[{record.partition}]@{record.offset}"
    return problems_of(where, record.topic, record.headers, record.value)


def _check(settings: Settings, topics: list[str], forged: Collection[tuple[str, int, int]] = ()) -> int:
    seen, broken = 0, []
    for topic in topics:
        CHECKED.add((settings.bootstrap_servers, topic))
        for batch in read_all(settings, topic):
            for record in batch:
                if (record.topic, record.partition, record.offset) in forged:
                    continue
                seen += 1
                broken += problems(record)
    assert not broken, "messages that break their schema:\n" + "\n".join(broken[:20])
    return seen


def check_topics(settings: Settings, *, forged: Collection[tuple[str, int, int]] = ()) -> int:
    """Read every topic of ``settings``' prefix from the start; AssertionError listing what breaks the
    contract. ``forged``: (topic, partition, offset) of messages the test wrote on purpose to break it, left
    out. Returns how many messages were checked."""
    return _check(settings, TopicNames(settings.topic_prefix).all(), forged)


def owstream_topics(settings: Settings) -> list[str]:
    """Every topic of the broker of ``settings`` that is an owstream topic of some prefix."""
    admin = AdminClient({k: v for k, v in client_config(settings).items() if k != "logger"})
    names = admin.list_topics(timeout=30).topics
    return sorted(name for name in names if "." in name and name.rsplit(".", 1)[-1] in TOPIC_SCHEMA)


def check_broker(settings: Settings) -> int:
    """:func:`check_topics` for every owstream topic on the broker, whatever its prefix (but those a fixture
    already checked after its test)."""
    todo = [t for t in owstream_topics(settings) if (settings.bootstrap_servers, t) not in CHECKED]
    return _check(settings, todo)
