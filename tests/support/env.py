"""The environment of an owstream child process in a test: nothing from the developer's own OWSTREAM_*
variables, every setting of the test spelled out."""

from __future__ import annotations

import os

from owstream.config import Settings


def owstream_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OWSTREAM_")}
    env.update(settings.as_env(), COLUMNS="200")
    env.update(extra)
    return env
