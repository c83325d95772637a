"""What the commands share: the settings of the stack they talk to, and whether an error is said as JSON."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from owstream.cli.consoles import err
from owstream.config import Settings, get_settings

if TYPE_CHECKING:
    from owstream.runtime.stack import Applied, Stack

_json_errors = False


def json_errors(on: bool) -> None:
    """A command with ``--json`` says its errors as one JSON object on stdout too."""
    global _json_errors  # noqa: PLW0603 - one flag for the whole invocation
    _json_errors = on


def wants_json_errors() -> bool:
    return _json_errors


@lru_cache(maxsize=1)
def applied() -> Applied:
    """The settings, completed from the ``owstream up`` running from the home (explicit settings win); what
    a user should know about it is said on stderr, once."""
    from owstream.runtime.stack import apply_stack

    result = apply_stack(get_settings())
    for note in result.notes:
        err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    return result


def client_settings() -> Settings:
    """The settings of a command that talks to the running stack (show, fetch, track, export, ...)."""
    return applied().settings


def used_stack() -> Stack | None:
    """The running stack this command used, if it used it (None when it never read its settings, or when an
    explicit setting sent it to other topics, another store or another Kafka: a note said so)."""
    if not applied.cache_info().currsize:
        return None
    result = applied()
    return None if result.notes else result.stack


def demo_hint(exc: Exception) -> str:
    """What to add to a "nothing stored" or "not found" error when the command used the running demo: the
    player may well exist, but not among the demo's."""
    from owstream.errors import FetchFailed, NotStored

    stack = used_stack()
    if stack is None or not stack.demo or not isinstance(exc, (NotStored, FetchFailed)):
        return ""
    if isinstance(exc, FetchFailed) and exc.outcome != "not_found":
        return ""
    return " (this shell uses the running demo, `owstream up --demo`: `owstream track list` shows its players)"
