"""Poison messages: a :class:`~owstream.messages.models.DeadLetter` saying why and where from goes to the
dead-letter topic (the value itself too, up to a bound); the caller moves on."""

from __future__ import annotations

import base64
import logging
import time

from owstream.bus.client import Delivered, Producer, Record
from owstream.bus.topics import Topic
from owstream.messages.models import DeadLetter

log = logging.getLogger(__name__)


def dead_letter_of(record: Record, *, service: str, reason: str, at: float | None = None) -> DeadLetter:
    """The dead letter of ``record``: its value as text when it is UTF-8, else base64, at most MAX_VALUE bytes."""
    kept = record.value[: DeadLetter.MAX_VALUE]
    try:
        text: str | None = kept.decode("utf-8")
        encoded = None
    except UnicodeDecodeError:
        text, encoded = None, base64.b64encode(kept).decode("ascii")
    return DeadLetter(
        error=reason[:2000],
        service=service,
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        key=record.key[:1000] if record.key is not None else None,
        value=text,
        value_base64=encoded,
        value_bytes=len(record.value),
        truncated=len(record.value) > len(kept),
        at=time.time() if at is None else at,
    )


def dead_letter(
    producer: Producer,
    topic: Topic[DeadLetter],
    record: Record,
    *,
    service: str,
    reason: str,
    delivered: Delivered | None = None,
) -> None:
    """Send the dead letter of ``record`` to ``topic`` (the prefix's dead-letter topic); the caller commits
    its offset and moves on: in the transaction the letter was sent in, or, with a plain producer, once
    ``delivered`` says Kafka acknowledged it (the notifier)."""
    log.warning(
        "%s: message %s[%d]@%d sent to %s: %s",
        service,
        record.topic,
        record.partition,
        record.offset,
        topic.name,
        reason,
    )
    message = topic.message(dead_letter_of(record, service=service, reason=reason), key=record.key)
    producer.publish(message, delivered)
