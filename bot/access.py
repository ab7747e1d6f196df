"""The gate every update passes first: claim it once, ignore group chatter, check the chat and the person.

It runs in handler group -1 and stops the update (``ApplicationHandlerStop``) unless it should be handled.
It fails closed: if the claim or a lookup raises, the update is dropped, never handled twice or by a stranger.
Unknown people and chats get one polite refusal per chat (the outbox key makes it once), an audit record, and
nothing else: no agent call.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, Chat, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import intake
from bot.runtime import BotRuntime
from bot.store import claim_update, get_reason_prompt
from bot.texts import text

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def update_kind(update: Update) -> str:
    """Which of the allowed kinds this update is ('' for anything else)."""
    for kind in ALLOWED_UPDATES:
        if getattr(update, kind, None) is not None:
            return kind
    return ""


def addressed_to_bot(message: Message, *, bot_id: int, bot_username: str) -> bool:
    """In a group, the bot answers only a mention, a command for it, or a reply to one of its messages."""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    mention = f"@{bot_username}".lower()
    for entities in (message.parse_entities(), message.parse_caption_entities()):
        for entity, value in entities.items():
            if entity.type == MessageEntity.MENTION and value.lower() == mention:
                return True
            if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
                target = value.split("@", 1)[1].lower() if "@" in value else bot_username.lower()
                if target == bot_username.lower():
                    return True
    return False


def chat_allowed(chat: Chat, allowlist: list[int]) -> bool:
    """An allowlist names the chats; without one, only private chats (of linked users) are served."""
    return chat.id in allowlist if allowlist else chat.type == ChatType.PRIVATE


class AccessGuard:
    """Group -1 handler: dedupe, addressing, allowlist, identity."""

    def __init__(self, runtime: BotRuntime) -> None:
        self.runtime = runtime

    async def __call__(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Let the update through, or stop it."""
        try:
            await self._check(update)
        except ApplicationHandlerStop:
            raise
        except Exception:
            logger.exception("access check failed; dropping update %s", update.update_id)
            raise ApplicationHandlerStop from None

    async def _check(self, update: Update) -> None:
        rt = self.runtime
        kind = update_kind(update)
        chat, person = update.effective_chat, update.effective_user
        # An update from the durable intake was deduplicated by its workflow id; a re-run after a crash must
        # get through, so it is not claimed again here.
        claimed = update.update_id in intake.handed_over or await asyncio.to_thread(
            claim_update,
            rt.engine,
            bot_id=rt.bot.id,
            update_id=update.update_id,
            kind=kind,
            chat_id=chat.id if chat else None,
            telegram_user_id=person.id if person else None,
        )
        if not claimed:
            logger.info("duplicate update %s ignored", update.update_id)
            raise ApplicationHandlerStop
        if not kind or chat is None or person is None or person.is_bot:
            raise ApplicationHandlerStop
        message = update.effective_message
        if chat.type != ChatType.PRIVATE and kind != "callback_query" and message is not None:
            addressed = addressed_to_bot(message, bot_id=rt.bot.id, bot_username=rt.bot.username)
            if not addressed and not await asyncio.to_thread(
                get_reason_prompt, rt.engine, chat_id=chat.id, telegram_user_id=person.id
            ):
                raise ApplicationHandlerStop
        if not chat_allowed(chat, rt.settings.telegram_allowed_chats):
            await self._refuse(update, reason="chat_not_allowed", template="refuse_chat")
        if await rt.identify(person.id) is None:
            await self._refuse(update, reason="unknown_user", template="refuse_unknown")

    async def _refuse(self, update: Update, *, reason: str, template: str) -> None:
        rt = self.runtime
        chat, person = update.effective_chat, update.effective_user
        assert chat is not None and person is not None
        await rt.audit(
            "bot.refused",
            actor=f"telegram:{person.id}",
            subject=f"telegram_chat:{chat.id}",
            data={"reason": reason, "update": update_kind(update), "chat_type": chat.type},
        )
        query: CallbackQuery | None = update.callback_query
        if query is not None:
            # CallbackQueries need to be answered, even when the answer is no.
            try:
                await query.answer(text("cb_unknown_user" if reason == "unknown_user" else "refuse_chat"))
            except TelegramError:
                logger.warning("could not answer callback query %s", query.id)
        await rt.send_text(
            key=f"refusal:{chat.id}", chat_id=chat.id, html_text=text(template, telegram_user_id=person.id)
        )
        raise ApplicationHandlerStop
