"""What `owstream kafka status` and the dashboard's Pipeline page show about Kafka."""

from __future__ import annotations

from typing import Any

from owstream.bus import Admin, TopicNames
from owstream.config import Settings
from owstream.localkafka import LocalBroker
from owstream.localkafka.jars import KAFKA_VERSION


def kafka_status(settings: Settings) -> dict[str, Any]:
    """Broker, topics (partitions, end offsets) and consumer groups (members, lag) as plain data."""
    local = settings.uses_local_broker
    state = LocalBroker(settings).state() if local else None
    broker: dict[str, Any] = {
        "bootstrap": settings.bootstrap_servers,
        "local": local,
        "version": KAFKA_VERSION if local else None,
        "pid": state.pid if state else None,
    }
    with Admin(settings, timeout=5) as admin:
        broker["reachable"] = admin.ping(timeout=3)
        if not broker["reachable"]:
            return {"broker": broker, "topics": [], "groups": []}
        names = TopicNames(settings.topic_prefix)
        topics = [
            {
                "name": t.name,
                "partitions": len(t.partitions),
                "end_offsets": [p.end_offset for p in t.partitions],
                "messages": t.messages,
            }
            for t in admin.topics(names.all())
        ]
        groups = [
            {
                "group": g.group_id,
                "state": g.state,
                "members": g.members,
                "lag": g.lag,
                "total_lag": g.total_lag,
            }
            for g in admin.groups(prefix=f"{settings.topic_prefix}.")
        ]
    return {"broker": broker, "topics": topics, "groups": groups}
