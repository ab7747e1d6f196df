"""Turns agent and storage objects into API models (no route logic here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from agent.state import DecisionView, Reply
from console.config import ConsoleSettings
from console.deps import Principal
from console.schemas import ApprovalOut, ChatReply, DecisionOut, MessageOut, OutcomeOut, RunOut
from core.store.approval_rule import Ballot, RefusalCode, RulePolicy, can_decide
from core.store.approvals import ApprovalRequest, ThreadMessage
from core.store.audit import AuditRecord
from core.store.runs import Run
from tools.base import Table


def charts_dir(settings: ConsoleSettings) -> Path:
    """The only folder chart images are served from."""
    return (settings.artifacts / "charts").resolve()


def chart_url(settings: ConsoleSettings, chart_path: str | None) -> str | None:
    """The console URL of a chart the tools wrote, or None for anything outside the charts folder."""
    if not chart_path:
        return None
    path = Path(chart_path).resolve()
    if path.parent != charts_dir(settings):
        return None
    return f"/charts/{quote(path.name)}"


def decision_out(view: DecisionView | None) -> DecisionOut:
    """The decision shown with a reply; help and cancellations ran no tool."""
    if view is None:
        return DecisionOut(tool=None, backend="none")
    return DecisionOut.model_validate(view, from_attributes=True)


def chat_reply(reply: Reply, *, thread_id: str, settings: ConsoleSettings) -> ChatReply:
    """The API form of a Reply."""
    return ChatReply(
        thread_id=thread_id,
        reply=reply.text,
        decision=decision_out(reply.decision),
        approval_id=reply.approval_id,
        run_id=reply.run_id,
        kind=reply.kind,
        table=reply.table,
        chart_url=chart_url(settings, reply.chart_path),
        buttons=reply.buttons,
        notes=reply.notes,
    )


def message_out(message: ThreadMessage, *, settings: ConsoleSettings) -> MessageOut:
    """A history message; assistant payloads are either a chat Reply or an approval outcome."""
    out = MessageOut(id=message.id or 0, role=message.role, text=message.text, created_at=message.created_at)
    payload = message.payload or {}
    if message.role != "assistant" or not payload:
        return out
    if "kind" in payload and "text" in payload:
        try:
            out.reply = chat_reply(
                Reply.model_validate(payload), thread_id=message.thread_id, settings=settings
            )
        except ValidationError:
            pass  # an older payload shape: the text alone still reads fine
        return out
    result: dict[str, Any] = payload.get("result") or {}
    table = None
    if isinstance(result.get("table"), dict):
        try:
            table = Table.model_validate(result["table"])
        except ValidationError:
            table = None
    out.outcome = OutcomeOut(
        approval_id=payload.get("approval_id"),
        run_id=payload.get("run_id"),
        ok=payload.get("ok"),
        table=table,
        chart_url=chart_url(settings, result.get("chart_path")),
    )
    return out


# The console's words for each refusal of the approval rule (core.store.approval_rule.can_decide).
BLOCKED: dict[RefusalCode, str] = {
    "inactive": "Your account is deactivated.",
    "role": "Only approvers and admins can approve requests.",
    "not_pending": "This request is already {status}.",
    "expired": "This request has expired.",
    "four_eyes": "Four-eyes rule: you asked for this (or edited it), so another approver must decide it.",
    "already_voted": "You approved this already; it needs {more} more approval(s) from other approvers.",
}


def approval_blocked(ballot: Ballot, viewer: Principal, *, policy: RulePolicy) -> str | None:
    """Why ``viewer`` may not approve the request now, in plain words (None when they may)."""
    verdict = can_decide(viewer, ballot, policy)
    if verdict.code is None:
        return None
    return BLOCKED[verdict.code].format(status=ballot.status.value, more=ballot.votes_needed)


def approval_out(
    request: ApprovalRequest, viewer: Principal, *, ballot: Ballot, policy: RulePolicy
) -> ApprovalOut:
    """An approval request as ``viewer`` sees it (``ballot`` is the request with its votes)."""
    blocked = approval_blocked(ballot, viewer, policy=policy)
    return ApprovalOut(
        id=request.id,
        tool=request.tool,
        args=request.args,
        binding=request.binding,
        requester=request.requester,
        thread_id=request.thread_id,
        reasons=request.reasons,
        confidence=request.confidence,
        risk=request.risk,
        preview=request.preview,
        status=request.status.value,
        quorum=request.quorum,
        approvals=request.approvals,
        parent_id=request.parent_id,
        edited_by=request.edited_by,
        created_at=request.created_at,
        expires_at=request.expires_at,
        decided_at=request.decided_at,
        decided_by=request.decided_by,
        decision_reason=request.decision_reason,
        run_id=request.run_id,
        can_decide=blocked is None,
        blocked=blocked,
    )


def run_summary(run: Run) -> str | None:
    """The one-line result of a run, when it has one."""
    result = run.output.get("result") if isinstance(run.output, dict) else None
    return str(result.get("summary")) if isinstance(result, dict) and result.get("summary") else None


def run_out(run: Run) -> RunOut:
    """A run without its full output."""
    return RunOut(
        id=run.id or 0,
        name=run.name,
        kind=run.kind,
        status=run.status.value,
        attempt=run.attempt,
        max_attempts=run.max_attempts,
        parent_id=run.parent_id,
        pipeline_run_id=run.pipeline_run_id,
        actor=run.actor,
        inputs=run.inputs,
        summary=run_summary(run),
        error=run.error,
        error_code=run.error_code,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_ms=round(run.duration_ms, 1) if run.duration_ms is not None else None,
    )


def audit_data(record: AuditRecord) -> dict[str, Any]:
    """A record's data as a mapping."""
    try:
        data = json.loads(record.data)
    except ValueError:
        return {"raw": record.data}
    return data if isinstance(data, dict) else {"value": data}
