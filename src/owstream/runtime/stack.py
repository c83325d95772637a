"""The stack a home runs: what ``owstream up`` started, written down for the commands of any other shell.

``owstream up`` holds an exclusive lock on ``<home>/up.lock`` for as long as it runs (the system releases it
when the process ends, however it ends) and keeps ``<home>/runtime.json`` up to date: the settings its parts
run with (topic prefix, store, Kafka, OverFast or the simulator, dashboard) and their pids. The file is
written atomically (a temporary file renamed over it) and removed when ``up`` stops. A file whose ``up`` no
longer holds the lock (``kill -9``, a crash) is stale and ignored.

``show``, ``fetch``, ``track``, ``export``, ``meta``, ``replay``, ``kafka status`` and ``kafka start`` read
their settings through :func:`apply_stack`: every setting given explicitly (an ``OWSTREAM_*`` variable or
``.env``) wins; the others come from the running stack. A second ``up`` on the same home is refused (:class:`UpLock`).

Imports only the standard library (and owstream's config, errors, processes): ``owstream show`` reads this
on every start.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

from owstream.config import Settings, explicit_settings
from owstream.errors import ConfigError, OwstreamError
from owstream.processes import alive, write_atomically

FORMAT = 1
RUNTIME_FILE = "runtime.json"
LOCK_FILE = "up.lock"

# The settings a client of the stack needs to talk to it as its parts do, as the runtime file records them.
STACK_FIELDS = (
    "topic_prefix",
    "store_url",
    "kafka_bootstrap",
    "kafka_port",
    "kafka_controller_port",
    "kafka_brokers",
    "overfast_url",
    "overfast_cache_seconds",
    "meta_region",
    "dashboard_address",
    "dashboard_port",
    "notify_allow",  # what `track --notify` accepts is what the stack's notifier and Watchlist page accept
)


class AlreadyRunning(OwstreamError):  # noqa: N818 - reads as the situation
    """``owstream up`` already runs from this home."""


@dataclass(frozen=True)
class Stack:
    """What one ``owstream up`` runs (the contents of ``runtime.json``)."""

    pid: int
    started_at: float
    demo: bool
    settings: dict[str, Any]  # STACK_FIELDS -> the value the parts run with (the store URL without password)
    kafka_bootstrap: str  # where clients connect
    dashboard_url: str
    pids: dict[str, int] = field(default_factory=dict)  # part -> pid (the broker's nodes: kafka, kafka-2, ...)
    store_password_removed: bool = False

    @property
    def store_url(self) -> str:
        return str(self.settings["store_url"])

    @property
    def overfast_url(self) -> str:
        return str(self.settings["overfast_url"])

    @property
    def topic_prefix(self) -> str:
        return str(self.settings["topic_prefix"])

    def describe(self) -> str:
        """``the demo stack of `owstream up --demo` (pid 123, since 2026-12-07 00:15 UTC)``"""
        since = datetime.fromtimestamp(self.started_at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
        what = "the demo stack of `owstream up --demo`" if self.demo else "the stack of `owstream up`"
        return f"{what} (pid {self.pid}, since {since})"

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "pid": self.pid,
                "started_at": _iso(self.started_at),
                "demo": self.demo,
                "topic_prefix": self.topic_prefix,
                "store_url": self.store_url,
                "store_password_removed": self.store_password_removed,
                "kafka_bootstrap": self.kafka_bootstrap,
                "overfast_url": self.overfast_url,
                "dashboard_url": self.dashboard_url,
                "pids": self.pids,
                "settings": self.settings,
            },
            indent=2,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Stack:
        raw = json.loads(text)
        if raw.get("format") != FORMAT:
            raise ValueError(f"runtime file format {raw.get('format')!r}")
        settings = {k: v for k, v in raw["settings"].items() if k in STACK_FIELDS}
        return cls(
            pid=int(raw["pid"]),
            started_at=datetime.fromisoformat(raw["started_at"]).timestamp(),
            demo=bool(raw["demo"]),
            settings=settings,
            kafka_bootstrap=str(raw["kafka_bootstrap"]),
            dashboard_url=str(raw["dashboard_url"]),
            pids={str(k): int(v) for k, v in raw.get("pids", {}).items()},
            store_password_removed=bool(raw.get("store_password_removed", False)),
        )


def new_stack(settings: Settings, *, demo: bool, dashboard_url: str) -> Stack:
    """The record of a stack about to run with ``settings`` in this process."""
    store, removed = without_password(settings.resolved_store_url)
    values = {name: getattr(settings, name) for name in STACK_FIELDS}
    values["store_url"] = store
    return Stack(
        pid=os.getpid(),
        started_at=time.time(),
        demo=demo,
        settings=values,
        kafka_bootstrap=settings.bootstrap_servers,
        dashboard_url=dashboard_url,
        pids={"up": os.getpid()},
        store_password_removed=removed,
    )


# --- the file ------------------------------------------------------------------------------------------
def runtime_path(home: Path) -> Path:
    return home / RUNTIME_FILE


def write_stack(home: Path, stack: Stack) -> None:
    """Replace the runtime file at once (readers see the old or the new one, never half of one)."""
    write_atomically(runtime_path(home), stack.to_json() + "\n")


def remove_stack(home: Path) -> None:
    runtime_path(home).unlink(missing_ok=True)


def read_stack(home: Path) -> Stack | None:
    """The stack running from ``home``: None when no runtime file, or a stale one (its ``up`` is gone)."""
    try:
        stack = Stack.from_json(runtime_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return stack if alive(stack.pid) and lock_held(home) else None


# --- one `up` per home ----------------------------------------------------------------------------------
def lock_held(home: Path) -> bool:
    """Whether a process holds ``up``'s lock of ``home`` (tried without waiting, released at once)."""
    try:
        fd = os.open(home / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock taken just now
    return False


class UpLock:
    """The exclusive lock of ``owstream up`` on a home, held while ``up`` runs. Entering fails with
    :class:`AlreadyRunning` (saying which stack runs) when another ``up`` holds it."""

    def __init__(self, home: Path, wait: float = 1.0) -> None:
        self.home = home
        self._wait = wait  # a command checking the lock holds it shared for a moment
        self._fd: int | None = None

    def __enter__(self) -> Self:
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self._wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise AlreadyRunning(already_running(self.home)) from None
                time.sleep(0.05)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def already_running(home: Path) -> str:
    """The one-line refusal of a second ``up`` on ``home``."""
    stack = read_stack(home)
    where = f"OWSTREAM_HOME={home}"
    if stack is None:  # the lock is held but the file not written yet: the other `up` is starting
        return f"owstream up is already starting from {where}: wait for it, or stop it first"
    return (
        f"owstream up already runs from {where}: {stack.describe()}, dashboard {stack.dashboard_url}, "
        f"topics {stack.topic_prefix}.*; stop it first (Ctrl-C in its shell, or `kill {stack.pid}`), "
        "or start another stack with its own OWSTREAM_HOME and ports"
    )


# --- the commands' settings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Applied:
    settings: Settings
    stack: Stack | None
    notes: list[str]  # what a user should know: an explicit setting that overrides the running stack's


def apply_stack(settings: Settings, explicit: frozenset[str] | None = None) -> Applied:
    """``settings`` completed from the stack running from its home: explicit settings win (and are
    noted when they send the command elsewhere than the stack)."""
    stack = read_stack(settings.home)
    if stack is None:
        return Applied(settings, None, [])
    given = explicit_settings() if explicit is None else explicit
    taken = {name: value for name, value in stack.settings.items() if name not in given}
    if "store_url" in taken and stack.store_password_removed:
        raise ConfigError(
            f"{stack.describe()} uses the store {stack.store_url}, whose password is not written down: "
            "set OWSTREAM_STORE_URL as that stack's shell has it"
        )
    applied = settings.replace(**taken)
    # What an explicit setting can send elsewhere than the stack, said in a note (not OverFast: a fetch is made
    # by the stack's fetcher, whatever this command's OWSTREAM_OVERFAST_URL).
    notes = []
    for names, what, ours, theirs in (
        (("topic_prefix",), "topics", applied.topic_prefix, stack.topic_prefix),
        (("store_url",), "store", without_password(applied.resolved_store_url)[0], stack.store_url),
        (("kafka_bootstrap", "kafka_port"), "Kafka at", applied.bootstrap_servers, stack.kafka_bootstrap),
    ):
        variables = [f"OWSTREAM_{name.upper()}" for name in names if name in given]
        if variables and ours != theirs:
            notes.append(
                f"{' and '.join(variables)} {'is' if len(variables) == 1 else 'are'} set: this command uses "
                f"{what} {ours}, not {theirs} of {stack.describe()}"
            )
    return Applied(applied, stack, notes)


def without_password(url: str) -> tuple[str, bool]:
    """``url`` with any password left out (the runtime file holds no secret), and whether one was."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, False
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=user + host)), True


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
