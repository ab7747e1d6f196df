"""Request limits: a URI-length cap (414), a body-size cap enforced while reading (413) and a per-user rate limit (429).

Each size limit answers with the status HTTP defines for it (RFC 9110): 414 URI Too Long for a request target over
``MAX_URI_BYTES``, 413 Content Too Large for a body over ``max_body_bytes`` (and, in ``console.errors``, for a
body field over its own maximum length). The body cap reads at most ``max_bytes + 1`` bytes: a declared
Content-Length over the cap is refused before any byte is read, and a chunked body is cut off as soon as it passes
the cap. The accepted body is replayed to the app.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})
# RFC 9110 asks servers to support request targets of at least 8,000 octets; no route needs more.
MAX_URI_BYTES = 8_192


class BodySizeLimit:
    """ASGI middleware answering 414 for a request target over ``max_uri_bytes`` and 413 for a body over ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_uri_bytes: int = MAX_URI_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_uri_bytes = max_uri_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an over-long URI; buffer the body up to the limit, then hand it to the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = (
            len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string") or b"") + 1
        )
        if target > self.max_uri_bytes:
            await _refuse(
                send,
                414,
                f"the request URI is longer than the limit of {self.max_uri_bytes:,} bytes",
                code="uri_too_long",
            )
            return
        if scope["method"] in _NO_BODY:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # later calls wait for the disconnect, as streaming responses expect

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        detail = f"the request body is larger than the limit of {self.max_bytes:,} bytes"
        await _refuse(send, 413, detail, code="too_large")


async def _refuse(send: Send, status: int, detail: str, *, code: str) -> None:
    """Answer problem+json and close the connection (the rest of the request is never read)."""
    title = {413: "Content Too Large", 414: "URI Too Long"}[status]
    body = json.dumps(
        {
            "type": f"urn:switchboard:problem:{code}",
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class _Window:
    start: float
    count: int = 0
    previous: int = 0


@dataclass
class RateLimiter:
    """Sliding-window estimate per key (current minute plus the weighted previous one); thread-safe.

    ``per_minute <= 0`` switches the limit off.
    """

    per_minute: int
    clock: Callable[[], float] = time.monotonic
    _windows: dict[str, _Window] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str) -> int | None:
        """Count one request; returns None when allowed, else the seconds to wait before retrying."""
        if self.per_minute <= 0:
            return None
        now = self.clock()
        with self._lock:
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = _Window(start=now)
            elapsed = now - window.start
            if elapsed >= 60:
                periods = int(elapsed // 60)
                window.previous = window.count if periods == 1 else 0
                window.count = 0
                window.start += 60 * periods
                elapsed = now - window.start
            estimate = window.previous * (1 - elapsed / 60) + window.count
            if estimate + 1 > self.per_minute:
                return max(1, math.ceil(60 - elapsed))
            window.count += 1
            if len(self._windows) > 10_000:
                self._forget(now)
            return None

    def _forget(self, now: float) -> None:
        for key in [k for k, w in self._windows.items() if now - w.start >= 120]:
            del self._windows[key]
