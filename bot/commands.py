"""Commands: /start, /help, /runs, /pending and /cancel.

The access guard (group -1) has already claimed the update and checked the chat and the person.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from agent.state import Reply
from bot import tokens
from bot.approvals import ApprovalNotifier
from bot.handlers import HandlerBase
from bot.render import esc
from bot.runtime import COMMANDS, BotRuntime
from bot.store import take_reason_prompt
from bot.texts import text
from core.store import approval_ops as ops
from core.store.approvals import ApprovalStatus
from core.vocabulary import APPROVER_ROLES
from tools.base import Table

PENDING_SHOWN = 10
RUNS_SHOWN = 10


class CommandHandlers(HandlerBase):
    """Command callbacks bound to one runtime."""

    def __init__(self, runtime: BotRuntime, notifier: ApprovalNotifier) -> None:
        super().__init__(runtime)
        self.notifier = notifier

    async def start(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Greet the user and list the commands."""
        who = await self._caller(update)
        if who is None:
            return
        greeting = self.runtime.switchboard.prompts.render("greeting", user=who.user.name)
        await self.runtime.send_text(
            key=f"u{update.update_id}",
            chat_id=who.chat.id,
            reply_to=who.reply_to,
            html_text=text(
                "start",
                greeting=esc(greeting),
                user=esc(who.user.name),
                role=esc(who.user.role),
                commands=", ".join(f"/{name}" for name, _ in COMMANDS),
            ),
        )

    async def help(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """List the tools this user may use (the agent's help answer is per role)."""
        who = await self._caller(update)
        if who is not None:
            await self._ask_agent(update, who, "help")

    async def runs(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Show the most recent runs."""
        who = await self._caller(update)
        if who is None:
            return
        sb = self.runtime.switchboard
        if "list_runs" in sb.registry and who.user.role not in sb.registry["list_runs"].roles:
            return await self._say(update, who, "runs_not_allowed", role=who.user.role)
        found = await asyncio.to_thread(sb.runner.runs.list, limit=RUNS_SHOWN)
        if not found:
            return await self._say(update, who, "no_runs")
        rows: list[list[Any]] = [
            [r.id, r.name, r.status.value, r.created_at.strftime("%m-%d %H:%M")] for r in found
        ]
        reply = Reply(
            text=f"The last {len(found)} runs:",
            kind="info",
            table=Table(columns=["id", "name", "status", "created"], rows=rows),
        )
        await self.runtime.send_reply(
            key=f"u{update.update_id}",
            chat_id=who.chat.id,
            reply=reply,
            thread_id=who.thread_id,
            telegram_user_id=who.person.id,
            reply_to=who.reply_to,
        )

    async def pending(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Approvers: each waiting request with buttons. Others: their own requests still waiting."""
        who = await self._caller(update)
        if who is None:
            return
        rt = self.runtime
        if who.user.role not in APPROVER_ROLES:
            mine = await asyncio.to_thread(
                ops.list_requests, engine=rt.engine, status=ApprovalStatus.PENDING, requester=who.user.name
            )
            if not mine:
                return await self._say(update, who, "no_pending_mine")
            lines = [text("pending_mine_header")] + [
                f"• <code>{esc(r.id)}</code> {esc(r.tool)} ({esc((r.preview or {}).get('summary', ''))})"
                for r in mine
            ]
            await rt.send_text(
                key=f"u{update.update_id}",
                chat_id=who.chat.id,
                html_text="\n".join(lines),
                reply_to=who.reply_to,
            )
            return
        waiting = await asyncio.to_thread(rt.switchboard.approvals.pending, limit=PENDING_SHOWN + 1)
        if not waiting:
            return await self._say(update, who, "no_pending")
        keys = []
        # In a group (an approvers' chat) any approver may use the buttons; checks happen at the tap.
        group = who.chat.type != ChatType.PRIVATE
        for request in waiting[:PENDING_SHOWN]:
            keys.append(
                await asyncio.to_thread(
                    self.notifier.prepare,
                    request,
                    key=f"pending:{update.update_id}:{request.id}",
                    chat_id=who.chat.id,
                    telegram_user_id=None if group else who.person.id,
                    buttons=group or await asyncio.to_thread(self.notifier.may_decide, request, who.user),
                )
            )
        await self.notifier.deliver(keys)
        if len(waiting) > PENDING_SHOWN:
            await self._say(
                update,
                who,
                "pending_more",
                suffix=":more",
                url=f"{rt.settings.console_url.rstrip('/')}/approvals",
            )

    async def cancel(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Drop a pending reject reason, or answer "no" to the question the agent asked in this thread."""
        who = await self._caller(update)
        if who is None:
            return
        approval_id = await asyncio.to_thread(
            take_reason_prompt, self.runtime.engine, chat_id=who.chat.id, telegram_user_id=who.person.id
        )
        if approval_id:
            return await self._say(update, who, "cancel_reason", approval_id=approval_id)
        if await asyncio.to_thread(self._thread_waits, who.thread_id):
            return await self._ask_agent(update, who, "no")
        await asyncio.to_thread(tokens.revoke_answers, self.runtime.engine, who.thread_id)
        await self._say(update, who, "cancel_nothing")

    def _thread_waits(self, thread_id: str) -> bool:
        """True when the agent asked this thread a question (confirm, missing argument, choice)."""
        state = self.runtime.switchboard.graph.get_state({"configurable": {"thread_id": thread_id}})
        return bool(state.values.get("pending")) if state is not None else False
