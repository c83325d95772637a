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
connection errors  (the message names the cause: a refused connection, a timeout, ...)
unknown host name  UpstreamUnavailable at once, saying the name does not resolve (no retry)
422 / other 4xx    ClientBug, no retry
=================  =======================================================================
"""

from __future__ import annotations

import dataclasses
import logging
import random
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar
from urllib.parse import quote

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
from owstream.messages.bodies import (
    ErrorBody,
    HeroStat,
    HeroSummary,
    NotFoundBody,
    PlayerSearch,
    PlayerSummary,
    StatsSummary,
)
from owstream.overfast import decoding
from owstream.overfast.ratelimit import BURST, RateLimiter
from owstream.retry import Backoff, retry_after_of

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
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], object] = time.sleep,  # a true answer: cut short (stopping), no more attempts
        backoff_base: float = 0.5,
        rng: random.Random | None = None,
        max_body: int = MAX_BODY,
        local_address: str | None = None,
    ) -> None:
        """``local_address``: the local IP the requests leave from (one egress address of several; None: the
        system's choice)."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.backoff_base = backoff_base
        self._limiter = limiter if limiter is not None else RateLimiter.shared(rate_limit, burst=BURST)
        self._sleep = sleep
        policy = Backoff(base=backoff_base, cap=max_backoff, jitter="full")  # the clients of one server spread out
        self._backoff_policy = policy if rng is None else dataclasses.replace(policy, rng=rng)
        self.timeout = timeout
        self.max_body = max_body
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="overfast")
        limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
        transport = httpx.HTTPTransport(local_address=local_address, limits=limits) if local_address else None
        self.local_address = local_address
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(min(timeout, 5.0), connect=min(timeout, 5.0)),
            transport=transport,
            headers={
                "User-Agent": _USER_AGENT,
                "Accept": "application/json",
                "Accept-Encoding": decoding.ACCEPT_ENCODING,
            },
            limits=limits,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> OverFastClient:
        options: dict[str, Any] = {
            "rate_limit": settings.rate_limit,
            "timeout": settings.overfast_timeout,
            "max_attempts": settings.overfast_max_attempts,
            "max_backoff": settings.overfast_max_backoff,
            "local_address": settings.overfast_source_address.strip() or None,
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

    def stats_summary(self, player_id: str, gamemode: str, platform: str | None = None) -> ApiResponse[StatsSummary]:
        """``GET /players/{player_id}/stats/summary?gamemode=...[&platform=...]`` (one gamemode, never merged;
        without ``platform`` OverFast adds pc and console together)."""
        path = f"/players/{_quote(player_id)}/stats/summary"
        params = {"gamemode": gamemode} if platform is None else {"gamemode": gamemode, "platform": platform}
        return self._get_model(path, params, StatsSummary)

    def search(self, name: str) -> ApiResponse[PlayerSearch]:
        """``GET /players?name=``: the public players of that exact name (a single hit is labelled with
        ``name`` as its ``player_id``, whoever it is: see :mod:`owstream.domain.identity`)."""
        return self._get_model("/players", {"name": name}, PlayerSearch)

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

    def fetch_parts(
        self, player_id: str, stats: Sequence[tuple[str, str]], *, summary: bool
    ) -> tuple[ApiResponse[PlayerSummary] | None, dict[tuple[str, str], ApiResponse[StatsSummary]]]:
        """The summary (if ``summary``) and the stats summary of each (platform, gamemode) of ``stats``, all asked at
        once inside the rate limit (one round trip). The summary's error wins over the others' (a player not found
        is not found)."""
        futures = {pair: self._pool.submit(self.stats_summary, player_id, pair[1], pair[0]) for pair in stats}
        try:
            answer = self.summary(player_id) if summary else None
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise
        return answer, {pair: future.result() for pair, future in futures.items()}

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
                if self._sleep(wait):  # cut short: the service stops, the request ends with its last error
                    raise retry.error from retry.error.__cause__
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        return self._backoff_policy.delay(attempt)

    def _attempt(self, path: str, params: dict[str, str]) -> _Answer:
        self._limiter.acquire()
        try:
            response = self._read(path, params)
        except httpx.HTTPError as exc:
            error, retry = transport_error(self.base_url, path, exc)
            error.__cause__ = exc
            if not retry:
                raise error from exc
            raise _Retry(error, None) from exc
        return self._outcome(path, response)

    def _read(self, path: str, params: dict[str, str]) -> _Reply:
        """One GET, its whole body read within ``timeout`` seconds in all (each read has its own shorter
        timeout: a server that trickles a byte at a time is cut off at the deadline), at most ``max_body``
        bytes once decoded, whatever the Content-Encoding (:mod:`owstream.overfast.decoding`)."""
        deadline = time.monotonic() + self.timeout
        with self._http.stream("GET", path, params=params or None) as response:
            try:
                body = decoding.read_body(
                    response.iter_raw(),
                    response.headers.get("content-encoding"),
                    max_body=self.max_body,
                    max_raw=self.max_body + decoding.PIECE,
                    deadline=deadline,
                )
            except decoding.BodyRefused as exc:
                raise MalformedResponse(f"OverFast answered {path} with {exc}", status=response.status_code) from exc
            return _Reply(response.status_code, response.headers, body)

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


# --- what went wrong, in words ---------------------------------------------------------------------------
def transport_error(base_url: str, path: str, exc: httpx.HTTPError) -> tuple[UpstreamUnavailable, bool]:
    """The error for a request that got no answer, naming the cause (a name that does not resolve, a refused
    connection, a timeout), and whether another attempt can help (not for a name that does not exist)."""
    where = httpx.URL(base_url)
    host = where.host or base_url
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamUnavailable(f"OverFast did not answer {path} in time ({type(exc).__name__})"), True
    lookup = _cause(exc, socket.gaierror)
    if lookup is not None:
        permanent = lookup.errno == socket.EAI_NONAME
        why = "does not resolve" if permanent else f"cannot be resolved now ({lookup.strerror})"
        return UpstreamUnavailable(
            f"OverFast cannot be reached: the host name {host} {why} (no network or DNS here, or a wrong "
            f"OWSTREAM_OVERFAST_URL: {base_url})"
        ), not permanent
    if _cause(exc, ConnectionRefusedError) is not None:
        port = where.port or (443 if where.scheme == "https" else 80)
        return UpstreamUnavailable(
            f"OverFast cannot be reached: nothing accepts connections at {host}:{port} (connection refused: "
            f"is the server of OWSTREAM_OVERFAST_URL={base_url} running?)"
        ), True
    return UpstreamUnavailable(f"OverFast cannot be reached for {path}: {type(exc).__name__}: {exc}"), True


E = TypeVar("E", bound=BaseException)


def _cause(exc: BaseException, kind: type[E]) -> E | None:
    """The first exception of ``kind`` in the chain of causes of ``exc`` (httpx wraps httpcore wraps OSError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


# --- helpers ------------------------------------------------------------------------------------------
def _quote(player_id: str) -> str:
    return quote(player_id, safe="")


def _cache_headers(response: _Reply) -> dict[str, str]:
    return {name: response.headers[name] for name in CACHE_HEADERS if name in response.headers}


def _retry_after_header(response: _Reply) -> float | None:
    return retry_after_of(response.headers.get("retry-after"))


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
