"""Every console request gets an id, bound with its actor and chat thread to each log line it causes.

The id is the caller's ``X-Request-ID`` when that is a sane token (a proxy or a client script can then follow
one request through its logs and ours), a fresh one otherwise; the response echoes it in the same header. The
actor is added once authentication resolves it (``console.deps``), the thread id by the chat routes'
dependency below. When the response is done, one access line records method, path, status and duration: the
query string is left out, since it may carry what a log should not.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import annotate, bind

logger = logging.getLogger(__name__)
REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = REQUEST_ID_HEADER.lower().encode()
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_id_from(scope: Scope) -> str:
    """The caller's request id when it is a sane token (letters, digits, ``._:-``, at most 128), else a new one."""
    for name, value in scope.get("headers") or ():
        if name == _HEADER_KEY:
            given = bytes(value).decode("latin-1")
            if _SANE_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


class RequestContext:
    """ASGI middleware: binds the request id around the whole request, echoes it, and writes the access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its id bound to every log line."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", ()), (_HEADER_KEY, request_id.encode())]
            await send(message)

        with bind(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                method, path = scope["method"], scope["path"]
                logger.info(
                    "%s %s %s",
                    method,
                    path,
                    status,
                    extra={
                        "method": method,
                        "path": path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "client": (scope.get("client") or ("",))[0],
                    },
                )


async def bind_thread(request: Request) -> None:
    """Router dependency: the ``thread_id`` in the path goes on the request's log lines."""
    thread_id = request.path_params.get("thread_id")
    if thread_id:
        annotate(thread_id=str(thread_id)[:128])
