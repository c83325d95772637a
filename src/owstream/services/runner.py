"""Running the services: one in the foreground (``owstream run X``) or several in threads of one process
(``owstream fetch`` when no fetcher/processor is running). The services import nothing from here: this module
sits above them (it makes them), they sit on the stream kernel (:mod:`owstream.bus.stream`)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from owstream.bus import Ready, Runnable
from owstream.config import Settings
from owstream.domain.vocabulary import SERVICES
from owstream.processes import write_atomically

__all__ = [
    "ALL",
    "SERVICES",
    "Ready",
    "Runnable",
    "in_background",
    "make_service",
    "run_foreground",
    "run_together",
    "service_names",
]

log = logging.getLogger(__name__)


def make_service(name: str, settings: Settings) -> Runnable:
    """The service ``name``, connecting to Kafka as its own principal when it has one (Settings.for_service)."""
    settings = settings.for_service(name)
    if name == "fetcher":
        from owstream.services.fetcher import Fetcher

        return Fetcher(settings)
    if name == "processor":
        from owstream.services.processor import Processor

        return Processor(settings)
    if name == "scheduler":
        from owstream.services.scheduler import Scheduler

        return Scheduler(settings)
    if name == "meta":
        from owstream.services.meta import MetaService

        return MetaService(settings)
    if name == "notifier":
        from owstream.services.notifier import Notifier

        return Notifier(settings)
    raise ValueError(f"unknown service {name!r}: one of {', '.join(SERVICES)}")


ALL = "services"  # every one of SERVICES


def service_names(requested: Sequence[str]) -> list[str]:
    """The services ``owstream run`` starts for its arguments: each once, in the order asked, "services" for
    all five."""
    names: list[str] = []
    for name in requested:
        for one in SERVICES if name == ALL else (name,):
            if one not in SERVICES:
                raise ValueError(f"unknown service {one!r}")
            if one not in names:
                names.append(one)
    return names


def ready_file_writer(path: Path | None) -> Ready | None:
    """A ``ready`` callback that writes this process's pid to ``path`` (atomically: a reader never sees half).
    A file left at ``path`` by an earlier run (a container restarted in place keeps its files) is removed
    now, so the file says ready only once this process is."""
    if path is None:
        return None
    path.unlink(missing_ok=True)

    def ready() -> None:
        write_atomically(path, str(os.getpid()))
        log.debug("ready: wrote %s", path)

    return ready


def run_foreground(service: Runnable, *, ready_file: Path | None = None) -> None:
    """Run until SIGTERM or SIGINT, then stop cleanly (the current batch finishes, offsets commit)."""
    stop = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        service.run(stop, ready_file_writer(ready_file))
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_together(services: Mapping[str, Runnable], *, ready_file: Path | None = None) -> int:
    """Several services in threads of this one process until SIGTERM/SIGINT (``owstream run services``: one
    interpreter and one set of libraries instead of one per service, for ``owstream up`` on one machine).
    Ready once every service said so. A service that dies stops the others: the exit status is 1 and the
    supervisor restarts the whole process, so no service is ever left silently dead."""
    stop = threading.Event()
    pending = set(services)
    lock = threading.Lock()
    write_ready = ready_file_writer(ready_file)
    failed: list[str] = []

    def ready_of(name: str) -> Ready:
        def ready() -> None:
            with lock:
                pending.discard(name)
                if not pending and write_ready is not None:
                    write_ready()

        return ready

    def target(name: str, service: Runnable) -> None:
        try:
            service.run(stop, ready_of(name))
            if not stop.is_set():
                log.error("%s returned unasked: stopping the other services of this process", name)
                failed.append(name)
        except BaseException:
            log.exception("%s died: stopping the other services of this process", name)
            failed.append(name)
        finally:
            stop.set()  # one service gone: the process ends, and is restarted whole

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    threads = [
        threading.Thread(target=target, args=(name, service), name=name, daemon=True)
        for name, service in services.items()
    ]
    try:
        for thread in threads:
            thread.start()
        while not stop.wait(0.5):
            pass
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    return 1 if failed else 0


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
