"""Messages: free text to the agent, reject reasons, document uploads, edits, stickers and the rest.

The access guard (group -1) has already claimed the update and checked the chat and the person, so every
handler here serves a linked user in an allowed chat. ``HandlerBase`` is shared with the commands.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from telegram import Chat, Message, Update
from telegram import User as TgUser
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from agent.backends.base import Decision
from bot import tokens, uploads
from bot.callbacks import decided_text
from bot.runtime import BotRuntime, thread_id_for
from bot.store import take_reason_prompt
from core.errors import Conflict, Forbidden, NotFound
from core.store import approval_ops as ops
from core.store.approvals import ApprovalStatus
from core.store.users import User

logger = logging.getLogger(__name__)

_KINDS = [
    ("sticker", "stickers"),
    ("photo", "photos"),
    ("voice", "voice messages"),
    ("video", "videos"),
    ("video_note", "video messages"),
    ("audio", "audio files"),
    ("animation", "GIFs"),
    ("location", "locations"),
    ("contact", "contacts"),
    ("poll", "polls"),
]


@dataclass(frozen=True)
class Caller:
    """Who sent an update, where."""

    chat: Chat
    person: TgUser
    user: User
    message: Message

    @property
    def thread_id(self) -> str:
        """This person's thread in this chat."""
        return thread_id_for(self.chat.id, self.person.id)

    @property
    def reply_to(self) -> int | None:
        """In groups, answer as a reply so it is clear who the answer is for."""
        return None if self.chat.type == ChatType.PRIVATE else self.message.message_id


class HandlerBase:
    """What message and command callbacks share: who is asking, and how to answer."""

    def __init__(self, runtime: BotRuntime) -> None:
        self.runtime = runtime

    async def _caller(self, update: Update) -> Caller | None:
        chat, person, message = update.effective_chat, update.effective_user, update.effective_message
        if chat is None or person is None or message is None:
            return None
        user = await self.runtime.identify(person.id)
        return Caller(chat, person, user, message) if user is not None else None

    async def _say(self, update: Update, who: Caller, template: str, suffix: str = "", **values: Any) -> None:
        await self.runtime.say(
            key=f"u{update.update_id}{suffix}",
            chat_id=who.chat.id,
            template=template,
            reply_to=who.reply_to,
            **values,
        )

    async def _ask_agent(
        self, update: Update, who: Caller, message: str, proposal: Decision | None = None
    ) -> None:
        await asyncio.to_thread(tokens.revoke_answers, self.runtime.engine, who.thread_id)
        reply = await self.runtime.chat(
            chat_id=who.chat.id, thread_id=who.thread_id, user=who.user, message=message, proposal=proposal
        )
        await self.runtime.send_reply(
            key=f"u{update.update_id}",
            chat_id=who.chat.id,
            reply=reply,
            thread_id=who.thread_id,
            telegram_user_id=who.person.id,
            reply_to=who.reply_to,
        )


class ChatHandlers(HandlerBase):
    """Message callbacks: free text, reject reasons, files, edits and everything else."""

    async def unknown_command(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Point to /help."""
        who = await self._caller(update)
        if who is not None:
            command = (who.message.text or "/").split()[0][1:].split("@")[0]
            await self._say(update, who, "unknown_command", command=command)

    # ---- messages ------------------------------------------------------------------------------------------
    async def text_message(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reject reason when one was asked for; otherwise a message for the agent."""
        who = await self._caller(update)
        if who is None:
            return
        message = re.sub(
            rf"@{re.escape(self.runtime.bot.username)}\b", "", who.message.text or "", flags=re.IGNORECASE
        ).strip()
        approval_id = await asyncio.to_thread(
            take_reason_prompt, self.runtime.engine, chat_id=who.chat.id, telegram_user_id=who.person.id
        )
        if approval_id:
            return await self._reject(update, who, approval_id, message)
        if message:
            await self._ask_agent(update, who, message)

    async def _reject(self, update: Update, who: Caller, approval_id: str, reason: str) -> None:
        service = self.runtime.switchboard.approvals
        try:
            await asyncio.to_thread(
                service.reject,
                approval_id,
                approver=who.user.name,
                role=who.user.role,
                reason=reason,
                channel="telegram",
            )
        except (Conflict, Forbidden, NotFound) as exc:
            try:
                fresh = await asyncio.to_thread(
                    ops.get_request, engine=self.runtime.engine, approval_id=approval_id
                )
                why = decided_text(fresh) if fresh.status != ApprovalStatus.PENDING else exc.message
            except NotFound:
                why = exc.message
            return await self._say(update, who, "failed", error=why)
        await self._say(update, who, "rejected_ack", approval_id=approval_id)

    async def document(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Save a CSV, XLSX or JSON file in the inbox and ask the agent to load it (the policy decides)."""
        who = await self._caller(update)
        doc = who.message.document if who else None
        if who is None or doc is None:
            return
        rt = self.runtime
        name = uploads.safe_file_name(doc.file_name, mime_type=doc.mime_type)
        if not uploads.accepted(name):
            return await self._say(update, who, "bad_file_type", name=doc.file_name or name)
        limit = min(rt.settings.max_file_bytes, uploads.TELEGRAM_DOWNLOAD_LIMIT)
        if (doc.file_size or 0) > limit:
            return await self._say(
                update,
                who,
                "file_too_large",
                name=name,
                size=f"{(doc.file_size or 0) / 1e6:.1f}",
                limit=f"{limit / 1e6:.0f}",
            )
        inbox = rt.switchboard.settings.inbox  # where the agent's ingest reads
        async with rt.typing(who.chat.id):
            tg_file = await rt.bot.get_file(doc.file_id)
            part = await asyncio.to_thread(uploads.temp_path, inbox)
            try:
                await tg_file.download_to_drive(part)
                size = part.stat().st_size
            except BaseException:
                part.unlink(missing_ok=True)
                raise
            if size > limit:
                part.unlink(missing_ok=True)
                return await self._say(
                    update,
                    who,
                    "file_too_large",
                    name=name,
                    size=f"{size / 1e6:.1f}",
                    limit=f"{limit / 1e6:.0f}",
                )
            saved, digest = await asyncio.to_thread(uploads.place_upload, inbox, name, part)
        await rt.audit(
            "bot.upload",
            actor=who.user.name,
            subject=f"inbox:{saved}",
            data={"file": saved, "sha256": digest, "bytes": size, "chat_id": who.chat.id},
        )
        await self._say(update, who, "file_saved", suffix=":saved", name=saved)
        dataset = uploads.guess_dataset(saved, who.message.caption)
        # The upload is the request: its file name and caption are data, never read for what to do.
        await self._ask_agent(
            update, who, uploads.load_message(saved, dataset), proposal=uploads.load_proposal(saved, dataset)
        )

    async def edited(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Edits are not acted on (the original already was)."""
        who = await self._caller(update)
        if who is not None:
            await self._say(update, who, "edited")

    async def unsupported(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice and the like get a short explanation."""
        who = await self._caller(update)
        if who is None:
            return
        what = next(
            (label for attr, label in _KINDS if getattr(who.message, attr, None)), "that kind of message"
        )
        await self._say(update, who, "unsupported", what=what)
