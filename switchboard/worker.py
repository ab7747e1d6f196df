"""The app of one ``switchboard serve --workers N`` worker process (uvicorn's factory, called in each worker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from telegram.ext import Application

from agent.service import Switchboard
from console.app import create_app
from console.serving import check_worker
from switchboard.settings import load_settings


def worker_app() -> FastAPI:
    """Build a worker's app from the environment and YAML, as the supervisor did.

    Raises:
        ConfigError: the process was not started by ``serve_workers``.
    """
    settings = load_settings()
    check_worker(settings)
    if settings.telegram_token is None or settings.telegram_webhook_secret is None:
        return create_app(settings)
    # Each worker serves the webhook with a bot of its own, started once the worker's service is open; the
    # durable intake queues every update once, whichever worker Telegram's call lands on (bot/intake.py).
    from bot import intake
    from bot.webhook import lazy_webhook_router, running_bot

    bots: list[Application] = []  # type: ignore[type-arg]

    @asynccontextmanager
    async def with_bot(switchboard: Switchboard) -> AsyncIterator[None]:
        async with running_bot(settings, switchboard) as application:
            bots.append(application)
            try:
                yield
            finally:
                bots.remove(application)

    router = lazy_webhook_router(lambda: bots[0] if bots else None, settings)
    return create_app(settings, extra_routers=[router], with_service=with_bot, queues=(intake.QUEUE,))
