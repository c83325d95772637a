"""The OverFast HTTP client: one pooled httpx.Client, a shared client-side rate limit, retries with
Retry-After or exponential backoff with full jitter, and every outcome mapped to owstream's errors.

=================  =======================================================================
answer             what the client does
=================  =======================================================================
200                check the body with its model (owstream.messages.bodies), return its bytes
                   as they came (bad JSON/shape: MalformedResponse, not retried)
404                PlayerNotFound with ``retry_after`` (nested or flat body)
429 / 503          sleep Retry-After (if <= max_backoff) and retry; at the end UpstreamBusy
500 / 504 / other  retry with backoff; at the end UpstreamUnavailable
5xx, timeouts,
connection errors
422 / other 4xx    ClientBug, no retry
=================  =======================================================================
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar
from urllib.parse import quote, unquote

import httpx

from owstream.domain.vocabulary import GAMEMODES
from owstream.errors import (
    ClientBug,
    MalformedResponse,
    OverFastError,
    PlayerNotFound,
    ProcessingError,
    UpstreamBusy,
    UpstreamUnavailable,
)
from owstream.messages import codec
from owstream.messages.bodies import ErrorBody, HeroStat, HeroSummary, NotFoundBody, PlayerSummary, StatsSummary
from owstream.overfast.ratelimit import RateLimiter

if TYPE_CHECKING:
    from owstream.config import Settings

__all__ = ["CACHE_HEADERS", "ApiResponse", "OverFastClient", "Snapshot"]

_EMPTY_STATS = StatsSummary()
MAX_BODY = 1024 * 1024  # bytes of one answer, at most (a stats summary is ~15 KB, a whole player 320 KB)

log = logging.getLogger(__name__)

CACHE_HEADERS: tuple[str, ...] = ("x-cache-ttl", "cache-control", "age")
_BUSY = frozenset({429, 503})
_USER_AGENT = "owstream (+https://github.com/TeKrop/overfast-api consumer)"


M = TypeVar("M")


@dataclass(frozen=True)
class _Answer:
    body: bytes
    status: int
    cache_headers: dict[str, str]


@dataclass(frozen=True)
class _Reply:
    """What came back from one attempt: status, headers and the whole body (read within the deadline)."""

    status_code: int
    headers: httpx.Headers
    content: bytes


@dataclass(frozen=True)
class ApiResponse(Generic[M]):
    """One successful answer: the body's bytes as they came, the same body checked against its model, the
    status and the cache headers."""

    body: bytes
    checked: M
    status: int
    cache_headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """The summary and the stats summary per gamemode of one player at one moment, as OverFast's bytes."""

    player_id: str
    private: bool
    summary: bytes
    stats: dict[str, bytes]
    status: int
    cache_headers: dict[str, str] = field(default_factory=dict)


class _Retry(Exception):  # noqa: N818 - internal signal, never escapes the client
    """One attempt failed in a retryable way."""

    def __init__(self, error: OverFastError, wait: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait  # None: exponential backoff; a number: what the server asked for


class OverFastClient:
    """Typed access to the OverFast endpoints a snapshot needs."""

    def __init__(
        self,
        base_url: str,
        *,
        rate_limit: float,
        timeout: float,
        max_attempts: int,
        max_backoff: float,
        transport: httpx.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 0.5,
        rng: random.Random | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.backoff_base = backoff_base
        self._limiter = limiter if limiter is not None else RateLimiter.shared(rate_limit)
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()  # noqa: S311 - jitter, not crypto
        self.timeout = timeout
        self.max_body = max_body
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="overfast")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(min(timeout, 5.0), connect=min(timeout, 5.0)),
            transport=transport,
            headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
            limits=httpx.Limits(max_connections=10, max_keepalive_connections=10),
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> OverFastClient:
        options: dict[str, Any] = {
            "rate_limit": settings.rate_limit,
            "timeout": settings.overfast_timeout,
            "max_attempts": settings.overfast_max_attempts,
            "max_backoff": settings.overfast_max_backoff,
        }
        options.update(overrides)
        return cls(settings.overfast_url, **options)

    # --- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- endpoints ---------------------------------------------------------------------------------
    def summary(self, player_id: str) -> ApiResponse[PlayerSummary]:
        """``GET /players/{player_id}/summary``."""
        return self._get_model(f"/players/{_quote(player_id)}/summary", {}, PlayerSummary)

    def stats_summary(self, player_id: str, gamemode: str) -> ApiResponse[StatsSummary]:
        """``GET /players/{player_id}/stats/summary?gamemode=...`` (one gamemode, never merged)."""
        path = f"/players/{_quote(player_id)}/stats/summary"
        return self._get_model(path, {"gamemode": gamemode}, StatsSummary)

    def blizzard_id(self, battletag_id: str) -> str | None:
        """Blizzard's player id of ``Name-1234`` from ``GET /players?name=`` (its ``blizzard_id``, ``%7C``
        decoded to ``|``); None if the search does not list that player (Blizzard's search misses some)."""
        answer = self._get("/players", {"name": battletag_id})
        try:
            found = codec.decode_json(answer.body)
        except ProcessingError as exc:
            raise MalformedResponse(f"OverFast answered /players with a body that is {exc}") from exc
        results = found.get("results") if isinstance(found, dict) else None
        for item in results if isinstance(results, list) else []:
            if isinstance(item, dict) and item.get("player_id") == battletag_id:
                blizzard = item.get("blizzard_id")
                if isinstance(blizzard, str) and blizzard:
                    return unquote(blizzard).lower()
        return None

    def fetch_snapshot(
        self, player_id: str, gamemodes: Iterable[str] = GAMEMODES, *, concurrent: bool = False
    ) -> Snapshot:
        """The summary and each gamemode's stats summary (apart, never merged). ``concurrent``: the three are
        asked at once, inside the rate limit (one round trip; for a player OverFast knows: each request for
        an unknown one raises OverFast's backoff for it); else the summary first, and no stats for a private
        or unknown profile. Private profiles have no stats: the summary says so (or every body is empty).
        The summary's error wins over the others' (a player not found is not found)."""
        modes = list(gamemodes)
        bodies = {m: self._pool.submit(self.stats_summary, player_id, m) for m in modes} if concurrent else {}
        try:
            summary = self.summary(player_id)
        except BaseException:
            for future in bodies.values():
                future.cancel()
            raise
        if summary.checked.private:
            return Snapshot(player_id, True, summary.body, {}, summary.status, summary.cache_headers)
        if not concurrent:
            bodies = {m: self._pool.submit(self.stats_summary, player_id, m) for m in modes}
        answers = {mode: future.result() for mode, future in bodies.items()}
        stats = {mode: answer.body for mode, answer in answers.items()}
        status = max((answer.status for answer in answers.values()), default=summary.status)
        private = bool(stats) and all(answer.checked == _EMPTY_STATS for answer in answers.values())
        return Snapshot(player_id, private, summary.body, {} if private else stats, status, summary.cache_headers)

    def hero_stats(
        self, platform: str, gamemode: str, region: str, division: str | None = None, role: str | None = None
    ) -> ApiResponse[list[HeroStat]]:
        """``GET /heroes/stats``: pick rate and winrate per hero (percent) of one platform, gamemode and region,
        of one competitive division (None: every division) and role (None: every role)."""
        params = {"platform": platform, "gamemode": gamemode, "region": region}
        if division is not None:
            params["competitive_division"] = division
        if role is not None:
            params["role"] = role
        answer = self._get("/heroes/stats", params)
        try:
            rows = codec.decode_hero_rows(answer.body)
        except ProcessingError as exc:
            raise MalformedResponse(
                f"OverFast answered /heroes/stats with a body that is {exc}", status=answer.status
            ) from exc
        return ApiResponse(answer.body, rows, answer.status, answer.cache_headers)

    def heroes(self) -> ApiResponse[list[HeroSummary]]:
        """``GET /heroes``: every hero's key, display name, role and portrait URL."""
        answer = self._get("/heroes", {})
        try:
            found = codec.decode_heroes(answer.body)
        except ProcessingError as exc:
            raise MalformedResponse(
                f"OverFast answered /heroes with a body that is {exc}", status=answer.status
            ) from exc
        return ApiResponse(answer.body, found, answer.status, answer.cache_headers)

    # --- the request loop --------------------------------------------------------------------------
    def _get_model(self, path: str, params: dict[str, str], model: type[M]) -> ApiResponse[M]:
        answer = self._get(path, params)
        try:
            checked = codec.decode_as(answer.body, model)
        except ProcessingError as exc:
            raise MalformedResponse(
                f"OverFast answered {path} with a body that is {exc}", status=answer.status
            ) from exc
        return ApiResponse(answer.body, checked, answer.status, answer.cache_headers)

    def _get(self, path: str, params: dict[str, str]) -> _Answer:
        """One logical request: attempts until a final outcome, sleeping between them."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._attempt(path, params)
            except _Retry as retry:
                if attempt == self.max_attempts:
                    raise retry.error from retry.error.__cause__
                wait = self._backoff(attempt) if retry.wait is None else retry.wait
                log.info(
                    "OverFast %s: %s; attempt %d/%d, retrying in %.2fs",
                    path,
                    retry.error,
                    attempt,
                    self.max_attempts,
                    wait,
                )
                self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        ceiling = min(self.max_backoff, self.backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(0.0, ceiling)

    def _attempt(self, path: str, params: dict[str, str]) -> _Answer:
        self._limiter.acquire()
        try:
            response = self._read(path, params)
        except httpx.TimeoutException as exc:
            error = UpstreamUnavailable(f"OverFast did not answer {path} in time ({type(exc).__name__})")
            error.__cause__ = exc
            raise _Retry(error, None) from exc
        except httpx.HTTPError as exc:
            error = UpstreamUnavailable(f"OverFast cannot be reached for {path}: {type(exc).__name__}: {exc}")
            error.__cause__ = exc
            raise _Retry(error, None) from exc
        return self._outcome(path, response)

    def _read(self, path: str, params: dict[str, str]) -> _Reply:
        """One GET, its whole body read within ``timeout`` seconds in all (each read has its own shorter
        timeout: a server that trickles a byte at a time is cut off at the deadline) and at most
        ``max_body`` bytes (after decompression)."""
        deadline = time.monotonic() + self.timeout
        with self._http.stream("GET", path, params=params or None) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > self.max_body:
                    raise MalformedResponse(
                        f"OverFast answered {path} with more than {self.max_body:,} bytes", status=response.status_code
                    )
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout(f"the whole answer took more than {self.timeout:.0f} s")
            return _Reply(response.status_code, response.headers, bytes(body))

    def _outcome(self, path: str, response: _Reply) -> _Answer:
        status = response.status_code
        if status == 200:
            return _Answer(response.content, status, _cache_headers(response))
        if status == 404:
            raise _not_found(path, response)
        if status in _BUSY:
            raise self._busy(path, response)
        if 400 <= status < 500:
            raise ClientBug(f"OverFast rejected {path} with {status}: {_error_text(response)}", status=status)
        error = UpstreamUnavailable(f"OverFast answered {path} with {status}: {_error_text(response)}")
        error.status = status
        raise _Retry(error, None)

    def _busy(self, path: str, response: _Reply) -> Exception:
        retry_after = _retry_after_header(response)
        error = UpstreamBusy(
            f"OverFast is busy ({response.status_code}) for {path}: {_error_text(response)}",
            status=response.status_code,
            retry_after=retry_after,
        )
        if retry_after is not None and retry_after > self.max_backoff:
            return error  # longer than we are willing to wait: report, do not sleep
        return _Retry(error, retry_after)


# --- helpers ------------------------------------------------------------------------------------------
def _quote(player_id: str) -> str:
    return quote(player_id, safe="")


def _cache_headers(response: _Reply) -> dict[str, str]:
    return {name: response.headers[name] for name in CACHE_HEADERS if name in response.headers}


def _retry_after_header(response: _Reply) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: not used by OverFast
    return max(0.0, seconds)


def _error_text(response: _Reply) -> str:
    """OverFast's ``error`` text of a failed answer (at most 200 characters), else the start of the body."""
    try:
        body = codec.decode_as(response.content, ErrorBody)
    except ProcessingError:
        return response.content[:200].decode("utf-8", "replace")
    return body.error[:200]


def _not_found(path: str, response: _Reply) -> PlayerNotFound:
    try:
        body = codec.decode_as(response.content, NotFoundBody).flat()
    except ProcessingError:
        return PlayerNotFound(f"OverFast does not know {path}", status=404)
    message = body.error
    return PlayerNotFound(
        f"{message}: {path} (retry after {body.retry_after} s)", status=404, retry_after=body.retry_after
    )
