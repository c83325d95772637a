"""An answer's body read within bounds, whatever its ``Content-Encoding``.

httpx decodes a compressed body one network chunk at a time with no cap on what one chunk inflates to: a
32 KiB zstd answer made of run-length blocks is 1 GiB after one ``decompress`` call, and the body cap can
only be checked after it. Here the body is read as the bytes on the wire (``iter_raw``) and decoded by
pulling: each decoder is asked for at most the bytes still allowed, so what is held in memory is the body
cap plus one 64 KiB piece, never what the answer claims to hold.

Bounds on every answer: the bytes on the wire (``max_raw``), the bytes once decoded (``max_body``), and the
time to read them all (``deadline``: a trickled answer is cut off). Encodings read: ``gzip``, ``deflate``,
``zstd`` (the ``Accept-Encoding`` owstream sends; at most :data:`MAX_CODINGS` of them stacked); any other
(``br``: owstream ships no brotli decoder) is refused with why. A zstd stream asking for a window over 8 MiB
is refused too (:data:`owstream.messages.codec.MAX_WINDOW`).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

import httpx

from owstream.errors import ProcessingError
from owstream.messages import codec

PIECE = 64 * 1024  # bytes asked of a decoder (or the network) at a time
ENCODINGS = ("gzip", "deflate", "zstd")
ACCEPT_ENCODING = ", ".join(ENCODINGS)
MAX_CODINGS = 2  # "gzip, zstd" at most: more is no server's doing
_IDENTITY = frozenset({"", "identity"})


class BodyRefused(Exception):  # noqa: N818 - a reason, worded to follow "OverFast answered <path> with"
    """The body breaks a bound or cannot be decoded; ``str()`` says which, e.g. "more than 1,048,576 bytes
    once decoded (Content-Encoding: zstd)"."""


class _Readable(Protocol):
    def read(self, size: int) -> bytes: ...


class _Wire:
    """The body's bytes as they arrive, counted against ``limit`` and the deadline."""

    def __init__(self, chunks: Iterable[bytes], limit: int, deadline: float, clock: Callable[[], float]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""
        self._limit, self._deadline, self._clock = limit, deadline, clock
        self.total = 0

    def read(self, size: int) -> bytes:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self.total += len(chunk)
            if self.total > self._limit:
                raise BodyRefused(f"more than {self._limit:,} bytes on the wire")
            if self._clock() > self._deadline:
                raise httpx.ReadTimeout("the whole answer took longer than its deadline")
            self._buffer = chunk
        piece, self._buffer = self._buffer[:size], self._buffer[size:]
        return piece


class _Zlib:
    """gzip (members one after another) or deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, source: _Readable, coding: str) -> None:
        self._source, self._coding = source, coding
        self._wbits = 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS
        self._inflate = zlib.decompressobj(self._wbits)
        self._pending = b""
        self._started = False  # deflate: whether the zlib header was accepted

    def read(self, size: int) -> bytes:
        while True:
            data = self._pending or self._source.read(PIECE)
            if not data:
                return self._inflate.flush() if not self._inflate.eof else b""
            try:
                out = self._inflate.decompress(data, size)
            except zlib.error as exc:
                if self._coding == "deflate" and not self._started:  # raw deflate, without the zlib header
                    self._wbits, self._started = -zlib.MAX_WBITS, True
                    self._inflate, self._pending = zlib.decompressobj(self._wbits), data
                    continue
                raise BodyRefused(f"a {self._coding} body that does not decompress ({exc})") from exc
            self._started = True
            self._pending = self._inflate.unconsumed_tail
            if self._inflate.eof and self._inflate.unused_data:  # a next gzip member
                self._pending = self._inflate.unused_data
                self._inflate = zlib.decompressobj(self._wbits)
            if out:
                return out


class _Zstd:
    def __init__(self, source: _Readable) -> None:
        self._reader = codec.zstd_reader(source)

    def read(self, size: int) -> bytes:
        try:
            return self._reader.read(size)
        except ProcessingError as exc:
            raise BodyRefused(f"a zstd body that does not decompress ({exc})") from exc


def codings(header: str | None) -> list[str]:
    """The codings of a ``Content-Encoding`` header in the order they were applied (``identity`` left out);
    BodyRefused for one owstream does not read, or too many."""
    found = [c.strip().lower() for c in (header or "").split(",") if c.strip().lower() not in _IDENTITY]
    if "x-gzip" in found:
        found = ["gzip" if c == "x-gzip" else c for c in found]
    unknown = [c for c in found if c not in ENCODINGS]
    if unknown:
        raise BodyRefused(
            f"a Content-Encoding owstream does not read ({', '.join(unknown)}; it asks for {ACCEPT_ENCODING})"
        )
    if len(found) > MAX_CODINGS:
        raise BodyRefused(f"{len(found)} Content-Encodings stacked ({header}), more than {MAX_CODINGS}")
    return found


def read_body(
    chunks: Iterable[bytes],
    content_encoding: str | None,
    *,
    max_body: int,
    max_raw: int,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """The decoded body of ``chunks`` (the bytes on the wire): BodyRefused past ``max_raw`` bytes on the wire
    or ``max_body`` decoded, or for a body that does not decode; httpx.ReadTimeout past ``deadline``
    (``clock``'s time)."""
    applied = codings(content_encoding)
    wire = _Wire(chunks, max_raw, deadline, clock)
    stream: _Readable = wire
    for coding in reversed(applied):  # the last coding applied is the first undone
        stream = _Zstd(stream) if coding == "zstd" else _Zlib(stream, coding)
    body = bytearray()
    while True:
        piece = stream.read(min(PIECE, max_body + 1 - len(body)))
        if not piece:
            return bytes(body)
        body += piece
        if len(body) > max_body:
            said = f" once decoded (Content-Encoding: {', '.join(applied)})" if applied else ""
            raise BodyRefused(f"more than {max_body:,} bytes{said}")
        if clock() > deadline:
            raise httpx.ReadTimeout("the whole answer took longer than its deadline")
