"""Exit 0 when the configured OverFast API answers, 1 otherwise (used by `make run` to pick the demo)."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from owstream.config import get_settings


def overfast_reachable(timeout: float = 4.0) -> bool:
    url = get_settings().overfast_url.rstrip("/") + "/gamemodes"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - the configured API
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(0 if overfast_reachable() else 1)
