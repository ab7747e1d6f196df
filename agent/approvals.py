"""The approval gate as one injected service, used by the graph, the console and the bot alike.

Each request gets its own LangGraph thread (``approval:<id>``, agent/approval_thread.py) that pauses in
``interrupt()`` on the checkpointer. A decision resumes it; the side effect happens only after the interrupt, keyed
by the approval id, so a restart, a double click, a racing approver or a replayed checkpoint can never run the
action twice. The operator's chat thread is not blocked while the request waits: they can keep working, and the
outcome is posted back to it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from agent.approval_thread import ApprovalListener, ApprovalThread, Outcome
from agent.modelops.corrections import Corrections
from agent.modelops.events import Channel
from agent.policy import Policy
from agent.prompts import Prompts
from agent.state import ApprovalState, Verdict
from core import tracing
from core.errors import Conflict
from core.faults import crash_point
from core.store import approval_ops as ops
from core.store import approval_sweeps as sweeps
from core.store.approvals import ApprovalRequest, ApprovalStatus
from core.store.db import utcnow
from core.vocabulary import APPROVER_ROLES
from flows.operations.alerts import AlertManager
from tools.bound import BoundCall
from tools.registry import Registry
from tools.runtime import ToolRunner

__all__ = ["ApprovalListener", "ApprovalService", "Outcome"]

logger = logging.getLogger(__name__)


@dataclass
class ApprovalService:
    """Request, approve, reject, edit and expire; resumes the paused approval thread."""

    runner: ToolRunner
    registry: Registry
    policy: Policy
    prompts: Prompts
    checkpointer: BaseCheckpointSaver[Any] | None
    listeners: list[ApprovalListener] = field(default_factory=list)
    corrections: Corrections | None = (
        None  # an edit, or a rejection with a reason, is a correction to learn from
    )

    def __post_init__(self) -> None:
        # The same listener list: an interface that adds itself later hears about outcomes too.
        self.thread = ApprovalThread(
            runner=self.runner, prompts=self.prompts, checkpointer=self.checkpointer, listeners=self.listeners
        )

    @property
    def graph(self) -> Any:
        """The compiled approval graph (one paused thread per request)."""
        return self.thread.graph

    def _resume(self, request: ApprovalRequest, verdict: Verdict) -> Outcome:
        return self.thread.resume(request, verdict)

    # ---- the service API --------------------------------------------------------------------------------------
    def request(
        self,
        *,
        tool: str,
        args: dict[str, Any],
        requester: str,
        reasons: list[str],
        confidence: float | None = None,
        thread_id: str | None = None,
        parent_id: str | None = None,
        edited_by: str | None = None,
    ) -> ApprovalRequest:
        """Validate raw arguments once, then ``submit`` them: for callers without a BoundCall.

        Raises:
            NotFound: no such tool.
            BadInput: the arguments are invalid (nothing is stored).
        """
        call = BoundCall.of(tool, self.registry.parse_args(tool, args))
        return self.submit(
            call,
            requester=requester,
            reasons=reasons,
            confidence=confidence,
            thread_id=thread_id,
            parent_id=parent_id,
            edited_by=edited_by,
        )

    @tracing.traced("approval.submit", params=("thread_id",))
    def submit(
        self,
        call: BoundCall,
        *,
        requester: str,
        reasons: list[str],
        confidence: float | None = None,
        thread_id: str | None = None,
        parent_id: str | None = None,
        edited_by: str | None = None,
    ) -> ApprovalRequest:
        """Preview (dry run), store, pause a thread on it, and notify approvers; ``call`` is not validated again.

        A call identical (tool and binding) to a request still pending returns that request instead: its thread
        is already paused and its approvers already told, so nothing is started or sent again. An edit always
        gets a request of its own, linked to the one it replaces.
        """
        spec = self.registry.get_tool(call.tool)
        ctx = self.runner.context(actor=requester)
        if spec.pin is not None:
            call = BoundCall.of(call.tool, spec.pin(ctx, call.args))
        preview: dict[str, Any] = {}
        if spec.preview is not None:
            preview = spec.preview(ctx, call.args).model_dump(mode="json")
        # A retry is approved as the call it repeats: that call's quorum and risk.
        gated, gated_args = spec.gated_call(ctx, call.args)
        tool_policy = self.policy.tool_policy(gated.name)
        request, merged = ops.create_request(
            engine=self.runner.engine,
            tool=call.tool,
            args=call.canonical,
            requester=requester,
            reasons=reasons,
            preview=preview,
            expiry=timedelta(hours=self.policy.config.approval_expiry_hours),
            quorum=tool_policy.quorum,
            risk=gated.effective_risk(self.runner.settings, gated_args),
            confidence=confidence,
            thread_id=thread_id,
            parent_id=parent_id,
            edited_by=edited_by,
            policy_version=self.policy.version,
            # An edit is one person's change to one request (they may not approve it): never merged elsewhere.
            merge_pending=parent_id is None,
        )
        tracing.annotate(approval_id=request.id, tool=call.tool, outcome="merged" if merged else "requested")
        if merged:
            logger.info("approval request merged", extra={"approval_id": request.id, "requester": requester})
            return request
        paused = ApprovalState(
            approval_id=request.id,
            tool=call.tool,
            args=call.canonical,
            requester=requester,
            thread_id=thread_id,
        )
        self.thread.start(paused)
        for listener in self.listeners:
            try:
                listener.on_requested(request)
            except Exception:
                logger.exception("approval listener failed for %s", request.id)
        return request

    @tracing.traced("approval.approve", params=("approval_id",))
    def approve(self, approval_id: str, *, approver: str, role: str, binding: str | None = None) -> Outcome:
        """Record an approval; when it completes the quorum, resume the paused thread and execute once."""
        request, completed = ops.approve(
            engine=self.runner.engine,
            approval_id=approval_id,
            approver=approver,
            role=role,
            four_eyes=self.policy.config.four_eyes,
            binding=binding,
        )
        crash_point(self.runner.settings, "approval.approved")
        if not completed:
            return Outcome(
                request,
                text=f"Approved by {approver}; {request.quorum - request.approvals} more approval(s) needed.",
            )
        return self._resume(request, Verdict(status="approved", by=approver))

    @tracing.traced("approval.reject", params=("approval_id",))
    def reject(
        self, approval_id: str, *, approver: str, role: str, reason: str, channel: Channel = "console"
    ) -> Outcome:
        """Reject with a reason that goes back to the requester's thread (``channel``: where it was decided)."""
        request = ops.reject(
            engine=self.runner.engine, approval_id=approval_id, approver=approver, role=role, reason=reason
        )
        if self.corrections is not None:
            self.corrections.approval_rejected(
                request=request, approver=approver, reason=reason, channel=channel
            )
        return self._resume(request, Verdict(status="rejected", by=approver))

    def edit(
        self, approval_id: str, *, editor: str, role: str, args: dict[str, Any], channel: Channel = "console"
    ) -> ApprovalRequest:
        """Replace the arguments: a new linked request that needs approval again; the old one is superseded."""
        old = ops.get_request(engine=self.runner.engine, approval_id=approval_id)
        if role not in APPROVER_ROLES and editor != old.requester:
            raise Conflict(f"{editor} may not edit request {approval_id}")
        if old.status != ApprovalStatus.PENDING:
            raise Conflict(f"approval request {approval_id} is already {old.status.value}")
        new = self.request(
            tool=old.tool,
            args=args,
            requester=old.requester,
            reasons=[*old.reasons, f"arguments edited by {editor}"],
            confidence=old.confidence,
            thread_id=old.thread_id,
            parent_id=old.id,
            edited_by=editor if editor != old.requester else None,
        )
        superseded = ops.supersede(
            engine=self.runner.engine, approval_id=approval_id, actor=editor, new_id=new.id
        )
        self._resume(superseded, Verdict(status="superseded", by=editor))
        if self.corrections is not None:
            self.corrections.approval_edit(request=old, editor=editor, args=new.args, channel=channel)
        return new

    def expire_due(self, *, now: datetime | None = None) -> list[Outcome]:
        """Expire overdue requests and tell their requesters."""
        return [
            self._resume(r, Verdict(status="expired"))
            for r in sweeps.expire_due(engine=self.runner.engine, now=now)
        ]

    def remind_due(self, *, now: datetime | None = None) -> list[ApprovalRequest]:
        """Remind approvers of requests about to expire: once per request, across all processes."""
        now = now or utcnow()
        window = timedelta(hours=self.policy.config.reminder_before_expiry_hours)
        # Only the rows this process's UPDATE marked: a racing process gets the others, or none.
        reminded = sweeps.claim_reminders(engine=self.runner.engine, now=now, window=window)
        alerts = AlertManager(settings=self.runner.settings, engine=self.runner.engine)
        for request in reminded:
            expires = (
                request.expires_at if request.expires_at.tzinfo else request.expires_at.replace(tzinfo=UTC)
            )
            alerts.raise_alert(
                "approval_expiring",
                f"approval:{request.id}",
                f"Approval request {request.id} ({self.prompts.wording.phrase(request.tool, request.args)}) "
                f"from {request.requester} "
                f"expires at {expires:%Y-%m-%d %H:%M} UTC and nobody has decided it yet.",
            )
            for listener in self.listeners:
                try:
                    listener.on_reminder(request)
                except Exception:
                    logger.exception("reminder listener failed for %s", request.id)
        return reminded

    def recover(self) -> list[Outcome]:
        """After a restart: finish approved requests whose execution never started (idempotent by approval id).

        A request whose workflow exists belongs to the executor running it: the engine finishes it when that
        process starts again (or when an admin hands a gone executor's work over). Starting it here would wait for
        that other process, holding this one's start-up hostage to another host.
        """
        return [
            self._resume(r, Verdict(status="approved", by=r.decided_by))
            for r in ops.list_requests(engine=self.runner.engine, status=ApprovalStatus.APPROVED)
            if not self.thread.started(r.id)
        ]

    def pending(self, *, limit: int = 100) -> list[ApprovalRequest]:
        """Requests waiting for a decision, oldest first."""
        rows = ops.list_requests(engine=self.runner.engine, status=ApprovalStatus.PENDING, limit=limit)
        return sorted(rows, key=lambda r: r.created_at)
