"""Running the services: one in the foreground (``owstream run X``) or several in threads of one
process (``owstream fetch`` when no fetcher/processor is running)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Protocol

from owstream.config import Settings

log = logging.getLogger(__name__)


class Runnable(Protocol):
    def run(self, stop: threading.Event) -> None: ...


def make_service(name: str, settings: Settings) -> Runnable:
    if name == "fetcher":
        from owstream.fetcher import Fetcher

        return Fetcher(settings)
    if name == "processor":
        from owstream.processor import Processor

        return Processor(settings)
    if name == "scheduler":
        from owstream.scheduler import Scheduler

        return Scheduler(settings)
    raise ValueError(f"unknown service {name!r}")


def run_foreground(service: Runnable) -> None:
    """Run until SIGTERM or SIGINT, then stop cleanly (the current batch finishes, offsets commit)."""
    stop = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        service.run(stop)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def in_background(services: list[Runnable]) -> Iterator[Callable[[], list[BaseException]]]:
    """Run services in daemon threads for the duration of the block; yields a function returning the
    errors of services that died."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def target(service: Runnable) -> None:
        try:
            service.run(stop)
        except BaseException as exc:
            log.exception("%s died", type(service).__name__)
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(s,), daemon=True, name=type(s).__name__) for s in services]
    for thread in threads:
        thread.start()
    try:
        yield lambda: list(errors)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
