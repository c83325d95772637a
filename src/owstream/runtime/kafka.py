"""Making Kafka usable for a command or a service: the local broker started when no cluster is configured,
the topics created."""

from __future__ import annotations

import logging

from owstream.bus import Admin, TopicNames
from owstream.config import Settings
from owstream.localkafka import LocalBroker

log = logging.getLogger(__name__)


def ensure_kafka(settings: Settings, *, start_local: bool = True, timeout: float = 60.0) -> TopicNames:
    """Start the local broker when no cluster is configured (if allowed), wait until Kafka answers, and
    create any missing topic. Returns the topic names."""
    if settings.uses_local_broker and start_local:
        broker = LocalBroker(settings)
        if broker.state() is None:
            log.info("starting the local Kafka broker (stop it with `owstream kafka stop`)")
            broker.start()
    names = TopicNames(settings.topic_prefix)
    with Admin(settings) as admin:
        admin.wait_ready(timeout)
        admin.ensure_topics(names)
    return names
