"""The outbox: every outgoing Bot API call is a row with an idempotency key, sent at most once, retried.

A 429 waits the ``retry_after`` Telegram asks for; a 5xx or a network timeout is retried with exponential
backoff; a 400 or 403 fails at once. A row is claimed (pending → sending) before it is sent, so two workers or
a repeated call never send it twice, and a notification that finally fails is marked failed and logged: it
never repeats or rolls back the flow it reports on. Rows left pending (bot down) are sent by ``flush``.
A row found "sending" after a crash is left alone: Telegram has no idempotency keys, so resending it could
deliver it twice, and at most once is the promise.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from telegram import Bot, ForceReply, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.store import OutboxMessage
from core.store.db import utcnow, write_session

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Markup = InlineKeyboardMarkup | ForceReply | None


@dataclass(frozen=True)
class SendPolicy:
    """How hard to try: attempts for network errors and 5xx, waits for 429s, backoff bounds (seconds)."""

    attempts: int = 5
    rate_limited_attempts: int = 10
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff before retry number ``attempt`` (1-based)."""
        return float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class _Permanent(Exception):
    """A failure that retrying cannot fix (400, 403, missing file)."""


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
        return self._transition(key, "pending", status="cancelled")

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

    def _transition(self, key: str, expected: str, **values: Any) -> bool:
        with write_session(self.engine) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.key == key)  # type: ignore[arg-type]
                .where(OutboxMessage.status == expected)  # type: ignore[arg-type]
                .values(**values)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    # ---- sending -------------------------------------------------------------------------------------------
    async def send(self, *, key: str, chat_id: int, method: str, payload: dict[str, Any]) -> OutboxMessage:
        """Record and send one call; a key that was used before is not sent again."""
        await asyncio.to_thread(self.put, key=key, chat_id=chat_id, method=method, payload=payload)
        return await self.deliver(key)

    async def deliver(self, key: str) -> OutboxMessage:
        """Send a pending row once (claiming it first); returns the row as it ends up."""
        claimed = await asyncio.to_thread(self._transition, key, "pending", status="sending")
        row = await asyncio.to_thread(self.get, key)
        assert row is not None, f"no outbox row {key}"
        if not claimed:
            return row
        status, message_id, error, attempts = await self._send_with_retries(row)
        values: dict[str, Any] = {
            "status": status,
            "attempts": attempts,
            "message_id": message_id,
            "error": error,
        }
        if status == "sent":
            values["sent_at"] = utcnow()
        else:
            # A failed notification is logged and left failed; the flow it reports on is not touched.
            logger.warning(
                "telegram %s to chat %s failed after %d attempt(s): %s",
                row.method,
                row.chat_id,
                attempts,
                error,
                extra={"outbox_key": key},
            )
        await asyncio.to_thread(self._transition, key, "sending", **values)
        return (await asyncio.to_thread(self.get, key)) or row

    async def flush(self) -> int:
        """Send every pending row (after a restart or from another process); returns how many were sent."""
        sent = 0
        for key in await asyncio.to_thread(self.pending_keys):
            row = await self.deliver(key)
            sent += row.status == "sent"
        return sent

    async def _send_with_retries(self, row: OutboxMessage) -> tuple[str, int | None, str | None, int]:
        failures = rate_limited = attempts = 0
        error: str | None = None
        while True:
            attempts += 1
            try:
                return "sent", await self._call(row), None, attempts
            except RetryAfter as exc:
                rate_limited += 1
                wait = retry_after_seconds(exc)
                error = f"rate limited (retry after {wait:g} s)"
                if rate_limited >= self.policy.rate_limited_attempts or wait > self.policy.max_retry_after:
                    return "failed", None, error, attempts
                await self.sleep(wait)
            except BadRequest as exc:
                if row.method.startswith("edit") and "not modified" in exc.message:
                    return "sent", row.payload.get("message_id"), None, attempts
                return "failed", None, exc.message, attempts
            except NetworkError as exc:  # 5xx, timeouts and connection errors (BadRequest is handled above)
                failures += 1
                error = exc.message
                if failures >= self.policy.attempts:
                    return "failed", None, error, attempts
                await self.sleep(self.policy.backoff(failures))
            except (TelegramError, _Permanent) as exc:  # 403 blocked, bad token, chat migrated, missing file
                return "failed", None, str(exc), attempts

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
                raise _Permanent(f"cannot read {path.name}: {exc.strerror}") from None
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
            raise _Permanent(f"unknown outbox method {row.method}")
        return msg.message_id if isinstance(msg, Message) else None
