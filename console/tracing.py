"""A server span per console request, named by its route template: the root of a chat turn's trace.

The span starts as ``<METHOD>`` and is renamed ``<METHOD> <route template>`` once routing has matched
(``/api/threads/{thread_id}/messages``, never the raw path, which holds ids), with the method, route and status
as OTel's HTTP attributes. A caller's W3C ``traceparent`` header is continued, so a client's own trace goes on
through ours. Tracing off, a request costs one flag test here.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import tracing

_TRACEPARENT = (b"traceparent", b"tracestate")


class TracingMiddleware:
    """ASGI middleware: one ``server`` span around each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request inside its span."""
        if scope["type"] != "http" or not tracing.enabled():
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        carried = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers") or ()
            if name in _TRACEPARENT
        }
        with (
            tracing.attached(carried),
            tracing.span(method, kind="server", raw={"http.request.method": method}) as span,
        ):
            try:
                await self.app(scope, receive, send_status)
            finally:
                route: Any = scope.get("route")
                template = getattr(route, "path", None)
                if template:
                    span.rename(f"{method} {template}")
                    span.set_raw({"http.route": str(template)})
                span.set_raw({"http.response.status_code": status})
                if status >= 500:
                    span.fail(f"HTTP {status}")
