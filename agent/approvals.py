"""The approval gate as one injected service, used by the graph, the console and the bot alike.

Each request gets its own LangGraph thread (``approval:<id>``) that pauses in ``interrupt()`` on the checkpointer.
A decision resumes it; the side effect happens only after the interrupt, keyed by the approval id, so a restart,
a double click, a racing approver or a replayed checkpoint can never run the action twice. The operator's chat
thread is not blocked while the request waits: they can keep working, and the outcome is posted back to it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from agent.policy import Policy
from agent.prompts import Prompts
from agent.replies import call_text
from agent.state import ApprovalState
from core.errors import Conflict, SwitchboardError
from core.store import approval_ops as ops
from core.store.approvals import ApprovalRequest, ApprovalStatus, ThreadMessage, binding_of
from core.store.db import utcnow, write_session
from flows.operations.alerts import AlertManager
from tools.registry import Registry
from tools.runtime import ToolRunner

logger = logging.getLogger(__name__)


class ApprovalListener(Protocol):
    """Interfaces (bot, console) that tell people about requests and outcomes."""

    def on_requested(self, request: ApprovalRequest) -> None:
        """A new request waits for approvers."""

    def on_reminder(self, request: ApprovalRequest) -> None:
        """A request is about to expire."""

    def on_outcome(self, request: ApprovalRequest, text: str) -> None:
        """A request was decided (and maybe executed); ``text`` is for the requester."""


@dataclass
class Outcome:
    """What happened after a decision."""

    request: ApprovalRequest
    executed: bool = False
    run_id: int | None = None
    text: str = ""
    result: dict[str, Any] | None = None


@dataclass
class ApprovalService:
    """Request, approve, reject, edit and expire; resumes the paused approval thread."""

    runner: ToolRunner
    registry: Registry
    policy: Policy
    prompts: Prompts
    checkpointer: BaseCheckpointSaver[Any] | None
    listeners: list[ApprovalListener] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.graph = self._build_graph()

    # ---- the paused thread ------------------------------------------------------------------------------------
    def _build_graph(self) -> Any:
        graph = StateGraph(ApprovalState)
        graph.add_node("wait", self._wait)
        graph.add_node("act", self._act_node)
        graph.add_edge(START, "wait")
        graph.add_edge("wait", "act")
        graph.add_edge("act", END)
        return graph.compile(checkpointer=self.checkpointer)

    @staticmethod
    def _wait(state: ApprovalState) -> dict[str, Any]:
        # Nothing before interrupt() has side effects: LangGraph re-runs this node from its start on resume.
        decision = interrupt({"approval_id": state["approval_id"], "tool": state["tool"]})
        return {"decision": decision}

    def _act_node(self, state: ApprovalState) -> dict[str, Any]:
        outcome = self._act(state["approval_id"], bound=(state["tool"], state["args"]))
        return {"outcome": {"executed": outcome.executed, "run_id": outcome.run_id, "text": outcome.text}}

    def _config(self, approval_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": f"approval:{approval_id}"}}

    def _resume(self, request: ApprovalRequest, decision: dict[str, Any]) -> Outcome:
        config = self._config(request.id)
        if self.checkpointer is not None and self.graph.get_state(config).interrupts:
            final = self.graph.invoke(Command(resume=decision), config)
            data = final.get("outcome") or {}
            return Outcome(
                ops.get_request(engine=self.runner.engine, approval_id=request.id),
                bool(data.get("executed")),
                data.get("run_id"),
                str(data.get("text", "")),
            )
        # No paused thread (lost checkpoint, or resumed before): act directly; _act is idempotent.
        return self._act(request.id, bound=(request.tool, request.args))

    def _act(self, approval_id: str, *, bound: tuple[str, dict[str, Any]]) -> Outcome:
        """Execute an approved request exactly once and tell the requester; any other state only reports."""
        request = ops.get_request(engine=self.runner.engine, approval_id=approval_id)
        call = call_text(request.tool, request.args)
        if request.status != ApprovalStatus.APPROVED:
            return self._report(request, call)
        if binding_of(*bound) != request.binding:
            ops.mark_executed(
                engine=self.runner.engine,
                approval_id=approval_id,
                run_id=None,
                ok=False,
                error="arguments differ from the approved ones",
            )
            return self._report(ops.get_request(engine=self.runner.engine, approval_id=approval_id), call)
        try:
            execution = self.runner.call(
                request.tool,
                request.args,
                actor=request.requester,
                idempotency_key=request.id,
                source="approval",
            )
        except Conflict:
            # Another worker holds this approval's run; it will record the outcome.
            return Outcome(request, False, None, "")
        except SwitchboardError as exc:
            ops.mark_executed(
                engine=self.runner.engine, approval_id=approval_id, run_id=None, ok=False, error=exc.message
            )
            text = self.prompts.render(
                "approval_failed",
                approval_id=approval_id,
                call=call,
                by=request.decided_by,
                error=exc.message,
            )
            return self._tell(request, Outcome(request, False, None, text))
        run_id = execution.run.id if execution.run else None
        ops.mark_executed(engine=self.runner.engine, approval_id=approval_id, run_id=run_id, ok=True)
        text = self.prompts.render(
            "approval_approved",
            approval_id=approval_id,
            call=call,
            by=request.decided_by,
            summary=execution.result.summary,
        )
        return self._tell(
            request, Outcome(request, True, run_id, text, execution.result.model_dump(mode="json"))
        )

    def _report(self, request: ApprovalRequest, call: str) -> Outcome:
        templates = {
            ApprovalStatus.REJECTED: ("approval_rejected", {"reason": request.decision_reason}),
            ApprovalStatus.EXPIRED: ("approval_expired", {}),
        }
        name, extra = templates.get(request.status, ("", {}))
        text = (
            self.prompts.render(name, approval_id=request.id, call=call, by=request.decided_by, **extra)
            if name
            else ""
        )
        return (
            self._tell(request, Outcome(request, False, request.run_id, text))
            if text
            else Outcome(request, False, request.run_id)
        )

    def _tell(self, request: ApprovalRequest, outcome: Outcome) -> Outcome:
        outcome.request = ops.get_request(engine=self.runner.engine, approval_id=request.id)
        if request.thread_id:
            with write_session(self.runner.engine) as session:
                session.add(
                    ThreadMessage(
                        thread_id=request.thread_id,
                        owner=request.requester,
                        role="assistant",
                        text=outcome.text,
                        payload={
                            "approval_id": request.id,
                            "run_id": outcome.run_id,
                            "result": outcome.result,
                        },
                    )
                )
        for listener in self.listeners:
            try:
                listener.on_outcome(outcome.request, outcome.text)
            except Exception:
                # A failed notification never repeats or rolls back the action it reports on.
                logger.exception("approval listener failed for %s", request.id)
        return outcome

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
        """Validate, preview (dry run), store, pause a thread on it, and notify approvers."""
        spec = self.registry.get_tool(tool)
        parsed = self.registry.parse_args(tool, args)
        if spec.pin is not None:
            parsed = spec.pin(self.runner.context(actor=requester), parsed)
        canonical = parsed.model_dump(mode="json", exclude_none=True)
        preview: dict[str, Any] = {}
        if spec.preview is not None:
            preview = spec.preview(self.runner.context(actor=requester), parsed).model_dump(mode="json")
        tool_policy = self.policy.tool_policy(tool)
        request = ops.create_request(
            engine=self.runner.engine,
            tool=tool,
            args=canonical,
            requester=requester,
            reasons=reasons,
            preview=preview,
            expiry=timedelta(hours=self.policy.config.approval_expiry_hours),
            quorum=tool_policy.quorum,
            risk=spec.effective_risk(self.runner.settings, parsed),
            confidence=confidence,
            thread_id=thread_id,
            parent_id=parent_id,
            edited_by=edited_by,
            policy_version=self.policy.version,
        )
        self.graph.invoke(
            {
                "approval_id": request.id,
                "tool": tool,
                "args": canonical,
                "requester": requester,
                "thread_id": thread_id,
            },
            self._config(request.id),
        )
        for listener in self.listeners:
            try:
                listener.on_requested(request)
            except Exception:
                logger.exception("approval listener failed for %s", request.id)
        return request

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
        if not completed:
            return Outcome(
                request,
                text=f"Approved by {approver}; {request.quorum - request.approvals} more approval(s) needed.",
            )
        return self._resume(request, {"status": "approved", "by": approver})

    def reject(self, approval_id: str, *, approver: str, role: str, reason: str) -> Outcome:
        """Reject with a reason that goes back to the requester's thread."""
        request = ops.reject(
            engine=self.runner.engine, approval_id=approval_id, approver=approver, role=role, reason=reason
        )
        return self._resume(request, {"status": "rejected", "by": approver})

    def edit(self, approval_id: str, *, editor: str, role: str, args: dict[str, Any]) -> ApprovalRequest:
        """Replace the arguments: a new linked request that needs approval again; the old one is superseded."""
        old = ops.get_request(engine=self.runner.engine, approval_id=approval_id)
        if role not in ops.APPROVER_ROLES and editor != old.requester:
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
        ops.supersede(engine=self.runner.engine, approval_id=approval_id, actor=editor, new_id=new.id)
        self._resume(old, {"status": "superseded", "by": editor})
        return new

    def expire_due(self, *, now: datetime | None = None) -> list[Outcome]:
        """Expire overdue requests and tell their requesters."""
        return [
            self._resume(r, {"status": "expired"}) for r in ops.expire_due(engine=self.runner.engine, now=now)
        ]

    def remind_due(self, *, now: datetime | None = None) -> list[ApprovalRequest]:
        """Remind approvers of requests about to expire (once per request)."""
        now = now or utcnow()
        window = timedelta(hours=self.policy.config.reminder_before_expiry_hours)
        reminded = []
        for request in ops.list_requests(engine=self.runner.engine, status=ApprovalStatus.PENDING):
            expires = (
                request.expires_at
                if request.expires_at.tzinfo
                else request.expires_at.replace(tzinfo=now.tzinfo)
            )
            if request.reminded_at is None and expires - window <= now < expires:
                with write_session(self.runner.engine) as session:
                    row = session.get(ApprovalRequest, request.id)
                    if row is None or row.reminded_at is not None:
                        continue
                    row.reminded_at = now
                    session.add(row)
                reminded.append(request)
                AlertManager(settings=self.runner.settings, engine=self.runner.engine).raise_alert(
                    "approval_expiring",
                    f"approval:{request.id}",
                    f"Approval request {request.id} ({call_text(request.tool, request.args)}) from {request.requester} "
                    f"expires at {expires:%Y-%m-%d %H:%M} UTC and nobody has decided it yet.",
                )
                for listener in self.listeners:
                    try:
                        listener.on_reminder(request)
                    except Exception:
                        logger.exception("reminder listener failed for %s", request.id)
        return reminded

    def recover(self) -> list[Outcome]:
        """After a restart: finish approved requests that never executed (idempotent by approval id)."""
        return [
            self._resume(r, {"status": "approved", "by": r.decided_by})
            for r in ops.list_requests(engine=self.runner.engine, status=ApprovalStatus.APPROVED)
        ]

    def pending(self, *, limit: int = 100) -> list[ApprovalRequest]:
        """Requests waiting for a decision, oldest first."""
        rows = ops.list_requests(engine=self.runner.engine, status=ApprovalStatus.PENDING, limit=limit)
        return sorted(rows, key=lambda r: r.created_at)
