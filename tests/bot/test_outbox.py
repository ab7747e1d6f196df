"""The outbox through PTB's real HTTP layer against the fake: 429 storms, 5xx, 400/403, idempotency."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import Engine
from telegram import Bot

from bot.outbox import Outbox, SendPolicy
from bot.store import init_bot_tables
from tests.bot.conftest import run
from tests.utils.servers.telegram_api import TelegramApi

CHAT = 4242


@pytest.fixture
def tables(engine: Engine) -> Engine:
    init_bot_tables(engine)
    return engine


def _send(
    api: TelegramApi, engine: Engine, *keys: str, policy: SendPolicy | None = None
) -> tuple[list[str], list[float]]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(0.01)

    async def scenario() -> list[str]:
        async with Bot(api.token, base_url=api.base_url) as bot:
            outbox = Outbox(engine=engine, bot=bot, policy=policy or SendPolicy(), sleep=sleep)
            rows = [
                await outbox.send(key=k, chat_id=CHAT, method="sendMessage", payload={"text": f"hello {k}"})
                for k in keys
            ]
            return [r.status for r in rows]

    return run(scenario()), sleeps


def _errors(api: TelegramApi, method: str) -> list[int | None]:
    return [c.error_code for c in api.calls if c.method == method]


def test_a_429_storm_honours_retry_after_and_delivers_once(telegram_api: TelegramApi, tables: Engine) -> None:
    telegram_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2, times=3)
    statuses, sleeps = _send(telegram_api, tables, "k1")
    assert statuses == ["sent"]
    assert sleeps == [2.0, 2.0, 2.0]
    assert _errors(telegram_api, "sendMessage") == [429, 429, 429, None]
    assert [p["text"] for p in telegram_api.sent_params("sendMessage")] == ["hello k1"]


def test_server_errors_are_retried_with_backoff(telegram_api: TelegramApi, tables: Engine) -> None:
    telegram_api.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    telegram_api.fail_next("sendMessage", 500, "Internal Server Error")
    statuses, sleeps = _send(telegram_api, tables, "k1", policy=SendPolicy(base_delay=0.5, max_delay=30))
    assert statuses == ["sent"]
    assert sleeps == [0.5, 1.0, 2.0]
    assert _errors(telegram_api, "sendMessage") == [502, 502, 500, None]


def test_giving_up_marks_failed_without_raising(telegram_api: TelegramApi, tables: Engine) -> None:
    telegram_api.fail_next("sendMessage", 503, "Service Unavailable", times=10)
    statuses, sleeps = _send(telegram_api, tables, "k1", policy=SendPolicy(attempts=3, base_delay=0.1))
    assert statuses == ["failed"]
    assert sleeps == [0.1, 0.2]
    assert _errors(telegram_api, "sendMessage") == [503, 503, 503]


def test_bad_request_and_blocked_chat_are_not_retried(telegram_api: TelegramApi, tables: Engine) -> None:
    telegram_api.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    statuses, sleeps = _send(telegram_api, tables, "k1")
    telegram_api.block_chat(CHAT)
    statuses += _send(telegram_api, tables, "k2")[0]
    assert statuses == ["failed", "failed"]
    assert sleeps == []
    assert _errors(telegram_api, "sendMessage") == [400, 403]


def test_a_key_is_sent_once(telegram_api: TelegramApi, tables: Engine) -> None:
    statuses, _ = _send(telegram_api, tables, "same", "same", "other")
    assert statuses == ["sent", "sent", "sent"]
    assert [p["text"] for p in telegram_api.sent_params("sendMessage")] == ["hello same", "hello other"]


def test_flush_sends_rows_queued_while_the_bot_was_down(telegram_api: TelegramApi, tables: Engine) -> None:
    async def scenario() -> int:
        async with Bot(telegram_api.token, base_url=telegram_api.base_url) as bot:
            outbox = Outbox(engine=tables, bot=bot)
            outbox.put(key="queued-1", chat_id=CHAT, method="sendMessage", payload={"text": "one"})
            outbox.put(key="queued-2", chat_id=CHAT, method="sendMessage", payload={"text": "two"})
            first = await outbox.flush()
            return first + await outbox.flush()

    assert run(scenario()) == 2
    assert [p["text"] for p in telegram_api.sent_params("sendMessage")] == ["one", "two"]
