"""Runs: list with filters, one run with its steps and retries, and retry through the policy gate."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from fastapi import APIRouter, Path, Query
from sqlalchemy import select
from sqlmodel import Session, col

from agent.backends.base import Decision
from agent.planner import gate_decision
from agent.policy import Role
from console.deps import State, User
from console.schemas import RetryOut, RunDetail, RunList
from console.views import chart_url, run_out
from core.errors import BadInput, Conflict, Forbidden, SwitchboardError
from core.store.runs import Run, RunStatus
from tools.base import Table

router = APIRouter(prefix="/api/runs", tags=["runs"])
RunId = Annotated[int, Path(ge=1, le=2**62)]
StatusFilter = Literal["pending", "running", "succeeded", "failed", "dead_lettered"]
_RETRYABLE = (RunStatus.FAILED, RunStatus.DEAD_LETTERED)


@router.get("", response_model=RunList)
def list_runs(
    _principal: User,
    state: State,
    status: StatusFilter | None = None,
    name: Annotated[str | None, Query(max_length=100, description="Tool or flow name.")] = None,
    include_steps: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RunList:
    """Runs, newest first; status 'failed' includes dead-lettered runs."""
    statuses: tuple[RunStatus, ...] | None = None
    if status == "failed":
        statuses = _RETRYABLE
    elif status:
        statuses = (RunStatus(status),)
    runs = state.sb.runner.runs.list(
        statuses=statuses, name=name or None, include_steps=include_steps, limit=limit
    )
    return RunList(runs=[run_out(r) for r in runs])


@router.get("/{run_id}", response_model=RunDetail)
def get_run(run_id: RunId, _principal: User, state: State) -> RunDetail:
    """A run with its steps, the retries made of it, and its result table and chart."""
    store = state.sb.runner.runs
    run = store.get(run_id)
    with Session(state.sb.engine) as session:
        query = select(Run).where(col(Run.parent_id) == run_id).order_by(col(Run.id))
        retries = list(session.execute(query).scalars().all())
    result = run.output.get("result") if isinstance(run.output, dict) else None
    table = None
    chart = None
    if isinstance(result, dict):
        table = Table.model_validate(result["table"]) if isinstance(result.get("table"), dict) else None
        chart = chart_url(state.settings, result.get("chart_path"))
    steps = store.steps(run_id)
    return RunDetail(
        run=run_out(run),
        steps=[run_out(s) for s in steps],
        retries=[run_out(r) for r in retries],
        table=table,
        chart_url=chart,
    )


@router.post(
    "/{run_id}/retry",
    response_model=RetryOut,
    responses={
        403: {"description": "The role may not use this tool."},
        409: {"description": "The run did not fail, or shadow mode is on."},
    },
)
def retry_run(run_id: RunId, principal: User, state: State) -> RetryOut:
    """Retry a failed run; an external action becomes an approval request instead of running directly."""
    sb = state.sb
    run = sb.runner.runs.get(run_id)
    if run.status not in _RETRYABLE:
        raise Conflict(f"run {run_id} is {run.status.value}; only failed runs can be retried", run_id=run_id)
    if run.pipeline_run_id is not None:
        raise BadInput(f"run {run_id} is a step of flow run {run.pipeline_run_id}; retry the flow run")
    tool = str(run.versions.get("tool", run.name))
    decision = Decision(
        tool=tool, args=run.inputs, confidence=1.0, tool_probability=1.0, backend="console-retry"
    )
    plan = gate_decision(
        decision,
        role=cast(Role, principal.role),
        registry=sb.registry,
        policy=sb.policy,
        settings=state.settings,
        tool_context=sb.runner.context(actor=principal.name),
    )
    reasons = "; ".join(plan.gate.reasons)
    if plan.action == "refuse":
        raise Forbidden(f"cannot retry run {run_id}: {reasons}")
    if plan.action == "clarify":
        raise BadInput(f"cannot retry run {run_id}: {reasons}")
    if plan.gate.shadow:
        raise Conflict(f"shadow mode is on for {tool}: the retry was not executed")
    if plan.action == "approve":
        request = sb.approvals.request(
            tool=tool,
            args=run.inputs,
            requester=principal.name,
            reasons=[*plan.gate.reasons, f"retry of failed run {run_id}"],
            confidence=1.0,
        )
        return RetryOut(
            summary=f"Retrying run {run_id} needs an approver: request {request.id} is waiting.",
            approval_id=request.id,
        )
    try:
        execution = sb.runner.retry(run_id, actor=principal.name, source="console")
    except SwitchboardError as exc:
        # The new attempt is recorded as a failed run; report it rather than failing the request.
        with Session(sb.engine) as session:
            latest = session.execute(
                select(Run).where(col(Run.parent_id) == run_id).order_by(col(Run.id).desc()).limit(1)
            ).scalar_one_or_none()
        if latest is None:
            raise
        return RetryOut(summary=f"The retry of run {run_id} failed again: {exc.message}", run=run_out(latest))
    new = execution.run
    return RetryOut(summary=execution.result.summary, run=run_out(new) if new else None)
