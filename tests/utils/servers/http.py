"""A webhook receiver on loopback: captures every request, answers as scripted.

Built on the standard library's ``ThreadingHTTPServer`` so it needs nothing
installed. Tests script status codes for the next requests (``500, 503, 200``)
to exercise retries, or a delay to exercise client timeouts.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from tests.utils.servers.ports import LOOPBACK, Recorder, free_port


@dataclass(frozen=True)
class CapturedRequest:
    """One request as the receiver saw it. Header names are lower-cased."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """Decode the body as JSON."""
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        """Return a header by case-insensitive name."""
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class ScriptedResponse:
    """What to answer to one request."""

    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay: float = 0.0


class HttpReceiver:
    """Capture HTTP requests on loopback and answer from a script."""

    def __init__(
        self, *, host: str = LOOPBACK, port: int | None = None, default: ScriptedResponse | None = None
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.default = default or ScriptedResponse()
        self._recorded: Recorder[CapturedRequest] = Recorder()
        self._script: deque[ScriptedResponse] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> list[CapturedRequest]:
        """Every request received so far, oldest first."""
        return self._recorded.snapshot()

    def respond(
        self,
        status: int = 200,
        *,
        body: bytes | str = b"",
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Queue the same answer for the next ``times`` requests (after anything already queued)."""
        raw = body.encode() if isinstance(body, str) else body
        response = ScriptedResponse(status, raw, dict(headers or {}), delay)
        with self._lock:
            self._script.extend([response] * times)

    def respond_next(self, *responses: int | ScriptedResponse) -> None:
        """Queue answers in order, e.g. ``respond_next(500, 503, 200)``."""
        with self._lock:
            for r in responses:
                self._script.append(r if isinstance(r, ScriptedResponse) else ScriptedResponse(status=r))

    def wait_for(self, count: int = 1, *, timeout: float = 5.0) -> list[CapturedRequest]:
        """Wait until ``count`` requests arrived; raises ``TimeoutError`` otherwise."""
        return self._recorded.wait_for(count, timeout=timeout)

    def clear(self) -> None:
        """Forget captured requests and pending scripted answers."""
        self._recorded.clear()
        with self._lock:
            self._script.clear()

    def _next_response(self) -> ScriptedResponse:
        with self._lock:
            return self._script.popleft() if self._script else self.default

    def start(self) -> Self:
        """Bind and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._closing.clear()
        server = ThreadingHTTPServer((self.host, self.port), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="http-receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed answers are abandoned. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._closing.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(5.0)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _make_handler(receiver: HttpReceiver) -> type[BaseHTTPRequestHandler]:
    """Build a handler class bound to ``receiver``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            receiver._recorded.append(
                CapturedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            response = receiver._next_response()
            if response.delay and receiver._closing.wait(response.delay):
                self.close_connection = True
                return
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Keep test output quiet."""

    return Handler
