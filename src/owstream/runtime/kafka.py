"""Making Kafka usable for a command or a service: the local broker started when no cluster is configured,
the topics created."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from owstream.bus import Admin, TopicNames
from owstream.config import Settings
from owstream.localkafka import LocalBroker
from owstream.localkafka.jars import JarProgress, Progress

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status

log = logging.getLogger(__name__)


def ensure_kafka(
    settings: Settings, *, start_local: bool = True, timeout: float = 60.0, progress: Progress | None = None
) -> TopicNames:
    """Start the local broker when no cluster is configured (if allowed; ``progress`` hears the first
    start's download of the jars), wait until Kafka answers, and create any missing topic. Returns the
    topic names."""
    if settings.uses_local_broker and start_local:
        broker = LocalBroker(settings)
        if broker.state() is None:
            log.info("starting the local Kafka broker (stop it with `owstream kafka stop`)")
            broker.start(progress=progress)
    names = TopicNames(settings.topic_prefix)
    with Admin(settings) as admin:
        admin.wait_ready(timeout)
        admin.ensure_topics(names)
    return names


class JarReporter:
    """Shows the first start's download of the jars on ``console``: one line that changes on a terminal,
    else a line when it begins, every ``every`` seconds and when it is done. Used as a context manager, so a
    download that fails stops the changing line too (and gives the terminal its cursor back)."""

    def __init__(self, console: Console, every: float = 5.0) -> None:
        self._console = console
        self._every = every
        self._status: Status | None = None
        self._said = -every

    def __call__(self, progress: JarProgress) -> None:
        text = progress.describe()
        if self._console.is_terminal:
            if self._status is None:
                self._status = self._console.status(text)
                self._status.start()
            self._status.update(text)
            if progress.done:
                self.close()
                self._console.print(text, markup=False, highlight=False)
            return
        now = time.monotonic()
        if progress.done or now - self._said >= self._every:
            self._said = now
            self._console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        """Stop the changing line, if one is shown."""
        if self._status is not None:
            self._status.stop()
            self._status = None

    def __enter__(self) -> JarReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
