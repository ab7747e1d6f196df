"""What the handlers share: the Switchboard service, the outbox, identities and the background sweep.

The agent service is synchronous (LangGraph, the database, SFTP), so every call into it runs in a worker
thread while a typing indicator keeps the chat alive. Approval listeners are called from those threads and
hand their sends back to the bot's event loop through ``submit``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import Bot, BotCommand, InlineKeyboardMarkup
from telegram.constants import ChatAction
from telegram.error import TelegramError

from agent.backends.base import Decision
from agent.service import Switchboard
from agent.state import Reply
from bot import tokens
from bot.config import BotSettings
from bot.keyboards import answer_keyboard
from bot.outbox import Markup, Outbox, markup_dict
from bot.outcomes import push_outcomes
from bot.render import esc, render_reply
from bot.store import OutboxMessage, prune_updates
from bot.texts import text
from core.errors import SwitchboardError
from core.logs import annotate
from core.store.db import utcnow
from core.store.users import User, user_for_telegram

logger = logging.getLogger(__name__)

TYPING_EVERY_S = 4.0  # Telegram shows "typing…" for about 5 s per sendChatAction
ANSWER_TOKEN_TTL = timedelta(days=1)
COMMANDS = [
    ("help", "What I can do for you"),
    ("runs", "Recent runs"),
    ("pending", "Approvals waiting"),
    ("cancel", "Cancel the question I asked"),
    ("start", "Say hello"),
]


def thread_id_for(chat_id: int, telegram_user_id: int) -> str:
    """Identity is per user, not per chat: each person has their own thread in each chat."""
    return f"tg:{chat_id}:{telegram_user_id}"


def chat_of_thread(thread_id: str | None) -> int | None:
    """The chat of a bot thread id, or None for threads from other interfaces."""
    if not thread_id or not thread_id.startswith("tg:"):
        return None
    try:
        return int(thread_id.split(":")[1])
    except (IndexError, ValueError):
        return None


@dataclass
class BotRuntime:
    """State shared by the handlers of one Application."""

    settings: BotSettings
    switchboard: Switchboard
    bot: Bot
    outbox: Outbox
    sweep_interval: float = 30.0
    outcome_interval: float = 2.0
    loop: asyncio.AbstractEventLoop | None = None
    sweeper: Any = None  # bot.approvals.ApprovalNotifier, set by build_application
    _tasks: set[concurrent.futures.Future[Any]] = field(default_factory=set)
    _sweep_task: asyncio.Task[None] | None = None
    _outcome_task: asyncio.Task[None] | None = None

    @property
    def engine(self) -> Any:
        """The database engine."""
        return self.switchboard.engine

    @property
    def media_dir(self) -> Path:
        """Where table images and CSV files for replies are written."""
        return self.settings.var_dir / "bot" / "media"

    # ---- lifecycle -----------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind to the running loop, register the approval listener, start the sweeper."""
        self.loop = asyncio.get_running_loop()
        if self.sweeper is not None and self.sweeper not in self.switchboard.approvals.listeners:
            self.switchboard.approvals.listeners.append(self.sweeper)
        with contextlib.suppress(TelegramError):
            await self.bot.set_my_commands([BotCommand(name, desc) for name, desc in COMMANDS])
        if self.sweep_interval > 0:
            self._sweep_task = asyncio.create_task(self._sweep_forever(), name="switchboard-bot-sweeper")
            self._outcome_task = asyncio.create_task(
                self._outcomes_forever(), name="switchboard-bot-outcomes"
            )

    async def stop(self) -> None:
        """Stop the sweeper, unregister the listener and wait for sends already handed to the loop."""
        for task in (self._sweep_task, self._outcome_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._sweep_task = self._outcome_task = None
        if self.sweeper in self.switchboard.approvals.listeners:
            self.switchboard.approvals.listeners.remove(self.sweeper)
        await self.drain()
        self.loop = None

    async def drain(self, limit_s: float = 30.0) -> None:
        """Wait (at most ``limit_s``) for sends scheduled by listeners from worker threads."""
        pending = [asyncio.wrap_future(f) for f in list(self._tasks)]
        if pending:
            await asyncio.wait(pending, timeout=limit_s)

    def submit(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` on the bot's loop from any thread; with no bot running it is dropped (rows stay)."""
        loop = self.loop
        if loop is None or loop.is_closed():
            coro.close()
            return
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        self._tasks.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: concurrent.futures.Future[Any]) -> None:
        self._tasks.discard(future)
        if not future.cancelled() and future.exception() is not None:
            logger.error("background bot task failed", exc_info=future.exception())

    async def _sweep_forever(self) -> None:
        while True:  # the first sweep right away: it sends what was queued while the bot was down
            try:
                await self.sweep()
            except Exception:
                logger.exception("bot sweep failed")
            await asyncio.sleep(self.sweep_interval)

    async def _outcomes_forever(self) -> None:
        # A run's outcome is posted to the thread by whichever process ran it; looking every few seconds brings
        # it to the chat moments later (the sweep's look back of a day catches what was posted while down).
        while True:
            await asyncio.sleep(self.outcome_interval)
            try:
                await push_outcomes(self.engine, self.outbox, chat_of_thread, look_back=timedelta(minutes=1))
            except Exception:
                logger.exception("sending later outcomes failed")

    async def sweep(self) -> None:
        """Expire and remind approvals, catch up on notifications, send later run outcomes, resend, prune claims."""
        if self.sweeper is not None:
            await self.sweeper.sweep()
        await push_outcomes(self.engine, self.outbox, chat_of_thread)
        await self.outbox.flush()
        await asyncio.to_thread(prune_updates, self.engine, older_than=timedelta(days=2))

    # ---- people and audit ----------------------------------------------------------------------------------
    async def identify(self, telegram_user_id: int) -> User | None:
        """The active Switchboard user linked to a Telegram account, from now on the actor of the update's logs."""
        user = await asyncio.to_thread(
            user_for_telegram, engine=self.engine, telegram_user_id=telegram_user_id
        )
        if user is not None:
            annotate(actor=user.name)
        return user

    async def audit(self, event: str, *, actor: str, subject: str, data: dict[str, Any]) -> None:
        """Append an audit record (off the event loop)."""
        await asyncio.to_thread(
            self.switchboard.runner.audit.append, event, actor=actor, subject=subject, data=data
        )

    # ---- talking -------------------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def typing(self, chat_id: int) -> AsyncIterator[None]:
        """Show "typing…" in the chat until the block ends."""

        async def keep_typing() -> None:
            while True:
                with contextlib.suppress(TelegramError):
                    await self.bot.send_chat_action(chat_id, ChatAction.TYPING)
                await asyncio.sleep(TYPING_EVERY_S)

        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def chat(
        self, *, chat_id: int, thread_id: str, user: User, message: str, proposal: Decision | None = None
    ) -> Reply:
        """Send one message (or an upload's proposed call) to the agent; domain errors come back as a short reply."""
        async with self.typing(chat_id):
            try:
                return await asyncio.to_thread(
                    self.switchboard.chat,
                    thread_id=thread_id,
                    user=user.name,
                    role=user.role,
                    text=message,
                    source="telegram",
                    proposal=proposal,
                )
            except SwitchboardError as exc:
                return Reply(text=text("failed", error=exc.message), kind="error")

    async def send_text(
        self, *, key: str, chat_id: int, html_text: str, markup: Markup = None, reply_to: int | None = None
    ) -> OutboxMessage:
        """Send one HTML message through the outbox."""
        payload: dict[str, Any] = {"text": html_text, "reply_markup": markup_dict(markup)}
        if reply_to:
            payload["reply_to"] = reply_to
        return await self.outbox.send(key=key, chat_id=chat_id, method="sendMessage", payload=payload)

    async def send_reply(
        self,
        *,
        key: str,
        chat_id: int,
        reply: Reply,
        thread_id: str,
        telegram_user_id: int,
        reply_to: int | None = None,
    ) -> None:
        """Render and send an agent reply; quick-answer buttons get single-use tokens bound to this person."""
        messages = await asyncio.to_thread(render_reply, reply, media_dir=self.media_dir, key=key)
        markup: InlineKeyboardMarkup | None = None
        if reply.buttons:
            expires = utcnow() + ANSWER_TOKEN_TTL
            answers = [
                (
                    label,
                    await asyncio.to_thread(
                        tokens.issue,
                        self.engine,
                        kind="answer",
                        action=label,
                        chat_id=chat_id,
                        expires_at=expires,
                        telegram_user_id=telegram_user_id,
                        thread_id=thread_id,
                    ),
                )
                for label in reply.buttons
            ]
            markup = answer_keyboard(answers)
        last_text = max((i for i, m in enumerate(messages) if m.method == "sendMessage"), default=-1)
        for i, message in enumerate(messages):
            payload = dict(message.payload)
            if i == last_text and markup is not None:
                payload["reply_markup"] = markup_dict(markup)
            if i == 0 and reply_to:
                payload["reply_to"] = reply_to
            await self.outbox.send(key=f"{key}:{i}", chat_id=chat_id, method=message.method, payload=payload)

    async def say(
        self, *, key: str, chat_id: int, template: str, reply_to: int | None = None, **values: Any
    ) -> None:
        """Send one of the bot's own texts (values are escaped here)."""
        html_text = text(template, **{k: esc(v) for k, v in values.items()})
        await self.send_text(key=key, chat_id=chat_id, html_text=html_text, reply_to=reply_to)
