"""``create_app(settings)``: the FastAPI app of the console and the HTTP API.

Without an injected ``switchboard``, the app's lifespan opens the database and the agent service on the durable
engine (this worker's executor recovers what its predecessor left, and takes its share of the background ticks:
schedules, approval expiry and reminders), then finishes approved requests a restart interrupted
(``approvals.recover()``). Tests inject a Switchboard built on a scripted backend instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.service import Switchboard, open_switchboard
from console.auth import SessionCodec, session_secret
from console.config import ConsoleSettings
from console.deps import LOGIN_ATTEMPTS_PER_MINUTE, ConsoleState
from console.errors import install_error_handlers
from console.limits import BodySizeLimit, RateLimiter
from console.metrics import Metrics, MetricsMiddleware
from console.request_context import RequestContext, bind_thread
from console.routes import (
    approvals,
    audit,
    auth,
    chat,
    examples,
    executors,
    files,
    health,
    ingest,
    model,
    pages,
    runs,
    users,
)
from console.tracing import TracingMiddleware
from core.store.db import make_engine
from core.store.schema import init_db

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class SecurityHeaders:
    """No framing, no sniffing, no third-party anything: every asset is served by the app itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to every HTTP response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
            await send(message)

        await self.app(scope, receive, send_wrapper)


class ConsoleApp(FastAPI):
    """The console's FastAPI app, with the request context outside even the 500 handler.

    ``add_middleware`` can only add layers inside Starlette's ServerErrorMiddleware, which answers unhandled
    errors; wrapped around it, an unexpected error's log line and its 500 response carry the request id too.
    """

    def build_middleware_stack(self) -> ASGIApp:
        """The usual stack, inside ``RequestContext``."""
        return RequestContext(super().build_middleware_stack())


def metrics_dir(settings: ConsoleSettings) -> Path:
    """Where worker processes keep their Prometheus samples."""
    return settings.var_dir / "metrics"


def _share(per_minute: int, workers: int) -> int:
    return max(1, per_minute // workers) if per_minute > 0 else 0


def create_app(
    settings: ConsoleSettings,
    *,
    switchboard: Switchboard | None = None,
    extra_routers: Iterable[APIRouter] = (),
    with_service: Callable[[Switchboard], AbstractAsyncContextManager[Any]] | None = None,
    queues: tuple[str, ...] = (),
) -> FastAPI:
    """Build the console app.

    Args:
        settings: The configuration (limits, secrets, folders, database).
        switchboard: An already built agent service (tests); when None the lifespan opens one.
        extra_routers: More routers to mount (e.g. the Telegram webhook).
        with_service: Runs alongside the service the lifespan opened, for as long as the app serves (a worker's
            Telegram bot, whose webhook is among ``extra_routers``).
        queues: More durable queues the opened service takes work from (a worker's bot: the Telegram updates).
    """
    workers = settings.console_workers
    metrics = Metrics(
        multiprocess_dir=metrics_dir(settings) if workers > 1 else None, var_dir=settings.var_dir
    )
    state = ConsoleState(
        settings=settings,
        metrics=metrics,
        # Each worker counts its own requests, so each gets its share: together they never allow more.
        limiter=RateLimiter(_share(settings.rate_limit_per_minute, workers)),
        login_limiter=RateLimiter(_share(LOGIN_ATTEMPTS_PER_MINUTE, workers)),
        sessions=SessionCodec(session_secret(settings)),
        templates=Jinja2Templates(directory=HERE / "templates"),
        switchboard=switchboard,
    )
    if switchboard is not None:
        metrics.watch(switchboard.engine)

    def open_service(stack: ExitStack) -> None:
        engine = make_engine(settings.database_url)
        stack.callback(engine.dispose)
        init_db(engine)
        state.switchboard = stack.enter_context(
            open_switchboard(
                settings, engine, durable_as=f"console-{settings.console_slot}", extra_queues=queues
            )
        )
        stack.callback(setattr, state, "switchboard", None)
        metrics.watch(engine)
        recovered = state.switchboard.approvals.recover()
        if recovered:
            logger.info("finished %d approved request(s) interrupted by a restart", len(recovered))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stack = ExitStack()
        try:
            if state.switchboard is None:
                # In a worker thread: the durable engine's synchronous API refuses to run on an event loop's
                # thread, and the routes that use it are synchronous too (FastAPI runs them in threads).
                await asyncio.to_thread(open_service, stack)
            async with AsyncExitStack() as alongside:
                if with_service is not None and state.switchboard is not None:
                    await alongside.enter_async_context(with_service(state.switchboard))
                yield
        finally:
            await asyncio.to_thread(stack.close)

    app = ConsoleApp(
        title="Switchboard",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description=(
            "Chat with your automation flows: typed tools, a policy gate, approvals and a tamper-evident "
            "audit log. Authenticate with `Authorization: Bearer <token>` (`switchboard users token NAME`)."
        ),
    )
    app.state.console = state
    install_error_handlers(app)
    for module in (
        auth,
        users,
        chat,
        approvals,
        runs,
        audit,
        examples,
        executors,
        files,
        health,
        ingest,
        model,
        pages,
    ):
        # The chat routes name a thread in their path; it goes on their log lines.
        app.include_router(module.router, dependencies=[Depends(bind_thread)] if module is chat else None)
    for router in extra_routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # Added innermost first: metrics see every response, including a 413 from the body limit.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(TracingMiddleware)  # outermost: the request's span holds everything it causes
    return app
