"""The simulator's answers: their shape, the faults it can inject, and the bodies OverFast gives for errors and
validation failures (the same text as the real server's)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

CACHE_TTL = 600  # OverFast caches player answers this long
RATE_LIMIT_BODY = {"error": "API rate limit reached, please wait for 1 second before retrying"}
ERROR_BODIES = {
    503: "Blizzard is temporarily rate limiting this API. Please retry after {retry_after} seconds.",
    504: "Couldn't get Blizzard page (HTTP 500 error) : Internal Server Error",
    500: (
        "An internal server error occurred during the process. The developer received a notification, "
        "but don't hesitate to create a GitHub issue if you want any news concerning the bug resolution "
        ": https://github.com/TeKrop/overfast-api/issues"
    ),
}


@dataclass(frozen=True)
class SimResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds the server waits before answering
    trickle: float = 0.0  # seconds between two bytes of the body (0: the body at once)


@dataclass
class Fault:
    """Injected into the next ``count`` API requests (admin requests are never affected)."""

    count: int
    status: int | None = None
    garbage: bool = False
    delay: float = 0.0
    retry_after: int = 1
    trickle: float = 0.0  # the answer's body sent a byte at a time, this many seconds apart
    huge: int = 0  # a 200 whose JSON body has this many bytes
    deep: int = 0  # a 200 whose body is this many nested arrays ([[[...]]])


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> SimResponse:
    return SimResponse(status, json.dumps(body).encode(), headers or {})


def cached(body: Any) -> SimResponse:
    headers = {"X-Cache-TTL": str(CACHE_TTL), "Cache-Control": f"public, max-age={CACHE_TTL}", "Age": "0"}
    return json_response(200, body, headers)


def validation_error(name: str, value: str, allowed: Sequence[str]) -> SimResponse:
    expected = " or ".join(f"'{item}'" for item in allowed)
    detail = {
        "type": "enum",
        "loc": ["query", name],
        "msg": f"Input should be {expected}",
        "input": value,
        "ctx": {"expected": expected},
    }
    return json_response(422, {"detail": [detail]})
