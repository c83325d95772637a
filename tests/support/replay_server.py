"""A test server that replays the real OverFast responses recorded under tests/fixtures/overfast.

Each request path of ``responses/INDEX.tsv`` (and ``responses2/INDEX.tsv`` for paths not already
there) answers its recorded status, body and headers; a path recorded several times (the 404 and 503
sequences) answers the recordings in order, then repeats the last one. Any other ``/players/...``
path answers the recorded 404. A test can script a sequence of replies for a path and count the
requests each path received.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from owstream.simulator import SimResponse, SimulatorServer

OVERFAST_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "overfast"
RESPONSES = OVERFAST_DIR / "responses"
RESPONSES2 = OVERFAST_DIR / "responses2"
_HOP_HEADERS = {"content-length", "date", "server", "connection", "transfer-encoding"}
NOT_FOUND_FILE = "error_404_unknown_player_1st.json"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(body).encode(), {"content-type": "application/json", **(headers or {})})


def normalise(target: str) -> str:
    """``/players/A-1/stats/summary?platform=pc&gamemode=x`` with its query sorted and path unquoted."""
    parts = urlsplit(target)
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    path = unquote(parts.path)
    return f"{path}?{urlencode(query)}" if query else path


def read_headers(path: Path) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in path.read_text().splitlines()[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() not in _HOP_HEADERS:
            headers[name.strip().lower()] = value.strip()
    return headers


def recorded(file_name: str, directory: Path = RESPONSES) -> Reply:
    """The recorded reply of one response file: its status (from INDEX.tsv), body and headers."""
    status = next(status for name, status, _ in read_index(directory) if name == file_name)
    headers = read_headers(directory / "headers" / (Path(file_name).stem + ".txt"))
    return Reply(status, (directory / file_name).read_bytes(), headers)


def read_index(directory: Path) -> list[tuple[str, int, str]]:
    rows = []
    for line in (directory / "INDEX.tsv").read_text().splitlines()[1:]:
        name, status, _size, request = line.split("\t")
        rows.append((name, int(status), request.split(" ")[0]))
    return rows


@functools.cache
def load_recordings() -> dict[str, list[Reply]]:
    table: dict[str, list[Reply]] = {}
    for directory in (RESPONSES, RESPONSES2):
        seen_here: dict[str, list[Reply]] = {}
        for name, _status, request in read_index(directory):
            key = normalise(request)
            if key in table:
                continue  # responses/ wins over responses2/
            seen_here.setdefault(key, []).append(recorded(name, directory))
        table.update(seen_here)
    return table


class ReplayServer:
    """Recorded OverFast answers on 127.0.0.1:<free port>, from a background thread."""

    def __init__(self) -> None:
        self._recordings = {key: list(replies) for key, replies in load_recordings().items()}
        self._not_found = recorded(NOT_FOUND_FILE)
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Reply]] = {}
        self._served: dict[str, int] = {}
        self.counts: Counter[str] = Counter()
        self.requests: list[str] = []
        self._server = SimulatorServer(self)  # the simulator's HTTP front, answering with handle()
        self._arrived = threading.Condition()
        self._in_flight = 0
        self._gather: tuple[int, float] | None = None  # hold requests until this many are in flight
        self.most_at_once = 0  # the most requests in flight at the same time (since the last gather)

    def gather(self, n: int, timeout: float) -> None:
        """Hold the next requests until ``n`` of them are in flight at the same time (each waits at most
        ``timeout`` s, then is answered anyway): requests sent one after another never overlap, so
        ``most_at_once`` stays below ``n``; sent together, they are all answered once the last arrives."""
        with self._arrived:
            self._gather = (n, timeout)
            self.most_at_once = self._in_flight

    @property
    def url(self) -> str:
        return self._server.url

    def handle(self, method: str, target: str, body: bytes = b"") -> SimResponse:
        with self._arrived:
            self._in_flight += 1
            self.most_at_once = max(self.most_at_once, self._in_flight)
            self._arrived.notify_all()
            if self._gather is not None:
                n, timeout = self._gather
                if self._arrived.wait_for(lambda: self.most_at_once >= n, timeout):
                    self._gather = None  # gathered: the requests after these are not held
        try:
            reply = self.reply_for(target)
            return SimResponse(reply.status, reply.body, reply.headers)
        finally:
            with self._arrived:
                self._in_flight -= 1

    def script(self, target: str, replies: list[Reply]) -> None:
        """The next requests to ``target`` get these replies in order, then the recorded one again."""
        with self._lock:
            self._scripts.setdefault(normalise(target), deque()).extend(replies)

    def count(self, target: str) -> int:
        return self.counts[normalise(target)]

    def reply_for(self, target: str) -> Reply:
        key = normalise(target)
        with self._lock:
            self.counts[key] += 1
            self.requests.append(key)
            script = self._scripts.get(key)
            if script:
                return script.popleft()
            replies = self._recordings.get(key)
            if replies:
                index = self._served.get(key, 0)
                self._served[key] = index + 1
                return replies[min(index, len(replies) - 1)]
        if key.startswith("/players/"):
            return self._not_found
        return Reply.json(404, {"error": "Route not found"})

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
