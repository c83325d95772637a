"""The Kafka layer: the only package that imports confluent_kafka.

Public surface: :class:`Producer`, :class:`Consumer`, :class:`Record`, :class:`TailReader`, :func:`read_all`,
:class:`Admin`, :class:`LocalBroker`, :class:`TopicNames` and :func:`ensure_kafka`.
"""

from __future__ import annotations

import logging

from owstream.bus.admin import Admin, GroupInfo, TopicInfo
from owstream.bus.broker import BrokerState, LocalBroker, free_port
from owstream.bus.client import Consumer, Delivered, Headers, Producer, Record, TailReader, read_all, read_tail
from owstream.bus.topics import ALL_TOPICS, TopicNames, TopicSpec
from owstream.config import Settings

log = logging.getLogger(__name__)

__all__ = [
    "ALL_TOPICS",
    "Admin",
    "BrokerState",
    "Consumer",
    "Delivered",
    "GroupInfo",
    "Headers",
    "LocalBroker",
    "Producer",
    "Record",
    "TailReader",
    "TopicInfo",
    "TopicNames",
    "TopicSpec",
    "ensure_kafka",
    "free_port",
    "read_all",
    "read_tail",
]


def ensure_kafka(settings: Settings, *, start_local: bool = True, timeout: float = 60.0) -> TopicNames:
    """Make Kafka usable: start the local broker when no cluster is configured (if allowed), wait until
    it answers, and create any missing topic. Returns the topic names."""
    if settings.uses_local_broker and start_local:
        broker = LocalBroker(settings)
        if broker.state() is None:
            log.info("starting the local Kafka broker (stop it with `owstream kafka stop`)")
            broker.start()
    admin = Admin(settings)
    try:
        admin.wait_ready(timeout)
        names = TopicNames(settings.topic_prefix)
        admin.ensure_topics(names)
    finally:
        admin.close()
    return names
