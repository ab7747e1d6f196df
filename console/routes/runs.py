"""Runs: list with filters, one run with its steps and retries, and retry through the shared retry service."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from fastapi import APIRouter, Path, Query
from sqlalchemy import select
from sqlmodel import Session, col

from agent.retries import retry_failed_run
from console.deps import State, User
from console.schemas import RetryOut, RunDetail, RunList
from console.views import chart_url, run_out
from core.store.runs import FAILED_STATUSES, Run, RunStatus
from core.vocabulary import Role
from tools.base import Table

router = APIRouter(prefix="/api/runs", tags=["runs"])
RunId = Annotated[int, Path(ge=1, le=2**62)]
StatusFilter = Literal["pending", "running", "succeeded", "partial", "failed", "dead_lettered"]
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
    """Runs, newest first; status 'failed' includes partial and dead-lettered runs."""
    statuses: tuple[RunStatus, ...] | None = None
    if status == "failed":
        statuses = FAILED_STATUSES
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
    outcome = retry_failed_run(
        sb=state.sb, run_id=run_id, actor=principal.name, role=cast(Role, principal.role), source="console"
    )
    # A new attempt that failed again is reported with its run (200), like one that succeeded.
    return RetryOut(
        summary=outcome.summary,
        run=run_out(outcome.run) if outcome.run else None,
        approval_id=outcome.approval_id,
    )
