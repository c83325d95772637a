"""The Kafka layer: the only package that imports confluent_kafka.

Public surface: the stream kernel (:class:`Stream`, :class:`Output`, :data:`Ready`, :class:`Runnable`), the typed
topics (:class:`Topics`, :class:`Topic`, :class:`Outgoing`, :class:`TopicNames`), the clients
(:class:`Producer`, :class:`TransactionalProducer`, :class:`Consumer`, :class:`Record`), the readers
(:class:`TailReader`, :func:`read_all`, :func:`read_tail`), :class:`Admin` and :func:`dead_letter`. Errors are
:class:`~owstream.errors.BusError` and below.
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
from owstream.bus.stream import Output, Ready, Runnable, Stream
from owstream.bus.topics import ALL_TOPICS, Outgoing, Topic, TopicNames, Topics, TopicSpec
from owstream.bus.transactions import TransactionalProducer

__all__ = [
    "ALL_TOPICS",
    "Admin",
    "Consumer",
    "Delivered",
    "GroupInfo",
    "Headers",
    "Offsets",
    "Outgoing",
    "Output",
    "Producer",
    "Ready",
    "Record",
    "Runnable",
    "Stream",
    "TailReader",
    "Topic",
    "TopicInfo",
    "TopicNames",
    "TopicSpec",
    "Topics",
    "TransactionalProducer",
    "dead_letter",
    "next_offsets",
    "read_all",
    "read_tail",
]
