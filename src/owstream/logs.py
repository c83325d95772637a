"""Logging set-up: called once, by the CLI, never by library code."""

from __future__ import annotations

import logging
import sys


def configure(level: str = "INFO", *, to_file: str | None = None) -> None:
    handler: logging.Handler
    if to_file:
        handler = logging.FileHandler(to_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    elif sys.stderr.isatty():
        from rich.logging import RichHandler

        handler = RichHandler(show_path=False, rich_tracebacks=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # librdkafka reports every refused connection and transient broker state. Services (INFO) keep its
    # warnings in their logs; a command (WARNING) says what went wrong in its own one-line error instead.
    rdkafka = logging.WARNING if root.level <= logging.INFO else logging.CRITICAL
    logging.getLogger("owstream.bus.librdkafka").setLevel(rdkafka)
    logging.getLogger("httpx").setLevel(logging.WARNING)
