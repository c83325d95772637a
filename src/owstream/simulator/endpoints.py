"""Which OverFast endpoint a request asks, for the simulator's count of calls (benchmarks count a fetch's calls
per endpoint with it)."""

from __future__ import annotations

from urllib.parse import urlsplit


def endpoint_of(target: str) -> str:
    """The endpoint a request asks: ``summary``, ``stats`` (``/stats/summary``), ``search``, ``player``,
    ``hero-stats``, or the path's first part."""
    path = urlsplit(target).path.strip("/").split("/")
    if path[0] == "players":
        if len(path) == 1:
            return "search"
        rest = "/".join(path[2:])
        return {"summary": "summary", "stats/summary": "stats", "": "player"}.get(rest, rest)
    return "hero-stats" if path[:2] == ["heroes", "stats"] else path[0]
