"""Webhooks that cannot reach inside: the check made when a URL is set, and the POST the notifier sends.

* **Checked when set** (:func:`webhook_problem`, what ``owstream track`` and the Watchlist page call): the
  URL's shape (:func:`owstream.domain.alerts.webhook_problem`), then its host resolved and every address
  judged (:mod:`owstream.domain.addresses`): loopback, private, link-local, multicast, reserved and
  unspecified addresses are refused with why, unless ``OWSTREAM_NOTIFY_ALLOW`` names the receiver. A name
  that does not resolve now is accepted: the send checks again.
* **Checked again at each send**, at connect time: the host is resolved once, every address judged, and
  the connection made to the address that was judged (the Host header and TLS name stay the URL's host), so
  a DNS answer that changes between the check and the connection (rebinding) cannot swap it. A refused
  address gives up the delivery at once, with why.
* **No redirects**: a 3xx answer is a failure saying so (a webhook that redirects is not one), never
  followed; a delivery is ``sent`` only on a 2xx from the address checked.

URLs are secrets: nothing here returns or logs one, only :func:`owstream.domain.alerts.mask_url` of it.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from owstream import retry
from owstream.config import Settings
from owstream.domain import alerts
from owstream.domain.addresses import NOTHING, Allowed, parse_address, parse_allowed, refusal

USER_AGENT = "owstream-notifier (+https://github.com/TeKrop/overfast-api consumer)"
ANSWER_MAX = 64 * 1024  # bytes of a webhook's answer read at most
RESOLVE_TIMEOUT = 5.0  # seconds a name may take to resolve when a URL is set

Resolve = Callable[[str, int], list[str]]  # host, port -> its addresses


@dataclass(frozen=True)
class Sent:
    """What one POST to a webhook gave."""

    ok: bool
    status: int | None = None  # HTTP status, if the webhook answered
    retry_after: float | None = None  # seconds, from Retry-After (or Discord's JSON ``retry_after``)
    error: str | None = None  # why it failed, without the URL
    final: bool = False  # a refusal that no retry changes (4xx other than 408 and 429, 3xx, an inside address)


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (an address resolves to itself), in the resolver's order;
    OSError if it does not resolve."""
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_RESOLVING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="webhook-dns")


def _resolve_within(resolver: Resolve, host: str, port: int, timeout: float) -> list[str] | None:
    """``resolver``'s answer, or None if it fails or takes longer than ``timeout`` (getaddrinfo has no timeout)."""
    future = _RESOLVING.submit(resolver, host, port)
    try:
        return future.result(timeout=timeout)
    except (OSError, FutureTimeout, UnicodeError):
        return None


def allowed_of(settings: Settings) -> Allowed:
    return parse_allowed(settings.notify_allow) if settings.notify_allow.strip() else NOTHING


def webhook_problem(url: str, allowed: Allowed = NOTHING, resolver: Resolve = resolve) -> str | None:
    """Why ``url`` cannot be a webhook (one line, without the URL's secret), or None: its shape, then every
    address its host resolves to (a host that does not resolve now is checked again at each send)."""
    problem = alerts.webhook_problem(url)
    if problem is not None:
        return problem
    host, port = _host_port(url)
    if allowed.allows_host(host):
        return None
    if parse_address(host) is not None:  # an address is judged as it is (a zone id does not resolve)
        return refusal(host, [host], allowed)
    addresses = _resolve_within(resolver, host, port, RESOLVE_TIMEOUT)
    return None if addresses is None else refusal(host, addresses, allowed)


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to ``address`` (checked), with the URL's host in the Host header."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to ``address`` (checked), the certificate verified for the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.address, self.context = address, context

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.context.wrap_socket(raw, server_hostname=self.host)


class WebhookSender:
    """POSTs JSON to webhooks, reaching only the addresses :mod:`owstream.domain.addresses` accepts (what
    ``allowed`` names aside); the notifier's ``send``."""

    def __init__(
        self, allowed: Allowed = NOTHING, resolver: Resolve = resolve, tls: ssl.SSLContext | None = None
    ) -> None:
        self.allowed = allowed
        self.resolver = resolver
        self._tls = tls or ssl.create_default_context()  # certificates checked against the URL's host

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookSender:
        return cls(allowed_of(settings))

    def __call__(self, url: str, body: dict[str, Any], timeout: float) -> Sent:
        problem = alerts.webhook_problem(url)
        if problem is not None:
            return Sent(False, error=f"not a webhook URL: {problem}", final=True)
        host, port = _host_port(url)
        try:
            addresses = [host] if parse_address(host) is not None else self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            return Sent(False, error=f"no answer: {host} does not resolve ({exc})")
        refused = refusal(host, addresses, self.allowed)
        if refused is not None:
            return Sent(False, error=f"refused: {refused}", final=True)
        try:
            return self._post(url, addresses[0], body, timeout)
        except (OSError, http.client.HTTPException) as exc:
            return Sent(False, error=scrub(f"no answer: {exc or type(exc).__name__}", url))

    def _post(self, url: str, address: str, body: dict[str, Any], timeout: float) -> Sent:
        """One POST to ``address`` (checked), the URL's host in the Host header and the TLS name."""
        parts = urlsplit(url)
        host, port = _host_port(url)
        conn: http.client.HTTPConnection = (
            _PinnedHTTPS(host, port, address, timeout, self._tls)
            if parts.scheme == "https"
            else _PinnedHTTP(host, port, address, timeout)
        )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Connection": "close"}
            conn.request("POST", path, body=json.dumps(body).encode(), headers=headers)
            answer = conn.getresponse()
            text = answer.read(ANSWER_MAX).decode("utf-8", "replace")
            return _sent(answer.status, answer.reason, answer.getheader("Retry-After"), scrub(text, url))
        finally:
            conn.close()


def _sent(status: int, reason: str, retry_header: str | None, text: str) -> Sent:
    if 200 <= status < 300:
        return Sent(True, status)
    said = f": {' '.join(text.split())[:200]}" if text.strip() else ""
    if 300 <= status < 400:
        return Sent(False, status, error=f"HTTP {status} {reason}: a redirect, not followed", final=True)
    final = 400 <= status < 500 and status not in (408, 429)
    return Sent(False, status, retry_after_of(retry_header, text), f"HTTP {status} {reason}{said}", final)


def retry_after_of(header: str | None, body: str = "") -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), else from a JSON body's
    ``retry_after`` (Discord's 429 says it there too); None if neither says."""
    said = retry.retry_after_of(header)
    if said is not None:
        return said
    try:
        value = json.loads(body).get("retry_after") if body.strip().startswith("{") else None
    except ValueError:
        return None
    return max(0.0, float(value)) if isinstance(value, int | float) and not isinstance(value, bool) else None


def scrub(text: str, url: str) -> str:
    """``text`` with the URL and its secret part masked (a receiver may echo what it got)."""
    secret = url.rstrip("/").rsplit("/", 1)[-1]
    text = text.replace(url, alerts.mask_url(url))
    return text.replace(secret, alerts.MASK) if len(secret) >= 6 else text
