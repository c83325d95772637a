"""The Kafka layer: the only package that imports confluent_kafka.

Public surface: :class:`Producer`, :class:`TransactionalProducer`, :class:`Consumer`, :class:`Record`,
:class:`TailReader`, :func:`read_all`, :func:`read_tail`, :class:`Admin`, :class:`TopicNames`,
:func:`dead_letter`. Errors are :class:`~owstream.errors.BusError` and below.
"""

from __future__ import annotations

from owstream.bus.admin import Admin, GroupInfo, TopicInfo
from owstream.bus.client import (
    Consumer,
    Delivered,
    Headers,
    Offsets,
    Producer,
    Record,
    next_offsets,
)
from owstream.bus.deadletter import dead_letter
from owstream.bus.readers import TailReader, read_all, read_tail
from owstream.bus.topics import ALL_TOPICS, TopicNames, TopicSpec
from owstream.bus.transactions import TransactionalProducer

__all__ = [
    "ALL_TOPICS",
    "Admin",
    "Consumer",
    "Delivered",
    "GroupInfo",
    "Headers",
    "Offsets",
    "Producer",
    "Record",
    "TailReader",
    "TopicInfo",
    "TopicNames",
    "TopicSpec",
    "TransactionalProducer",
    "dead_letter",
    "next_offsets",
    "read_all",
    "read_tail",
]
