"""What the harness sees of a run while it does harm, from outside (kcat read_committed on the topics, SQL on
the store, the cluster's metadata): whether a fault is in the window its row is named after. A service is
looked at while it is frozen (SIGSTOP), so what is seen is still true when it is killed."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from confluent_kafka.admin import AdminClient

from owstream.bus.client import client_config
from owstream.config import Settings
from reliability.count import read_topic, stored_requests
from reliability.pipeline import MissedWindowError, Pipeline
from reliability.stack import Service


def answered(p: Pipeline) -> set[str]:
    """Requests a committed (visible) result answers."""
    out: set[str] = set()
    for m in read_topic(p.settings, p.names.fetch_results):
        if not m.poison and isinstance(m.payload, dict):
            out |= {str(r) for r in m.payload.get("request_ids") or []}
    return out


def events_of(p: Pipeline, kind: str) -> set[str]:
    """Requests with a visible event of ``kind`` (``fetch_started``, ``fetch_stored``)."""
    return {
        str(m.payload.get("request_id"))
        for m in read_topic(p.settings, p.names.player_events)
        if isinstance(m.payload, dict) and m.payload.get("type") == kind
    }


def stored(p: Pipeline) -> set[str]:
    return stored_requests(p.settings.resolved_store_url)


def taken_not_answered(p: Pipeline) -> int:
    """Requests a fetcher has taken (its ``fetch_started`` is out) and not answered yet: its work in flight."""
    return len(events_of(p, "fetch_started") - answered(p))


def answered_not_stored(p: Pipeline) -> int:
    """Requests with a committed result that the store does not hold yet: the processors' work in flight."""
    return len(answered(p) - stored(p))


def leader_of(settings: Settings, topic: str, partition: int) -> int:
    """The broker id leading ``topic``'s ``partition`` now (-1: none)."""
    admin = AdminClient({k: v for k, v in client_config(settings).items() if k != "logger"})
    metadata = admin.list_topics(topic, timeout=30).topics[topic]
    return int(metadata.partitions[partition].leader)


def kill_with_work(
    p: Pipeline,
    victim: Service,
    group: Sequence[Service],
    pending: Callable[[Pipeline], int],
    what: str,
    tries: int = 20,
    feed: Callable[[], object] | None = None,
) -> int:
    """kill -9 ``victim`` at a moment its group (frozen while it is looked at) has work in flight, as ``pending``
    counts it; a moment without any is let go and tried again 0.2 s later, at most ``tries`` times
    (MissedWindowError). ``feed``: called after a moment without work (more requests: the group may have
    finished the load before the moment came). Returns how much was in flight."""
    for attempt in range(1, tries + 1):
        if attempt > 1 and feed is not None:
            feed()
        for service in group:
            service.freeze()
        try:
            in_flight = pending(p)
            if in_flight > 0:
                victim.kill9()
                p.hit(f"{victim.label} killed with {in_flight} {what} (try {attempt})")
                return in_flight
        finally:
            for service in group:
                if service.alive:
                    service.freeze(False)
        time.sleep(0.2)
    raise MissedWindowError(f"{victim.label}: never {what} in {tries} tries")


def grows(p: Pipeline, than: int, timeout: float) -> bool:
    """Whether the store holds more than ``than`` stored requests within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.stored() > than:
            return True
        time.sleep(0.005)
    return False


def partitions_per_member(settings: Settings, group: str) -> list[dict[str, int]]:
    """How many partitions of each topic each member of a consumer group holds now (the group coordinator's
    view; topics by their suffix)."""
    admin = AdminClient({k: v for k, v in client_config(settings).items() if k != "logger"})
    (future,) = admin.describe_consumer_groups([group], request_timeout=30).values()
    out = []
    for member in future.result(timeout=30).members:
        held: dict[str, int] = {}
        for tp in member.assignment.topic_partitions:
            suffix = tp.topic.rsplit(".", 1)[-1]
            held[suffix] = held.get(suffix, 0) + 1
        out.append(dict(sorted(held.items())))
    return out
