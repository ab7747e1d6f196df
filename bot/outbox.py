"""The outbox: every outgoing Bot API call is a row with an idempotency key, sent at most once, retried.

The steps are the outbox protocol's (``core.store.outbox``), with the Bot API's failures sorted for its retries: a
429 waits the ``retry_after`` Telegram asks for (counted apart from other failures); a 5xx or a network timeout is
retried with exponential backoff; a 400 or 403 fails at once. A row is claimed (pending → sending) before it is
sent, so two workers or a repeated call never send it twice, and a notification that finally fails is marked
failed and logged: it never repeats or rolls back the flow it reports on. Rows left pending (bot down) are sent
by ``flush``. A row found "sending" after a crash is left alone: Telegram has no idempotency keys, so resending
it could deliver it twice, and at most once is the promise.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from telegram import Bot, ForceReply, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.store import OutboxMessage
from core.store import outbox
from core.store.db import utcnow, write_session
from core.store.outbox import Backoff, GaveUp, PermanentError, TransientError

Sleep = Callable[[float], Awaitable[None]]
Markup = InlineKeyboardMarkup | ForceReply | None


@dataclass(frozen=True)
class SendPolicy(Backoff):
    """How hard to try: attempts for network errors and 5xx, waits for 429s, backoff bounds (seconds)."""

    attempts: int = 5
    rate_limited_attempts: int | None = 10
    max_retry_after: float | None = 300.0


def retry_after_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds, whether PTB hands out an int or a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: int | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _markup(data: dict[str, Any] | None, bot: Bot) -> Markup:
    if not data:
        return None
    if "inline_keyboard" in data:
        return InlineKeyboardMarkup.de_json(data, bot)
    if data.get("force_reply"):
        return ForceReply.de_json(data, bot)
    return None


def markup_dict(markup: Markup) -> dict[str, Any] | None:
    """A reply markup as stored in an outbox payload."""
    return markup.to_dict() if markup is not None else None


class Outbox:
    """Sends outbox rows through one Bot."""

    def __init__(
        self, *, engine: Engine, bot: Bot, policy: SendPolicy | None = None, sleep: Sleep | None = None
    ):
        self.engine = engine
        self.bot = bot
        self.policy = policy or SendPolicy()
        self.sleep: Sleep = sleep or asyncio.sleep

    # ---- rows ----------------------------------------------------------------------------------------------
    def put(self, *, key: str, chat_id: int, method: str, payload: dict[str, Any]) -> OutboxMessage:
        """Record a call to make; an existing row with the same key is returned unchanged."""
        try:
            with write_session(self.engine) as session:
                row = OutboxMessage(key=key, chat_id=chat_id, method=method, payload=payload)
                session.add(row)
                session.flush()
                session.refresh(row)
                session.expunge(row)
                return row
        except IntegrityError:
            found = self.get(key)
            assert found is not None
            return found

    def get(self, key: str) -> OutboxMessage | None:
        """The row for ``key``, if any."""
        with Session(self.engine) as session:
            row = session.execute(select(OutboxMessage).where(OutboxMessage.key == key)).scalar_one_or_none()  # type: ignore[arg-type]
            if row is not None:
                session.expunge(row)
            return row

    def cancel(self, key: str) -> bool:
        """Drop a row that was not sent yet (pending → cancelled)."""
        return outbox.move(
            self.engine, OutboxMessage, {"key": key}, states=(outbox.PENDING,), status="cancelled"
        )

    def pending_keys(self, limit: int = 200) -> list[str]:
        """Keys of rows waiting to be sent, oldest first."""
        with Session(self.engine) as session:
            query = (
                select(col(OutboxMessage.key))
                .where(col(OutboxMessage.status) == "pending")
                .order_by(col(OutboxMessage.id))
                .limit(limit)
            )
            return list(session.execute(query).scalars())

    # ---- sending -------------------------------------------------------------------------------------------
    async def send(self, *, key: str, chat_id: int, method: str, payload: dict[str, Any]) -> OutboxMessage:
        """Record and send one call; a key that was used before is not sent again."""
        await asyncio.to_thread(self.put, key=key, chat_id=chat_id, method=method, payload=payload)
        return await self.deliver(key)

    async def deliver(self, key: str) -> OutboxMessage:
        """Send a pending row once (claiming it first); returns the row as it ends up."""
        row, claimed = await asyncio.to_thread(
            outbox.claim, self.engine, OutboxMessage, {"key": key}, states=(outbox.PENDING,)
        )
        if not claimed:
            return row
        assert row.id is not None
        try:
            done = await outbox.attempt_async(
                lambda _attempt: self._attempt(row),
                backoff=self.policy,
                sleep=self.sleep,
                what=f"telegram {row.method} to chat {row.chat_id} ({key})",
            )
        except GaveUp as exc:
            # A failed notification is left failed (and logged); the flow it reports on is not touched.
            values: dict[str, Any] = {"status": outbox.FAILED, "message_id": None, "error": exc.message}
            attempts = exc.attempts
        else:
            values = {"status": "sent", "message_id": done.value, "error": None, "sent_at": utcnow()}
            attempts = done.attempts
        row_id = row.id
        return await asyncio.to_thread(
            lambda: outbox.finish(self.engine, OutboxMessage, row_id, attempts=attempts, **values)
        )

    async def flush(self) -> int:
        """Send every pending row (after a restart or from another process); returns how many were sent."""
        sent = 0
        for key in await asyncio.to_thread(self.pending_keys):
            row = await self.deliver(key)
            sent += row.status == "sent"
        return sent

    async def _attempt(self, row: OutboxMessage) -> int | None:
        """One Bot API call, its failures sorted into transient and permanent ones for the outbox's retries."""
        try:
            return await self._call(row)
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            raise TransientError(f"rate limited (retry after {wait:g} s)", retry_after=wait) from None
        except BadRequest as exc:
            if row.method.startswith("edit") and "not modified" in exc.message:
                return row.payload.get("message_id")  # the message already reads so: nothing left to do
            raise PermanentError(exc.message) from None
        except NetworkError as exc:  # 5xx, timeouts and connection errors (BadRequest is handled above)
            raise TransientError(exc.message) from None
        except TelegramError as exc:  # 403 blocked, bad token, chat migrated
            raise PermanentError(str(exc)) from None

    async def _call(self, row: OutboxMessage) -> int | None:
        p = row.payload
        markup = _markup(p.get("reply_markup"), self.bot)
        inline = (
            markup if isinstance(markup, InlineKeyboardMarkup) else None
        )  # edits take inline keyboards only
        if row.method == "sendMessage":
            reply = (
                ReplyParameters(p["reply_to"], allow_sending_without_reply=True)
                if p.get("reply_to")
                else None
            )
            msg: Message | bool = await self.bot.send_message(
                row.chat_id,
                p["text"],
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                reply_parameters=reply,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        elif row.method in ("sendPhoto", "sendDocument"):
            path = Path(p["path"])
            try:
                content = await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                raise PermanentError(f"cannot read {path.name}: {exc.strerror}") from None
            if row.method == "sendPhoto":
                msg = await self.bot.send_photo(
                    row.chat_id,
                    content,
                    caption=p.get("caption"),
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
            else:
                msg = await self.bot.send_document(
                    row.chat_id,
                    content,
                    filename=p.get("filename") or path.name,
                    caption=p.get("caption"),
                    parse_mode=ParseMode.HTML,
                )
        elif row.method == "editMessageText":
            msg = await self.bot.edit_message_text(
                p["text"],
                chat_id=row.chat_id,
                message_id=p["message_id"],
                parse_mode=ParseMode.HTML,
                reply_markup=inline,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            return int(p["message_id"])
        elif row.method == "editMessageReplyMarkup":
            await self.bot.edit_message_reply_markup(
                chat_id=row.chat_id, message_id=p["message_id"], reply_markup=inline
            )
            return int(p["message_id"])
        else:
            raise PermanentError(f"unknown outbox method {row.method}")
        return msg.message_id if isinstance(msg, Message) else None
