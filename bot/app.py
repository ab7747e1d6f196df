"""``build_application``: the PTB Application wired to the Switchboard service, for polling or webhooks.

The Bot API base URL is a setting (``SWITCHBOARD_TELEGRAM_API_URL``, e.g. ``http://127.0.0.1:8081/bot``; PTB
appends the token), so a self-hosted telegram-bot-api server or a loopback fake works like the real one.
Updates from one chat are handled in order; different chats run concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from agent.service import Switchboard
from bot.access import ALLOWED_UPDATES, AccessGuard
from bot.approvals import ApprovalNotifier
from bot.callbacks import CallbackHandlers
from bot.commands import CommandHandlers
from bot.config import BotSettings
from bot.handlers import ChatHandlers
from bot.outbox import Outbox, SendPolicy, Sleep
from bot.redact import install_token_redaction
from bot.runtime import BotRuntime, thread_id_for
from bot.store import init_bot_tables
from bot.texts import text
from core import tracing
from core.errors import ConfigError
from core.logs import bind

logger = logging.getLogger(__name__)

__all__ = ["ALLOWED_UPDATES", "SwitchboardApplication", "build_application", "runtime_of"]

_NOISY_LOGGERS = ("httpx", "httpcore")  # they log every request URL, and Bot API URLs contain the token


class SwitchboardApplication(Application):  # type: ignore[type-arg]
    """An Application that starts and stops the bot runtime (listener, sweeper) with itself."""

    runtime: BotRuntime | None = None

    async def start(self) -> None:
        """Start fetching from the update queue, then the runtime."""
        await super().start()
        if self.runtime is not None:
            await self.runtime.start()

    async def stop(self) -> None:
        """Finish pending updates, then stop the runtime."""
        await super().stop()
        if self.runtime is not None:
            await self.runtime.stop()

    async def process_update(self, update: object) -> None:
        """Handle one update in a span of its own (polling, the webhook's queue and tests all come here)."""
        fields = update_fields(update)
        thread_id, update_id = fields.get("thread_id"), fields.get("update_id")
        with tracing.span("telegram.update", kind="consumer", update_id=update_id, thread_id=thread_id):
            await super().process_update(update)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Runs updates concurrently, except that updates from the same chat run one after another."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await ``coroutine`` under its chat's lock, with the update's ids bound to every log line it causes."""
        with bind(**update_fields(update)):
            await self._in_chat_order(update, coroutine)

    async def _in_chat_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._waiting[chat.id] = self._waiting.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[chat.id] -= 1
            if not self._waiting[chat.id]:
                del self._waiting[chat.id]
                self._locks.pop(chat.id, None)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def update_fields(update: object) -> dict[str, Any]:
    """What an update's log lines carry: update id, chat, thread and actor.

    The actor is the Telegram account until the access guard identifies the Switchboard user behind it.
    """
    if not isinstance(update, Update):
        return {}
    chat, person = update.effective_chat, update.effective_user
    return {
        "update_id": update.update_id,
        "chat_id": chat.id if chat else None,
        "thread_id": thread_id_for(chat.id, person.id) if chat and person else None,
        "actor": f"telegram:{person.id}" if person else None,
    }


def file_url_for(api_url: str) -> str | None:
    """``https://api.telegram.org/bot`` → ``https://api.telegram.org/file/bot``, Telegram's file layout."""
    return api_url[: -len("bot")] + "file/bot" if api_url.endswith("/bot") else None


def quiet_http_logs() -> None:
    """Keep request-URL logging (which would include the token) at WARNING."""
    for name in _NOISY_LOGGERS:
        noisy = logging.getLogger(name)
        if noisy.getEffectiveLevel() < logging.WARNING:
            noisy.setLevel(logging.WARNING)


def runtime_of(application: Application) -> BotRuntime:  # type: ignore[type-arg]
    """The runtime of an Application made by ``build_application``."""
    runtime = getattr(application, "runtime", None)
    if not isinstance(runtime, BotRuntime):
        raise TypeError("this Application was not built by bot.app.build_application")
    return runtime


def build_application(
    settings: BotSettings,
    *,
    switchboard: Switchboard,
    send_policy: SendPolicy | None = None,
    sleep: Sleep | None = None,
    sweep_interval: float = 30.0,
    outcome_interval: float = 2.0,
    concurrent_updates: int = 8,
) -> SwitchboardApplication:
    """Build the bot: handlers, access guard, outbox, approval notifier, error handler.

    Args:
        settings: telegram_token and telegram_api_url are used here; the rest via the service.
        switchboard: The agent service (chat, approvals, runs).
        send_policy: Retries of outgoing messages.
        sleep: How the outbox waits between retries (tests record the waits).
        sweep_interval: Seconds between sweeps (expiry, reminders, catch-up); 0 disables the background sweep.
        outcome_interval: Seconds between looks for run outcomes posted to Telegram threads (with the sweep).
        concurrent_updates: Updates handled at once (never two from the same chat).

    Raises:
        ConfigError: no Telegram token is configured.
    """
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        raise ConfigError(
            "no Telegram bot token: set SWITCHBOARD_TELEGRAM_TOKEN (from @BotFather)",
            setting="telegram_token",
        )
    init_bot_tables(switchboard.engine)
    quiet_http_logs()
    install_token_redaction(settings.telegram_token.get_secret_value())
    builder = (
        ApplicationBuilder()
        .application_class(SwitchboardApplication)
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .concurrent_updates(ChatOrderedProcessor(concurrent_updates))
    )
    file_url = file_url_for(settings.telegram_api_url)
    if file_url:
        builder = builder.base_file_url(file_url)
    application = builder.build()
    assert isinstance(application, SwitchboardApplication)
    outbox = Outbox(engine=switchboard.engine, bot=application.bot, policy=send_policy, sleep=sleep)
    runtime = BotRuntime(
        settings=settings,
        switchboard=switchboard,
        bot=application.bot,
        outbox=outbox,
        sweep_interval=sweep_interval,
        outcome_interval=outcome_interval,
    )
    notifier = ApprovalNotifier(runtime)
    runtime.sweeper = notifier
    application.runtime = runtime
    _add_handlers(application, runtime, notifier)
    return application


def _add_handlers(
    application: SwitchboardApplication, runtime: BotRuntime, notifier: ApprovalNotifier
) -> None:
    chat = ChatHandlers(runtime)
    commands = CommandHandlers(runtime, notifier)
    buttons = CallbackHandlers(runtime)
    application.add_handler(TypeHandler(Update, AccessGuard(runtime)), group=-1)
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, chat.edited))
    for name in ("start", "help", "runs", "pending", "cancel"):
        application.add_handler(CommandHandler(name, getattr(commands, name)))
    application.add_handler(CallbackQueryHandler(buttons.on_callback))
    application.add_handler(MessageHandler(filters.Document.ALL, chat.document))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, chat.text_message))
    application.add_handler(MessageHandler(filters.COMMAND, chat.unknown_command))
    application.add_handler(MessageHandler(filters.ALL, chat.unsupported))

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log with the traceback; tell the user something short (never the traceback)."""
        logger.error("error while handling an update", exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(text("internal_error")[:190])
        except TelegramError:
            pass
        try:
            await runtime.send_text(
                key=f"err:{update.update_id}",
                chat_id=update.effective_chat.id,
                html_text=text("internal_error"),
            )
        except Exception:
            logger.exception("could not report an error to chat %s", update.effective_chat.id)

    application.add_error_handler(on_error)
