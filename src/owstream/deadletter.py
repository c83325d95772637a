"""Poison messages: the raw bytes go to the dead-letter topic with headers saying why and from where."""

from __future__ import annotations

import logging
import time

from owstream.bus import Delivered, Producer, Record

log = logging.getLogger(__name__)


def dead_letter(
    producer: Producer, topic: str, record: Record, *, service: str, reason: str, delivered: Delivered | None = None
) -> None:
    """Send ``record`` to the dead-letter ``topic``; the caller stores its offset and moves on."""
    log.warning(
        "%s: message %s[%d]@%d sent to %s: %s", service, record.topic, record.partition, record.offset, topic, reason
    )
    headers: list[tuple[str, str | bytes | None]] = [
        ("error", reason[:1000].encode()),
        ("service", service.encode()),
        ("source.topic", record.topic.encode()),
        ("source.partition", str(record.partition).encode()),
        ("source.offset", str(record.offset).encode()),
        ("dead_lettered_at", repr(time.time()).encode()),
    ]
    producer.send(topic, record.value, key=record.key, headers=headers, delivered=delivered)
