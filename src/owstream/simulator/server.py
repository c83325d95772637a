"""The simulator's HTTP front: a stdlib ThreadingHTTPServer on 127.0.0.1 that moves bytes between
sockets and a handler (``Simulator.handle``) and nothing else."""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:
    from owstream.simulator.responses import SimResponse

__all__ = ["Handler", "SimulatorServer"]

log = logging.getLogger(__name__)


class Handler(Protocol):
    def handle(self, method: str, target: str, body: bytes = b"") -> SimResponse: ...


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Handler, stopping: threading.Event) -> None:
        self.app = app
        self.stopping = stopping
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "owstream-simulator"
    disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall

    def do_GET(self) -> None:
        self._respond("GET")

    def do_POST(self) -> None:
        self._respond("POST")

    def _respond(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = self.server.app.handle(method, self.path, body)
        if answer.delay and self.server.stopping.wait(answer.delay):
            return  # shutting down: drop the slow answer
        try:
            self.send_response(answer.status)
            headers = dict(answer.headers)
            if not any(name.lower() == "content-type" for name in headers):
                headers["Content-Type"] = "application/json"
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if answer.trickle:
                self._trickle(answer.body, answer.trickle)
            else:
                self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            log.debug("client went away before the answer to %s %s", method, self.path)

    def _trickle(self, body: bytes, interval: float) -> None:
        """The body a byte at a time, ``interval`` seconds apart (a server that never quite answers)."""
        for index in range(len(body)):
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()
            if self.server.stopping.wait(interval):
                return

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class SimulatorServer:
    """Serve a simulator (or any object with the simulator's ``handle``) on ``host:port`` (port 0: any
    free port) from a background thread."""

    def __init__(self, simulator: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        self._stopping = threading.Event()
        self._server = _Server((host, port), simulator, self._stopping)
        self._thread: threading.Thread | None = None
        bound = getattr(simulator, "bound", None)
        if callable(bound):  # a simulator points its pictures at this server
            bound(self.url)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name=f"simulator:{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        try:
            self._server.serve_forever()
        finally:
            self._stopping.set()
            self._server.server_close()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
