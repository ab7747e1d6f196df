"""Webhook mode: the fake Bot API posts to a real server on loopback; forged secrets are refused."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlmodel import Session, select

from agent.service import Switchboard
from bot.store import ProcessedUpdate
from bot.webhook import (
    SECRET_HEADER,
    WEBHOOK_PATH,
    build_webhook_router,
    lazy_webhook_router,
    register_webhook,
    serve_webhook,
    telegram_routers,
    webhook_app,
    webhook_secret,
)
from core.errors import ConfigError
from switchboard.settings import Settings
from tests.bot.conftest import OLIVE, STRANGER, WEBHOOK_SECRET, Harness, run, running, wait_until
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.servers.ports import free_port
from tests.utils.servers.telegram_api import TelegramApi


def _claims(sb: Switchboard) -> list[int]:
    with Session(sb.engine) as session:
        return [c.update_id for c in session.execute(select(ProcessedUpdate)).scalars()]


def test_telegram_posts_updates_to_the_registered_webhook(
    harness: Harness, bot_settings: Settings, backend: ScriptedBackend, telegram_api: TelegramApi
) -> None:
    port = free_port("127.0.0.1")
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    backend.enqueue("list_runs", {}, confidence=0.97)

    async def scenario() -> None:
        app = webhook_app(harness.app, bot_settings, register_url=url)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        serving = asyncio.create_task(server.serve())
        try:
            await wait_until(lambda: telegram_api.state.webhook, what="setWebhook")
            await asyncio.to_thread(telegram_api.push_update, telegram_api.text_update(STRANGER, "hi"))
            await asyncio.to_thread(telegram_api.push_update, telegram_api.text_update(OLIVE, "list runs"))
            await wait_until(lambda: len(harness.api.sent_params("sendMessage")) == 2, what="replies")
        finally:
            server.should_exit = True
            await serving

    run(scenario())
    hook = telegram_api.state.webhook or {}
    assert (hook["url"], hook["secret_token"]) == (url, WEBHOOK_SECRET)
    assert telegram_api.state.allowed_updates == ["message", "edited_message", "callback_query"]
    assert [status for _, status in telegram_api.webhook_deliveries] == [200, 200]  # a stranger gets 200 too
    assert "I don't know your Telegram account" in harness.texts_to(STRANGER)[0]
    assert [r.text for r in backend.requests] == ["list runs"]


def test_forged_or_missing_secret_is_refused_and_nothing_is_processed(
    harness: Harness, bot_settings: Settings, backend: ScriptedBackend, sb: Switchboard
) -> None:
    update = harness.api.text_update(OLIVE, "list runs")
    backend.enqueue("list_runs", {}, confidence=0.97)
    app = FastAPI()
    app.include_router(build_webhook_router(harness.app, bot_settings, manage_lifecycle=False))

    async def scenario() -> list[int]:
        async with running(harness):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
                codes = [
                    (
                        await client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: "guess"})
                    ).status_code,
                    (await client.post(WEBHOOK_PATH, json=update)).status_code,
                    (
                        await client.post(
                            WEBHOOK_PATH, json=update, headers={SECRET_HEADER: WEBHOOK_SECRET + "x"}
                        )
                    ).status_code,
                ]
                await harness.app.update_queue.join()
                assert backend.requests == [] and _claims(sb) == []
                good = {SECRET_HEADER: WEBHOOK_SECRET}
                codes.append((await client.post(WEBHOOK_PATH, json=update, headers=good)).status_code)
                codes.append(
                    (await client.post(WEBHOOK_PATH, json=update, headers=good)).status_code
                )  # a resend
                codes.append(
                    (await client.post(WEBHOOK_PATH, content=b"{not json", headers=good)).status_code
                )
                await harness.app.update_queue.join()
                await harness.runtime.drain()
            return codes

    assert run(scenario()) == [403, 403, 403, 200, 200, 400]
    assert [r.text for r in backend.requests] == ["list runs"]
    assert _claims(sb) == [update["update_id"]]
    assert len(harness.texts_to(OLIVE)) == 1


def test_webhook_mode_needs_a_secret(harness: Harness, bot_settings: Settings) -> None:
    with pytest.raises(ConfigError, match="webhook mode needs SWITCHBOARD_TELEGRAM_WEBHOOK_SECRET"):
        build_webhook_router(harness.app, bot_settings.model_copy(update={"telegram_webhook_secret": None}))


def test_webhook_mode_names_the_missing_setting(bot_settings: Settings) -> None:
    with pytest.raises(ConfigError) as caught:
        webhook_secret(bot_settings.model_copy(update={"telegram_webhook_secret": None}))
    assert (str(caught.value), caught.value.details) == (
        "webhook mode needs SWITCHBOARD_TELEGRAM_WEBHOOK_SECRET (1-256 characters A-Z, a-z, 0-9, _ and -)",
        {"setting": "telegram_webhook_secret"},
    )


def test_a_router_that_does_not_manage_the_bot_leaves_it_alone(bot_settings: Settings) -> None:
    app = FastAPI()
    not_a_bot: Any = object()  # anything the lifespan touched would fail
    app.include_router(build_webhook_router(not_a_bot, bot_settings, manage_lifecycle=False))

    async def scenario() -> None:
        async with app.router.lifespan_context(app):
            pass

    run(scenario())


def test_the_standalone_app_serves_only_the_webhook(harness: Harness, bot_settings: Settings) -> None:
    app = webhook_app(harness.app, bot_settings, register_url=None)

    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            return [(await client.get(path)).status_code for path in ("/docs", "/redoc", "/openapi.json")]

    assert app.title == "Switchboard Telegram webhook"
    assert run(scenario()) == [404, 404, 404]


def test_oversized_body_is_refused(harness: Harness, bot_settings: Settings) -> None:
    small = bot_settings.model_copy(update={"max_body_bytes": 100})
    app = FastAPI()
    app.include_router(build_webhook_router(harness.app, small, manage_lifecycle=False))

    async def scenario() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            body = json.dumps({"update_id": 1, "message": {"text": "x" * 500}})
            response = await client.post(WEBHOOK_PATH, content=body, headers={SECRET_HEADER: WEBHOOK_SECRET})
            return response.status_code

    assert run(scenario()) == 413


def test_a_body_of_exactly_the_limit_is_read(harness: Harness, bot_settings: Settings) -> None:
    body = json.dumps({"update_id": 1, "message": None}).encode()
    exact = bot_settings.model_copy(update={"max_body_bytes": len(body)})
    app = FastAPI()
    app.include_router(build_webhook_router(harness.app, exact, manage_lifecycle=False))

    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            codes = []
            for extra in (b"", b" "):  # the declared length, then the body, is compared with the limit
                response = await client.post(
                    WEBHOOK_PATH, content=body + extra, headers={SECRET_HEADER: WEBHOOK_SECRET}
                )
                codes.append(response.status_code)
            return codes

    assert run(scenario()) == [200, 413]


def test_serve_mounts_the_webhook_only_when_configured(bot_settings: Settings, sb: Switchboard) -> None:
    assert (
        telegram_routers(bot_settings.model_copy(update={"telegram_webhook_secret": None}), switchboard=sb)
        == []
    )
    (router,) = telegram_routers(bot_settings, switchboard=sb)
    assert [getattr(r, "path", None) for r in router.routes] == [WEBHOOK_PATH]


def test_the_served_webhook_hands_updates_to_the_bot_it_built(
    bot_settings: Settings, sb: Switchboard
) -> None:
    (router,) = telegram_routers(bot_settings, switchboard=sb)
    app = FastAPI()
    app.include_router(router)

    async def scenario() -> int:
        # no lifespan here: the bot is built but not started, and an update still goes to its queue
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            body = json.dumps({"update_id": 5, "message": None})
            response = await client.post(WEBHOOK_PATH, content=body, headers={SECRET_HEADER: WEBHOOK_SECRET})
            return response.status_code

    assert run(scenario()) == 200


def test_registering_needs_a_bot_token(bot_settings: Settings) -> None:
    settings = bot_settings.model_copy(update={"telegram_token": None})
    with pytest.raises(ConfigError) as caught:
        run(register_webhook(settings, url="https://bot.example.test/telegram/webhook"))
    assert (str(caught.value), caught.value.details) == (
        "no Telegram bot token: set SWITCHBOARD_TELEGRAM_TOKEN",
        {"setting": "telegram_token"},
    )


def test_register_only_sets_the_webhook_with_secret_and_allowed_updates(
    bot_settings: Settings, telegram_api: TelegramApi
) -> None:
    run(register_webhook(bot_settings, url="https://bot.example.test/telegram/webhook"))
    hook = telegram_api.state.webhook or {}
    assert (hook["url"], hook["secret_token"]) == (
        "https://bot.example.test/telegram/webhook",
        WEBHOOK_SECRET,
    )
    assert telegram_api.state.allowed_updates == ["message", "edited_message", "callback_query"]


def test_a_lazy_webhook_answers_503_until_its_bot_exists(harness: Harness, bot_settings: Settings) -> None:
    bots: list[Any] = []
    app = FastAPI()
    app.include_router(lazy_webhook_router(lambda: bots[0] if bots else None, bot_settings))
    update = {"update_id": 7, "message": None}

    async def scenario() -> tuple[list[int], int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            good = {SECRET_HEADER: WEBHOOK_SECRET}
            codes = [(await client.post(WEBHOOK_PATH, json=update, headers=good)).status_code]
            bots.append(harness.app)
            codes.append(
                (await client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: "guess"})).status_code
            )
            codes.append((await client.post(WEBHOOK_PATH, json=update, headers=good)).status_code)
            queued = harness.app.update_queue.get_nowait()  # the one verified update went to the bot
            assert harness.app.update_queue.empty()
            return codes, queued.update_id

    assert run(scenario()) == ([503, 403, 200], 7)
    with pytest.raises(ConfigError, match="webhook mode needs SWITCHBOARD_TELEGRAM_WEBHOOK_SECRET"):
        lazy_webhook_router(lambda: None, bot_settings.model_copy(update={"telegram_webhook_secret": None}))


def test_the_standalone_server_listens_where_told_and_logs_warnings_only_to_the_root(
    harness: Harness,
    bot_settings: Settings,
    telegram_api: TelegramApi,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = "127.0.0.2"  # not uvicorn's default, so the address given is the one used
    port = free_port(host)
    url = f"http://{host}:{port}{WEBHOOK_PATH}"
    servers: list[uvicorn.Server] = []

    class Recorded(uvicorn.Server):
        def __init__(self, config: uvicorn.Config) -> None:
            super().__init__(config)
            servers.append(self)

    monkeypatch.setattr(uvicorn, "Server", Recorded)
    # undo what earlier uvicorn runs in this process did to its loggers (its own text handler, levels)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        monkeypatch.setattr(logging.getLogger(name), "handlers", [])
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    caplog.set_level(logging.INFO)

    async def scenario() -> tuple[Any, bytes]:
        task = asyncio.create_task(serve_webhook(harness.app, bot_settings, url=url, host=host, port=port))
        try:
            await wait_until(lambda: task.done() or (servers and servers[0].started), what="the server")
            await wait_until(lambda: task.done() or telegram_api.state.webhook, what="setWebhook")
            assert not task.done()
            bound = servers[0].servers[0].sockets[0].getsockname()
            await asyncio.to_thread(telegram_api.push_update, telegram_api.text_update(STRANGER, "hi"))
            await wait_until(lambda: harness.api.sent_params("sendMessage"), what="the refusal")
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"NOT HTTP AT ALL\r\n\r\n")
            await writer.drain()
            answer = await reader.read(100)
            writer.close()
        finally:
            if servers:
                servers[0].should_exit = True
            await task
        return bound, answer

    bound, answer = run(scenario())
    assert (bound[0], bound[1]) == (host, port)
    assert answer.startswith(b"HTTP/1.1 400")
    hook = telegram_api.state.webhook or {}
    assert (hook["url"], hook["secret_token"]) == (url, WEBHOOK_SECRET)
    assert [status for _, status in telegram_api.webhook_deliveries] == [200]
    uvicorn_records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("uvicorn")]
    assert uvicorn_records == [(logging.WARNING, "Invalid HTTP request received.")]
