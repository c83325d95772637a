"""The contract check every Kafka test ends with: each message an owstream service produced on the test's
topics (the ones with a ``schema`` header) validates against the JSON Schema file it names, and the topics
only owstream writes (player-events, dead-letter) hold nothing else."""

from __future__ import annotations

import json
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from owstream.bus import Record, TopicNames, read_all
from owstream.config import Settings

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
OWN_TOPICS = ("player-events", "dead-letter")


@cache
def validator(schema_id: str) -> Any:
    name, _, _version = schema_id.partition("/")
    document = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document, format_checker=jsonschema.FormatChecker())


def problems(record: Record) -> list[str]:
    """Why ``record`` breaks the contract ([] if it keeps it)."""
    where = f"{record.topic}[{record.partition}]@{record.offset}"
    schema_id = record.headers.get("schema")
    if schema_id is None:
        if record.topic.rsplit(".", 1)[-1] in OWN_TOPICS:
            return [f"{where}: no schema header on a topic only owstream writes"]
        return []  # written by a test or another client: its reader judges it
    out = []
    if record.headers.get("content-type") != b"application/json":
        out.append(f"{where}: content-type is {record.headers.get('content-type')!r}")
    try:
        value = json.loads(record.value.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return [*out, f"{where}: not UTF-8 JSON ({exc})"]
    for error in validator(schema_id.decode()).iter_errors(value):
        out.append(f"{where}: {'/'.join(map(str, error.absolute_path))}: {error.message[:200]}")
    return out


def check_topics(settings: Settings, *, forged: Collection[tuple[str, int, int]] = ()) -> int:
    """Read every topic of ``settings``' prefix from the start; AssertionError listing what breaks the
    contract. ``forged``: (topic, partition, offset) of messages the test wrote on purpose to break it, left
    out. Returns how many messages were checked."""
    names = TopicNames(settings.topic_prefix)
    seen, broken = 0, []
    for topic in names.all():
        for batch in read_all(settings, topic):
            for record in batch:
                if (record.topic, record.partition, record.offset) in forged:
                    continue
                seen += 1
                broken += problems(record)
    assert not broken, "messages that break their schema:\n" + "\n".join(broken[:20])
    return seen
