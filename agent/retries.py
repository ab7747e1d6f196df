"""Retrying a failed run from the console or the CLI: the tool, gate and approvals a retry asked for in chat gets.

A retry is the ``retry_run`` tool whoever asks. The policy gate weighs it as the call it repeats
(``ToolSpec.repeats``), so retrying an external action needs an approver from every interface; and the retry runs on
the service's runner, whose listeners raise the alerts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from agent.backends.base import Decision
from agent.planner import gate_decision
from agent.service import Switchboard
from core.errors import BadInput, Conflict, Forbidden, SwitchboardError
from core.store.runs import Run
from core.vocabulary import Role
from tools.base import ToolResult
from tools.runs import retry_target, tool_of

RETRY_TOOL = "retry_run"


@dataclass(frozen=True)
class RetryOutcome:
    """What asking for a retry led to: a new attempt, or an approval request waiting for an approver.

    Attributes:
        summary: One line for the person who asked.
        run: The new attempt, when the retry ran (whether it succeeded or not).
        result: The new attempt's result, when it succeeded.
        approval_id: The approval request, when the retry needs an approver first.
        error: Why the new attempt failed, when it did.
    """

    summary: str
    run: Run | None = None
    result: ToolResult | None = None
    approval_id: str | None = None
    error: SwitchboardError | None = None


def retry_failed_run(*, sb: Switchboard, run_id: int, actor: str, role: Role, source: str) -> RetryOutcome:
    """Retry a failed run through the policy gate: run it now, or store an approval request for it.

    Args:
        sb: The agent service (its runner, registry, policy and approvals).
        run_id: The failed or dead-lettered run.
        actor: Who asks; the new attempt runs as them.
        role: Their role, for the gate.
        source: The interface that asks (console, cli), recorded with the runs.

    Raises:
        NotFound: there is no such run.
        Conflict: the run did not fail, or shadow mode is on for its tool.
        BadInput: the run is a step of a flow run.
        Forbidden: the role may not use the run's tool.
        SwitchboardError: the retry failed before a new attempt was recorded.
    """
    run = retry_target(sb.runner.runs, run_id)  # first: nobody is asked to approve a retry that cannot run
    args = {"run_id": run_id}
    decision = Decision(
        tool=RETRY_TOOL, args=args, confidence=1.0, tool_probability=1.0, backend=f"{source}-retry"
    )
    plan = gate_decision(
        decision,
        role=role,
        registry=sb.registry,
        policy=sb.policy,
        settings=sb.settings,
        tool_context=sb.runner.context(actor=actor, source=source),
    )
    reasons = "; ".join(plan.gate.reasons)
    if plan.action == "refuse":
        raise Forbidden(f"cannot retry run {run_id}: {reasons}")
    call = plan.call
    if plan.action == "clarify" or call is None:
        raise BadInput(f"cannot retry run {run_id}: {reasons}")
    if plan.gate.shadow:
        raise Conflict(f"shadow mode is on for {tool_of(run)}: the retry was not executed")
    if plan.action == "approve":
        request = sb.approvals.submit(call, requester=actor, reasons=plan.gate.reasons, confidence=1.0)
        return RetryOutcome(
            summary=f"Retrying run {run_id} needs an approver: request {request.id} is waiting.",
            approval_id=request.id,
        )
    # Pressing "retry" (or typing the command) is the requester's own confirmation: nothing more to ask.
    before = _last_attempt(sb.engine, run_id)
    try:
        execution = sb.runner.run(call, actor=actor, source=source)
    except SwitchboardError as exc:
        attempt = _last_attempt(sb.engine, run_id)
        if attempt is None or (before is not None and attempt.id == before.id):
            raise
        # The new attempt ran and is recorded as a failed run: that is the outcome to report, not an error.
        return RetryOutcome(
            summary=f"The retry of run {run_id} failed again: {exc.message}", run=attempt, error=exc
        )
    new_id = execution.result.data.get("new_run_id")
    attempt = sb.runner.runs.get(int(new_id)) if new_id is not None else None
    return RetryOutcome(summary=execution.result.summary, run=attempt, result=execution.result)


def _last_attempt(engine: Engine, run_id: int) -> Run | None:
    with Session(engine) as session:
        query = select(Run).where(col(Run.parent_id) == run_id).order_by(col(Run.id).desc()).limit(1)
        return session.execute(query).scalar_one_or_none()  # type: ignore[no-any-return, unused-ignore]
