"""Webhook mode: ``POST /telegram/webhook``, behind ``switchboard serve`` or standalone.

Telegram sends the secret given to setWebhook in ``X-Telegram-Bot-Api-Secret-Token``; it is compared in
constant time and anything else gets 403 before the body is read. A verified update is queued and answered 200 at
once: with the durable engine running it is stored first and processed once by update id on whichever serving
process takes it (``bot.intake``), so several processes can share one webhook URL; otherwise it goes to this
process's Application, whose access guard deduplicates by update_id. Unknown users get 200 too (the bot sends their
refusal).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from telegram import Bot, Update
from telegram.ext import Application

from agent.service import Switchboard
from bot import intake
from bot.access import ALLOWED_UPDATES
from bot.config import BotSettings
from core.durable import serving
from core.errors import ConfigError

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_secret(settings: BotSettings) -> str:
    """The configured secret; webhook mode refuses to run without one (anyone could post fake updates)."""
    secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else ""
    if not secret:
        raise ConfigError(
            "webhook mode needs SWITCHBOARD_TELEGRAM_WEBHOOK_SECRET (1-256 characters A-Z, a-z, 0-9, _ "
            "and -)",
            setting="telegram_webhook_secret",
        )
    return secret


def _secret_matches(given: str, secret: bytes) -> bool:
    """True when the secret header ``given`` is the configured secret, compared in constant time."""
    return hmac.compare_digest(given.encode(), secret)


def _declared_too_large(content_length: str, limit: int) -> bool:
    """True when a request's declared Content-Length is over ``limit`` bytes (checked before the body is read)."""
    return content_length.isdigit() and int(content_length) > limit


def build_webhook_router(
    application: Application,  # type: ignore[type-arg]
    settings: BotSettings,
    *,
    register_url: str | None = None,
    manage_lifecycle: bool = True,
) -> APIRouter:
    """A router serving ``POST /telegram/webhook`` for ``application``.

    Args:
        application: From ``build_application``.
        settings: For the webhook secret and the body size limit.
        register_url: When given, call setWebhook with this public URL (plus the secret and allowed_updates)
            once the application has started.
        manage_lifecycle: Initialize, start, stop and shut the application down in the router's lifespan
            (FastAPI runs an included router's lifespan with the app's).

    Raises:
        ConfigError: no webhook secret is configured.
    """
    secret = webhook_secret(settings).encode()

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        async with _started(application):
            if register_url:
                await application.bot.set_webhook(
                    url=register_url, secret_token=secret.decode(), allowed_updates=ALLOWED_UPDATES
                )
            yield

    router = APIRouter(lifespan=lifespan if manage_lifecycle else None)
    _add_route(router, lambda: application, secret, settings)
    return router


def _add_route(
    router: APIRouter,
    current: Callable[[], Application | None],  # type: ignore[type-arg]
    secret: bytes,
    settings: BotSettings,
) -> None:
    """Add ``POST /telegram/webhook`` to ``router``, for the Application ``current`` returns (503 while none)."""

    @router.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        """Verify the secret, queue the update, answer 200."""
        if not _secret_matches(request.headers.get(SECRET_HEADER, ""), secret):
            logger.warning(
                "telegram webhook call with a wrong or missing secret from %s",
                request.client.host if request.client else "?",
            )
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        if _declared_too_large(request.headers.get("content-length", ""), settings.max_body_bytes):
            return JSONResponse({"detail": "body too large"}, status_code=413)
        body = await request.body()
        if len(body) > settings.max_body_bytes:
            return JSONResponse({"detail": "body too large"}, status_code=413)
        application = current()
        if application is None:  # the worker is still starting, or stopping: Telegram re-sends it
            return JSONResponse({"detail": "starting; try again"}, status_code=503)
        try:
            data = json.loads(body)
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return JSONResponse({"detail": "not a Telegram update"}, status_code=400)
        if intake.accepting():
            try:
                # Stored and queued before Telegram hears 200: a crash after this loses nothing.
                await asyncio.to_thread(intake.enqueue, application.bot.id, data)
            except Exception:
                logger.exception("could not queue Telegram update %s", update.update_id)
                return JSONResponse({"detail": "try again"}, status_code=503)  # Telegram re-sends it
            return Response(status_code=200)
        await application.update_queue.put(update)
        return Response(status_code=200)


def lazy_webhook_router(current: Callable[[], Application | None], settings: BotSettings) -> APIRouter:  # type: ignore[type-arg]
    """The webhook for an Application built later (a console worker's, once its service is open).

    Raises:
        ConfigError: no webhook secret is configured.
    """
    router = APIRouter()
    _add_route(router, current, webhook_secret(settings).encode(), settings)
    return router


@asynccontextmanager
async def running_bot(settings: BotSettings, switchboard: Switchboard) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Build, start and (afterwards) stop the bot's Application on ``switchboard``, taking queued updates."""
    from bot.app import build_application

    application = build_application(settings, switchboard=switchboard)
    async with _started(application):
        yield application


@asynccontextmanager
async def _started(application: Application) -> AsyncIterator[None]:  # type: ignore[type-arg]
    """Initialize and start ``application`` for the block, taking queued updates when the durable engine runs."""
    await application.initialize()
    await application.start()
    if serving():  # updates are queued, and processed by whichever serving process takes them
        await asyncio.to_thread(intake.serve, application, asyncio.get_running_loop())
    try:
        yield
    finally:
        intake.stop()
        await application.stop()
        await application.shutdown()


def webhook_app(application: Application, settings: BotSettings, *, register_url: str | None) -> FastAPI:  # type: ignore[type-arg]
    """A minimal app serving only the webhook (standalone mode)."""
    app = FastAPI(title="Switchboard Telegram webhook", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(build_webhook_router(application, settings, register_url=register_url))
    return app


async def serve_webhook(
    application: Application,  # type: ignore[type-arg]
    settings: BotSettings,
    *,
    url: str,
    host: str,
    port: int,
) -> None:
    """Register ``url`` with Telegram and serve the webhook until interrupted (standalone mode)."""
    import uvicorn

    app = webhook_app(application, settings, register_url=url)
    # log_config None: uvicorn's records go to the root handler (JSON lines) instead of a text handler of its own.
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, log_config=None)
    server = uvicorn.Server(config)
    await server.serve()


async def register_webhook(settings: BotSettings, *, url: str) -> None:
    """Tell Telegram to post updates to ``url`` with the secret and ``allowed_updates`` (for serve mode)."""
    secret = webhook_secret(settings)
    if settings.telegram_token is None:
        raise ConfigError("no Telegram bot token: set SWITCHBOARD_TELEGRAM_TOKEN", setting="telegram_token")
    async with Bot(settings.telegram_token.get_secret_value(), base_url=settings.telegram_api_url) as bot:
        await bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)


def telegram_routers(settings: BotSettings, *, switchboard: Switchboard) -> list[APIRouter]:
    """For ``switchboard serve``: the webhook router when a bot token and webhook secret are set, else none.

    The router's lifespan starts and stops the bot with the app; register the public URL once with
    ``switchboard bot --webhook URL --register-only``.
    """
    if settings.telegram_token is None or settings.telegram_webhook_secret is None:
        return []
    from bot.app import build_application

    return [build_webhook_router(build_application(settings, switchboard=switchboard), settings)]
