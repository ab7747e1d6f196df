"""Approvals on Telegram: requests with buttons for approvers, reminders, and outcomes edited in place.

``ApprovalNotifier`` is an ApprovalService listener. The service calls it from whatever thread made the
decision, so it only writes rows (tokens, outbox, message refs) there and hands the sending to the bot's loop.
``sweep`` makes it independent of that hand-off: it expires and reminds, notifies requests it has not seen
(made by another process, or while the bot was down) and closes messages of requests decided elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot import tokens
from bot.keyboards import approval_keyboard, console_link_allowed
from bot.outbox import markup_dict
from bot.render import esc
from bot.runtime import BotRuntime, chat_of_thread
from bot.store import (
    OutboxMessage,
    add_approval_message,
    close_approval_message,
    notified_approvals,
    open_approval_messages,
)
from bot.texts import text
from core.errors import NotFound
from core.store import approval_ops as ops
from core.store.approval_rule import can_decide
from core.store.approvals import ApprovalRequest, ApprovalStatus
from core.store.users import User, list_users

logger = logging.getLogger(__name__)

SENDING_WAIT_S = 10.0


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def request_text(request: ApprovalRequest, *, console_url: str, reminder: bool = False) -> str:
    """The approver's view: who asked, the tool, the arguments, the dry-run preview, why, and the expiry."""
    expires = f"{_utc(request.expires_at):%Y-%m-%d %H:%M} UTC"
    lines = [text("approval_title", approval_id=esc(request.id))]
    if reminder:
        lines.append(text("approval_reminder", expires=esc(expires)))
    lines.append(f"<b>Requested by:</b> {esc(request.requester)}")
    lines.append(f"<b>Tool:</b> <code>{esc(request.tool)}</code>")
    args = "\n".join(f"{k}: {v}" for k, v in request.args.items()) or "(none)"
    lines.append(f"<b>Arguments:</b>\n<pre>{esc(args)}</pre>")
    preview = request.preview or {}
    if preview.get("summary"):
        lines.append(f"<b>Preview:</b> {esc(preview['summary'])}")
    facts = []
    if preview.get("file_name"):
        size = preview.get("file_size")
        facts.append(f"file {preview['file_name']}" + (f" ({size:,} bytes)" if isinstance(size, int) else ""))
    if preview.get("rows_affected") is not None:
        facts.append(f"{preview['rows_affected']:,} rows affected")
    if preview.get("recipients"):
        facts.append("to " + ", ".join(str(r) for r in preview["recipients"]))
    if preview.get("value") is not None:
        facts.append(f"value {preview['value']:,.2f}")
    if facts:
        lines.append(esc(" · ".join(facts)))
    if request.reasons:
        lines.append(f"<b>Why approval:</b> {esc('; '.join(request.reasons))}")
    if request.confidence is not None:
        lines.append(f"<b>Confidence:</b> {request.confidence:.2f}")
    lines.append(f"<b>Expires:</b> {esc(expires)}")
    url = f"{console_url.rstrip('/')}/approvals/{request.id}"
    if not console_link_allowed(url):
        lines.append(esc(text("approval_edit_link", url=url)))
    return "\n".join(lines)


def decision_line(request: ApprovalRequest) -> str:
    """How a decided request is shown under its message (HTML)."""
    by = esc(request.decided_by or "someone")
    status = request.status
    if status in (ApprovalStatus.APPROVED, ApprovalStatus.EXECUTED):
        tail = (
            f" · ran as run {request.run_id}" if status == ApprovalStatus.EXECUTED and request.run_id else ""
        )
        return text("approval_approved", by=by, tail=tail)
    if status == ApprovalStatus.FAILED:
        return text("approval_failed", by=by)
    if status == ApprovalStatus.REJECTED:
        return text("approval_rejected", by=by, reason=esc(request.decision_reason or "no reason given"))
    if status == ApprovalStatus.EXPIRED:
        return text("approval_expired")
    if status == ApprovalStatus.SUPERSEDED:
        return text("approval_superseded", by=by)
    return ""


class ApprovalNotifier:
    """Listener on the ApprovalService that keeps approvers and requesters informed on Telegram."""

    def __init__(self, runtime: BotRuntime) -> None:
        self.runtime = runtime

    # ---- the listener API (any thread) ---------------------------------------------------------------------
    def on_requested(self, request: ApprovalRequest) -> None:
        """Send every approver the request with buttons bound to them."""
        keys = self.notify_approvers(request, purpose="request")
        self.runtime.submit(self.deliver(keys))

    def on_reminder(self, request: ApprovalRequest) -> None:
        """Send approvers a reminder (fresh buttons) before the request expires."""
        keys = self.notify_approvers(request, purpose="reminder")
        self.runtime.submit(self.deliver(keys))

    def on_outcome(self, request: ApprovalRequest, text: str) -> None:
        """Edit approvers' messages to show the decision; tell the requester in their chat."""
        self.runtime.submit(self.finish(request.id, requester_text=text))

    # ---- writing rows (sync) -------------------------------------------------------------------------------
    def prepare(
        self,
        request: ApprovalRequest,
        *,
        key: str,
        chat_id: int,
        telegram_user_id: int | None,
        buttons: bool = True,
        reminder: bool = False,
    ) -> str:
        """Queue one message about ``request``, buttons bound to ``telegram_user_id``, and record its ref."""
        rt = self.runtime
        settings = rt.settings
        body = request_text(request, console_url=settings.console_url, reminder=reminder)
        markup = None
        if buttons:
            issue: Callable[[str], str] = lambda action: tokens.issue(  # noqa: E731
                rt.engine,
                kind="approval",
                action=action,
                chat_id=chat_id,
                expires_at=_utc(request.expires_at),
                telegram_user_id=telegram_user_id,
                approval_id=request.id,
                binding=request.binding,
            )
            markup = approval_keyboard(
                approve_token=issue("approve"),
                reject_token=issue("reject"),
                edit_url=f"{settings.console_url.rstrip('/')}/approvals/{request.id}",
            )
        if add_approval_message(
            rt.engine,
            approval_id=request.id,
            outbox_key=key,
            chat_id=chat_id,
            telegram_user_id=telegram_user_id,
            text=body,
        ):
            rt.outbox.put(
                key=key,
                chat_id=chat_id,
                method="sendMessage",
                payload={"text": body, "reply_markup": markup_dict(markup)},
            )
        return key

    def may_decide(self, request: ApprovalRequest, user: User) -> bool:
        """Whether ``user`` gets buttons for ``request``: the approval rule, four-eyes as the policy says."""
        return bool(self.deciders(request, [user]))

    def deciders(self, request: ApprovalRequest, users: list[User]) -> list[User]:
        """Those of ``users`` the approval rule lets decide ``request`` now (so also nobody who already voted)."""
        ballot = ops.ballots(engine=self.runtime.engine, requests=[request])[0]
        policy = self.runtime.switchboard.policy.config
        return [user for user in users if can_decide(user, ballot, policy).allowed]

    def notify_approvers(self, request: ApprovalRequest, *, purpose: str) -> list[str]:
        """Queue the request (or reminder) for each linked user who may decide it."""
        keys = []
        linked = [u for u in list_users(engine=self.runtime.engine) if u.telegram_user_id is not None]
        for user in self.deciders(request, linked):
            assert user.telegram_user_id is not None
            keys.append(
                self.prepare(
                    request,
                    key=f"apr:{request.id}:{purpose}:{user.telegram_user_id}",
                    chat_id=user.telegram_user_id,
                    telegram_user_id=user.telegram_user_id,
                    reminder=purpose == "reminder",
                )
            )
        return keys

    # ---- sending (the bot's loop) --------------------------------------------------------------------------
    async def deliver(self, keys: list[str]) -> None:
        """Send queued messages."""
        for key in keys:
            await self.runtime.outbox.deliver(key)

    async def finish(self, approval_id: str, *, requester_text: str | None = None) -> None:
        """Once a request is decided: revoke its buttons, edit its messages in place, tell the requester."""
        rt = self.runtime
        try:
            request = await asyncio.to_thread(ops.get_request, engine=rt.engine, approval_id=approval_id)
        except NotFound:
            return
        if request.status == ApprovalStatus.PENDING:
            return
        await asyncio.to_thread(tokens.revoke_for_approval, rt.engine, approval_id)
        line = decision_line(request)
        for ref in await asyncio.to_thread(open_approval_messages, rt.engine, approval_id=approval_id):
            if not await asyncio.to_thread(close_approval_message, rt.engine, message_ref_id=ref.id or 0):
                continue
            if await asyncio.to_thread(rt.outbox.cancel, ref.outbox_key):
                continue  # never sent: nothing to edit
            row = await self._sent(ref.outbox_key)
            if row is None or row.message_id is None:
                continue
            await rt.outbox.send(
                key=f"{ref.outbox_key}:final",
                chat_id=ref.chat_id,
                method="editMessageText",
                payload={"message_id": row.message_id, "text": f"{ref.text}\n\n{line}"},
            )
        chat_id = chat_of_thread(request.thread_id)
        if chat_id is not None:
            told = requester_text or await asyncio.to_thread(self.outcome_text, request)
            await rt.send_text(key=f"apr:{approval_id}:outcome", chat_id=chat_id, html_text=esc(told))

    def outcome_text(self, request: ApprovalRequest) -> str:
        """The requester's text for a request decided while the bot was not listening (service wording)."""
        sb = self.runtime.switchboard
        call = sb.prompts.wording.phrase(request.tool, request.args)
        common = {"approval_id": request.id, "call": call, "by": request.decided_by}
        if request.status == ApprovalStatus.REJECTED:
            return sb.prompts.render("approval_rejected", reason=request.decision_reason, **common)
        if request.status == ApprovalStatus.EXPIRED:
            return sb.prompts.render("approval_expired", **common)
        if request.status == ApprovalStatus.EXECUTED and request.run_id is not None:
            output = sb.runner.runs.get(request.run_id).output or {}
            summary = (output.get("result") or {}).get("summary")
            if summary:
                return sb.prompts.render("approval_approved", summary=summary, **common)
        by = f" by {request.decided_by}" if request.decided_by else ""
        return text("approval_outcome", approval_id=request.id, call=call, status=request.status.value, by=by)

    async def _sent(self, key: str) -> OutboxMessage | None:
        """The outbox row once it is no longer being sent (a send in flight is waited for, briefly)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SENDING_WAIT_S
        while True:
            row = await asyncio.to_thread(self.runtime.outbox.get, key)
            if row is None or row.status != "sending" or loop.time() > deadline:
                return row
            await asyncio.sleep(0.1)

    async def sweep(self) -> None:
        """Expire, remind, notify requests not seen yet, and close messages of requests decided elsewhere."""
        service = self.runtime.switchboard.approvals
        await asyncio.to_thread(service.expire_due)
        await asyncio.to_thread(service.remind_due)
        await self.runtime.drain()  # let the listener's own sends (with the service's wording) go first
        seen = await asyncio.to_thread(notified_approvals, self.runtime.engine)
        for request in await asyncio.to_thread(service.pending):
            if request.id not in seen:
                await self.deliver(await asyncio.to_thread(self.notify_approvers, request, purpose="request"))
        open_ids = {
            ref.approval_id for ref in await asyncio.to_thread(open_approval_messages, self.runtime.engine)
        }
        for approval_id in sorted(open_ids):
            await self.finish(approval_id)
