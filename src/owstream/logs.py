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
    # librdkafka reports every refused connection; one line per state change is plenty.
    logging.getLogger("owstream.bus.librdkafka").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("httpx").setLevel(logging.WARNING)
