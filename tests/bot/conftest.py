"""Bot fixtures: settings pointing at the fake Bot API, linked users, a scripted agent, and a bot harness.

Each test keeps its async work inside one ``asyncio.run`` (see ``run``); the Application, the handlers and
PTB's HTTP layer are real and talk to the loopback fake from tests/utils/servers/telegram_api.py.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from telegram import Update

from agent.backends.base import Backend
from agent.backends.factory import build_backend
from agent.service import Switchboard, open_switchboard
from bot.access import ALLOWED_UPDATES
from bot.app import SwitchboardApplication, build_application, runtime_of
from bot.outbox import SendPolicy
from bot.runtime import BotRuntime
from core.store.users import create_user, link_telegram
from switchboard.settings import Settings
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.servers.telegram_api import TelegramApi

T = TypeVar("T")

OLIVE, ANN, BOB, OSCAR = 1001, 2002, 2003, 3003  # operator, approver, approver, operator
STRANGER = 9999
WEBHOOK_SECRET = "hook-secret-for-tests_0123"


def run(coro: Awaitable[T]) -> T:
    """Run one test's async part."""
    return asyncio.run(coro)  # type: ignore[arg-type]


async def wait_until(check: Callable[[], Any], *, within: float = 10.0, what: str = "condition") -> Any:
    """Poll ``check`` without blocking the loop; return its first truthy value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = check()
        if value:
            return value
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def full_registry() -> Any:
    from tools.registry import FAMILIES, build_registry

    return build_registry(tuple(f for f in FAMILIES if importlib.util.find_spec(f) is not None))


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def bot_settings(settings: Settings, telegram_api: TelegramApi) -> Settings:
    """Settings with the fake's token and URL, a webhook secret and a console reachable from a phone."""
    return settings.model_copy(
        update={
            "telegram_token": SecretStr(telegram_api.token),
            "telegram_api_url": telegram_api.base_url,
            "telegram_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "console_url": "https://console.example.test",
        }
    )


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    """olive and oscar (operators), ann and bob (approvers), linked to Telegram ids."""
    linked = {
        "olive": (OLIVE, "operator"),
        "ann": (ANN, "approver"),
        "bob": (BOB, "approver"),
        "oscar": (OSCAR, "operator"),
    }
    for name, (tg_id, role) in linked.items():
        create_user(engine=engine, name=name, role=role, password=None, actor="test")
        link_telegram(engine=engine, name=name, telegram_user_id=tg_id, actor="test")
    return {name: tg for name, (tg, _) in linked.items()}


@pytest.fixture
def backend() -> ScriptedBackend:
    """The scripted agent backend, for handler units (the behaviour tests use ``embedded_backend``)."""
    return ScriptedBackend()


@pytest.fixture(scope="session")
def router_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One router cache for the session, so a router that must be retrained is trained once."""
    return tmp_path_factory.mktemp("router-cache")


@pytest.fixture
def embedded_backend(settings: Settings, engine: Engine, router_var_dir: Path) -> Backend:
    """The real embedded backend (MiniLM router + extractors), as ``switchboard bot`` builds it."""
    cached = settings.model_copy(update={"var_dir": router_var_dir})
    backend: Backend = build_backend(cached, registry=full_registry(), engine=engine)
    return backend


@pytest.fixture
def sb(
    bot_settings: Settings, engine: Engine, backend: ScriptedBackend, people: dict[str, int]
) -> Iterator[Switchboard]:
    with open_switchboard(bot_settings, engine, backend=backend, registry=full_registry()) as service:
        yield service


@dataclass
class Harness:
    """A running Application (initialized and started, not polling) plus helpers."""

    app: SwitchboardApplication
    api: TelegramApi
    sleeps: list[float] = field(default_factory=list)

    @property
    def runtime(self) -> BotRuntime:
        return runtime_of(self.app)

    async def process(self, update: dict[str, Any]) -> None:
        """PTB's offline processing of one update dict, then wait for listener sends."""
        await self.app.process_update(Update.de_json(update, self.app.bot))
        await self.runtime.drain()

    async def text(self, user_id: int, message: str, **kw: Any) -> dict[str, Any]:
        update = self.api.text_update(user_id, message, **kw)
        await self.process(update)
        return update

    async def poll(self) -> None:
        assert self.app.updater is not None
        await self.app.updater.start_polling(timeout=1, allowed_updates=ALLOWED_UPDATES)

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        return [p for p in self.api.sent_params("sendMessage") if p.get("chat_id") == chat_id]

    def texts_to(self, chat_id: int) -> list[str]:
        return [str(p["text"]) for p in self.messages_to(chat_id)]

    def buttons(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        markup = params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    def answers(self) -> list[str | None]:
        return [p.get("text") for p in self.api.sent_params("answerCallbackQuery")]


def make_harness(settings: Settings, sb: Switchboard, api: TelegramApi, **kw: Any) -> Harness:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(min(seconds, 0.05))

    kw.setdefault("send_policy", SendPolicy(base_delay=0.01, max_delay=0.05))
    kw.setdefault("sweep_interval", 0)
    app = build_application(settings, switchboard=sb, sleep=sleep, **kw)
    return Harness(app, api, sleeps)


class running:
    """``async with running(harness):`` initialize + start, and stop + shutdown (also the updater)."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness

    async def __aenter__(self) -> Harness:
        await self.harness.app.initialize()
        await self.harness.app.start()
        return self.harness

    async def __aexit__(self, *exc: object) -> None:
        app = self.harness.app
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()


@pytest.fixture
def harness(bot_settings: Settings, sb: Switchboard, telegram_api: TelegramApi) -> Harness:
    return make_harness(bot_settings, sb, telegram_api)
