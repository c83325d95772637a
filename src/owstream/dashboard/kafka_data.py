"""The Pipeline page's Kafka data: topic/group status and the newest messages, cached a few seconds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import streamlit as st

from owstream.bus import Admin, Record, TopicNames, Topics, read_tail
from owstream.config import Settings
from owstream.dashboard.data import settings
from owstream.errors import OwstreamError, ProcessingError
from owstream.runtime.status import kafka_status

TTL_SECONDS = 5.0  # Kafka's state is asked again after this (the store's change marker does not cover it)


@dataclass(frozen=True)
class RecentMessage:
    topic: str
    partition: int
    offset: int
    key: str | None
    timestamp_ms: int | None
    what: str


def describe_record(topics: Topics, kind: str, record: Record) -> str:
    """One line about a message, read through its topic's contract (its ``schema`` header checked, its value
    decoded within bounds): a result's outcome, a request's source, an event's type."""
    try:
        if kind == "fetch-results":
            return f"result: {topics.fetch_results.read(record).outcome}"
        if kind == "fetch-requests":
            request = topics.fetch_requests.read(record)
            return f"request from {request.source}{' (forced)' if request.force else ''}"
        if kind == "player-events":
            return f"event: {topics.player_events.read(record).type}"
    except ProcessingError:
        return "unreadable message"
    return f"{len(record.value):,} bytes"


def load_recent(settings_: Settings, per_topic: int = 8) -> list[RecentMessage]:
    """The newest messages of fetch-requests, fetch-results and player-events, newest first."""
    topics = Topics(settings_.topic_prefix)
    kinds = {"fetch-requests": topics.fetch_requests.name, "fetch-results": topics.fetch_results.name,
             "player-events": topics.player_events.name}  # fmt: skip
    # the three topics read at once: each read is mostly waiting on the broker (a consumer's connection,
    # offsets, one fetch), so together they take about as long as one
    with ThreadPoolExecutor(len(kinds), thread_name_prefix="pipeline-tail") as pool:
        tails = {kind: pool.submit(read_tail, settings_, name, per_topic, timeout=3.0) for kind, name in kinds.items()}
        found = {kind: tail.result() for kind, tail in tails.items()}
    out: list[RecentMessage] = []
    for kind, records in found.items():
        newest = sorted(records, key=lambda r: r.timestamp_ms or 0)[-per_topic:]
        out += [
            RecentMessage(kind, r.partition, r.offset, r.key, r.timestamp_ms, describe_record(topics, kind, r))
            for r in newest
        ]
    return sorted(out, key=lambda m: m.timestamp_ms or 0, reverse=True)


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Asking Kafka…")
def kafka_overview() -> dict[str, Any]:
    """``owstream.runtime.status.kafka_status`` or ``{"error": ...}`` when the broker cannot be asked."""
    try:
        return kafka_status(settings())
    except OwstreamError as exc:
        return {"error": str(exc), "broker": {"bootstrap": settings().bootstrap_servers, "reachable": False}}


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Reading the newest messages…")
def recent_messages() -> list[RecentMessage]:
    return load_recent(settings())


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def backlog() -> int | None:
    """Fetch requests waiting for a fetcher (the fetcher group's lag on fetch-requests); None when Kafka
    cannot say (the request is then sent and its own progress tells)."""
    names = TopicNames(settings().topic_prefix)
    try:
        with Admin(settings(), timeout=3.0) as admin:
            groups = admin.groups(prefix=names.group("fetcher"))
    except OwstreamError:
        return None
    except Exception:
        return None
    return sum(g.lag.get(names.fetch_requests, 0) for g in groups if g.group_id == names.group("fetcher"))
