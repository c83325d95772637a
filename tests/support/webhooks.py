"""A webhook receiver on 127.0.0.1 for the notifier's tests: records every POST (path, JSON body, time and
what it answered) and answers as scripted per path: 204 by default, or a status with headers (429 with
Retry-After, 500, ...), or only after a delay (a timeout for the sender)."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True)
class Answer:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds before answering


@dataclass(frozen=True)
class Received:
    path: str
    body: Any
    headers: dict[str, str]
    at: float  # time.time() when it arrived
    status: int  # what the receiver answered


class WebhookReceiver:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Answer]] = {}
        self._defaults: dict[str, Answer] = {}
        self._stopping = threading.Event()
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                answer = receiver._answer(self.path)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, body, dict(self.headers.items()), time.time(), answer.status)
                    )
                if answer.delay and receiver._stopping.wait(answer.delay):
                    return
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (its timeout)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str = "/api/webhooks/1234/secret-token-abc") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def script(self, path: str, answers: list[Answer]) -> None:
        """The next POSTs to ``path`` get these answers in order, then the default."""
        with self._lock:
            self._scripts.setdefault(path, deque()).extend(answers)

    def always(self, path: str, answer: Answer) -> None:
        with self._lock:
            self._defaults[path] = answer

    def _answer(self, path: str) -> Answer:
        with self._lock:
            script = self._scripts.get(path)
            if script:
                return script.popleft()
            return self._defaults.get(path, Answer())

    def delivered(self, path: str | None = None) -> list[Received]:
        """What was answered 2xx (to ``path``), oldest first."""
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300 and (path is None or r.path == path)]

    def attempts(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
