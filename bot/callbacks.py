"""Inline button taps: approve, reject (the reason is asked for in chat) and quick answers.

The button's token says what it means and who may use it. Checks that need no state change come first and do
not use the token up, so a requester tapping in a group cannot burn a button meant for an approver: the right
person, then the approval rule (``can_decide``: role, still pending, four-eyes as the policy says, a first
vote). Then the token is used once, atomically, and the decision goes to the ApprovalService, which applies the
same rule again and executes at most once. Every callback is answered.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import tokens
from bot.keyboards import reason_prompt
from bot.outbox import markup_dict
from bot.runtime import BotRuntime
from bot.store import CallbackToken, set_reason_prompt
from bot.texts import text
from core.errors import Conflict, Forbidden, NotFound, SwitchboardError
from core.store import approval_ops as ops
from core.store.approval_rule import Ballot, Decision, RefusalCode, can_decide
from core.store.approvals import ApprovalRequest, ApprovalStatus
from core.store.users import User

logger = logging.getLogger(__name__)

ANSWER_WITHIN_S = 5.0  # answer the tap before Telegram gives up on it, even if the action is still running
# The bot's words for the approval rule's refusals; "not_pending" is worded by ``decided_text``.
REFUSALS: dict[RefusalCode, str] = {
    "inactive": "cb_inactive",
    "role": "cb_only_approvers",
    "expired": "cb_expired",
    "four_eyes": "cb_four_eyes",
    "already_voted": "cb_already_voted",
}


def decided_text(request: ApprovalRequest) -> str:
    """The short answer for a tap on a request that is no longer pending."""
    if request.status == ApprovalStatus.EXPIRED:
        return text("cb_expired")
    if request.status == ApprovalStatus.SUPERSEDED:
        return text("cb_superseded")
    return text("cb_decided", by=request.decided_by or "someone")


class _Answer:
    """Answers a callback query exactly once (later calls are ignored)."""

    def __init__(self, query: CallbackQuery) -> None:
        self.query = query
        self.done = False

    async def __call__(self, message: str | None = None) -> None:
        if self.done:
            return
        self.done = True
        try:
            await self.query.answer(message)
        except TelegramError:
            logger.warning("could not answer callback query %s", self.query.id)


class CallbackHandlers:
    """The CallbackQueryHandler callback and its helpers."""

    def __init__(self, runtime: BotRuntime) -> None:
        self.runtime = runtime

    async def on_callback(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Handle a button tap."""
        query = update.callback_query
        assert query is not None
        answer = _Answer(query)
        try:
            row = await asyncio.to_thread(tokens.peek, self.runtime.engine, query.data or "")
            if row is None or (query.message is not None and query.message.chat.id != row.chat_id):
                return await answer(
                    text("cb_invalid")
                )  # unknown, or shown in another chat than it was sent to
            if row.telegram_user_id is not None and row.telegram_user_id != query.from_user.id:
                return await answer(text("cb_not_yours"))
            user = await self.runtime.identify(query.from_user.id)
            if user is None:
                return await answer(text("cb_unknown_user"))
            if row.kind == "answer":
                await self._quick_answer(update, query, row, user, answer)
            else:
                await self._decide(update, query, row, user, answer)
        finally:
            await answer()  # CallbackQueries need to be answered, even if no notification is needed

    # ---- quick answers (yes/no) ----------------------------------------------------------------------------
    async def _quick_answer(
        self, update: Update, query: CallbackQuery, row: CallbackToken, user: User, answer: _Answer
    ) -> None:
        rt = self.runtime
        message = query.message
        if message is None or row.thread_id is None or message.chat.id != row.chat_id:
            return await answer(text("cb_invalid"))
        if not await asyncio.to_thread(
            tokens.consume, rt.engine, row.token, telegram_user_id=query.from_user.id
        ):
            return await answer(text("cb_invalid"))
        await asyncio.to_thread(tokens.revoke_answers, rt.engine, row.thread_id)
        await answer(text("cb_answered"))
        await rt.outbox.send(
            key=f"u{update.update_id}:unbutton",
            chat_id=row.chat_id,
            method="editMessageReplyMarkup",
            payload={"message_id": message.message_id},
        )
        reply = await rt.chat(chat_id=row.chat_id, thread_id=row.thread_id, user=user, message=row.action)
        await rt.send_reply(
            key=f"u{update.update_id}",
            chat_id=row.chat_id,
            reply=reply,
            thread_id=row.thread_id,
            telegram_user_id=query.from_user.id,
        )

    # ---- approvals -----------------------------------------------------------------------------------------
    async def _decide(
        self, update: Update, query: CallbackQuery, row: CallbackToken, user: User, answer: _Answer
    ) -> None:
        rt = self.runtime
        decision: Decision = "reject" if row.action == "reject" else "approve"
        try:
            request, ballot = await asyncio.to_thread(
                ops.load_ballot, engine=rt.engine, approval_id=row.approval_id or ""
            )
        except NotFound:
            return await answer(text("cb_gone"))
        refusal = self._refusal(request, ballot, user, decision)
        if refusal:
            return await answer(refusal)
        if not await asyncio.to_thread(
            tokens.consume, rt.engine, row.token, telegram_user_id=query.from_user.id
        ):
            refusal = await self._refusal_now(request.id, user, decision)
            if refusal or not await asyncio.to_thread(self._used_by, row.token, query.from_user.id):
                return await answer(refusal or text("cb_invalid"))
            # This person used the button and may still decide: the tap that used it never got to its decision,
            # its process having died in between, and this is that update run again. The service counts a vote
            # once, so a tap that did get there cannot count twice.
        if decision == "reject":
            return await self._ask_reason(update, query, request, answer)
        await self._approve(update, query, row, request, user, answer)

    def _used_by(self, token: str, telegram_user_id: int) -> bool:
        """Whether ``token`` was used (not revoked) by ``telegram_user_id``."""
        row = tokens.peek(self.runtime.engine, token)
        return row is not None and row.used_by == telegram_user_id

    def _refusal(
        self, request: ApprovalRequest, ballot: Ballot, user: User, decision: Decision
    ) -> str | None:
        """The answer to a tap the approval rule refuses; None when ``user`` may decide."""
        verdict = can_decide(user, ballot, self.runtime.switchboard.policy.config, decision=decision)
        if verdict.code is None:
            return None
        if verdict.code == "not_pending":
            return decided_text(request)
        return text(REFUSALS[verdict.code], more=ballot.votes_needed)

    async def _refusal_now(self, approval_id: str, user: User, decision: Decision) -> str | None:
        """``_refusal`` on the request as it is now (after something else changed it)."""
        request, ballot = await asyncio.to_thread(
            ops.load_ballot, engine=self.runtime.engine, approval_id=approval_id
        )
        return self._refusal(request, ballot, user, decision)

    async def _approve(
        self,
        update: Update,
        query: CallbackQuery,
        row: CallbackToken,
        request: ApprovalRequest,
        user: User,
        answer: _Answer,
    ) -> None:
        service = self.runtime.switchboard.approvals
        task = asyncio.ensure_future(
            asyncio.to_thread(
                service.approve,
                request.id,
                approver=user.name,
                role=user.role,
                binding=row.binding,
            )
        )
        done, _ = await asyncio.wait({task}, timeout=ANSWER_WITHIN_S)
        if not done:
            await answer(text("cb_running"))
        try:
            outcome = await task
        except (Conflict, NotFound, Forbidden) as exc:
            refusal = await self._refusal_now(request.id, user, "approve")
            return await self._tell(update, query, answer, refusal or exc.message)
        except SwitchboardError as exc:
            return await self._tell(update, query, answer, text("failed", error=exc.message))
        if outcome.request.status == ApprovalStatus.PENDING and query.message is not None:
            more = outcome.request.quorum - outcome.request.approvals
            await answer(text("cb_approved"))
            original = getattr(query.message, "text_html", None) or ""
            await self.runtime.outbox.send(
                key=f"u{update.update_id}:vote",
                chat_id=query.message.chat.id,
                method="editMessageText",
                payload={
                    "message_id": query.message.message_id,
                    "text": f"{original}\n\n{text('approval_voted', more=more)}",
                },
            )
            return None
        return await answer(text("cb_approved"))

    async def _tell(self, update: Update, query: CallbackQuery, answer: _Answer, message: str) -> None:
        """Say why a tap did nothing: in the toast if it is still open, otherwise in the chat."""
        if not answer.done:
            return await answer(message)
        if query.message is not None:
            await self.runtime.say(
                key=f"u{update.update_id}:late",
                chat_id=query.message.chat.id,
                template="failed",
                error=message,
            )
        return None

    async def _ask_reason(
        self, update: Update, query: CallbackQuery, request: ApprovalRequest, answer: _Answer
    ) -> None:
        message = query.message
        if message is None:
            return await answer(text("cb_invalid"))
        await asyncio.to_thread(
            set_reason_prompt,
            self.runtime.engine,
            chat_id=message.chat.id,
            telegram_user_id=query.from_user.id,
            approval_id=request.id,
        )
        await answer(text("cb_reason"))
        ask = f"{query.from_user.mention_html()} " + text(
            "ask_reason", approval_id=f"<code>{request.id}</code>"
        )
        payload: dict[str, Any] = {"text": ask, "reply_markup": markup_dict(reason_prompt())}
        await self.runtime.outbox.send(
            key=f"u{update.update_id}:reason", chat_id=message.chat.id, method="sendMessage", payload=payload
        )
