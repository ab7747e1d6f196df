"""Run tools: the status of a run or flow, a filtered list of runs, and retrying a failed run."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from pydantic import Field

from core.errors import NotFound
from core.periods import resolve_period
from core.store.runs import Run, RunStatus
from core.vocabulary import FlowName, Period, RunStatusFilter
from tools.base import Table, ToolArgs, ToolContext, ToolResult, ToolSpec

RUN_COLUMNS = ["id", "name", "status", "attempt", "actor", "created", "duration_ms", "error"]


class GetRunStatusArgs(ToolArgs):
    """Which run to show."""

    run_id: int | None = Field(
        default=None, ge=1, description="Run number, e.g. 57. Omit for the latest run."
    )
    flow: FlowName | None = Field(default=None, description="Show the latest run of this named flow.")


class ListRunsArgs(ToolArgs):
    """Filters for the run list."""

    status: RunStatusFilter | None = Field(
        default=None, description="Only runs in this state; 'failed' includes dead-lettered."
    )
    period: Period = Field(default="last_7_days", description="When the runs were created.")


class RetryRunArgs(ToolArgs):
    """The run to retry."""

    run_id: int = Field(ge=1, description="Number of the failed run to try again.")


def run_row(run: Run) -> list[Any]:
    """One table row for a run."""
    duration = run.duration_ms
    return [
        run.id,
        run.name,
        run.status.value,
        run.attempt,
        run.actor,
        run.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        round(duration, 1) if duration is not None else None,
        run.error,
    ]


def _get_run_status(ctx: ToolContext, args: GetRunStatusArgs) -> ToolResult:
    if args.run_id is not None:
        run = ctx.runs.get(args.run_id)
    else:
        found = ctx.runs.latest(name=args.flow)
        if found is None:
            raise NotFound(f"no runs of {args.flow} yet" if args.flow else "no runs yet")
        run = found
    rows = [run_row(run)] + [run_row(step) for step in ctx.runs.steps(run.id or 0)]
    summary = f"Run {run.id} ({run.name}) {run.status.value}"
    if run.error:
        summary += f": {run.error}"
    return ToolResult(
        summary=summary + ".",
        table=Table(title=f"Run {run.id}", columns=RUN_COLUMNS, rows=rows),
        data={"run_id": run.id, "status": run.status.value},
    )


def _list_runs(ctx: ToolContext, args: ListRunsArgs) -> ToolResult:
    start, end = resolve_period(args.period, today=ctx.today)
    statuses: tuple[RunStatus, ...] | None = None
    if args.status == "failed":
        statuses = (RunStatus.FAILED, RunStatus.DEAD_LETTERED)
    elif args.status:
        statuses = (RunStatus(args.status),)
    runs = ctx.runs.list(
        statuses=statuses,
        since=datetime.combine(start, time.min, tzinfo=UTC),
        until=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
        limit=100,
    )
    label = f"{args.status} runs" if args.status else "runs"
    return ToolResult(
        summary=f"{len(runs)} {label} in {args.period}.",
        table=Table(title=f"Runs ({args.period})", columns=RUN_COLUMNS, rows=[run_row(r) for r in runs]),
        data={"count": len(runs)},
    )


def _retry_run(ctx: ToolContext, args: RetryRunArgs) -> ToolResult:
    # Imported here: the runtime imports the registry, which imports this module.
    from tools.registry import build_registry
    from tools.runtime import ToolRunner

    runner = ToolRunner(
        settings=ctx.settings, engine=ctx.engine, registry=build_registry(), today=lambda: ctx.today
    )
    execution = runner.retry(args.run_id, actor=ctx.actor)
    new_id = execution.run.id if execution.run else None
    return ToolResult(
        summary=f"Retried run {args.run_id} as run {new_id}: {execution.result.summary}",
        table=execution.result.table,
        chart_path=execution.result.chart_path,
        artifact_ids=execution.result.artifact_ids,
        data={"retried": args.run_id, "new_run_id": new_id},
    )


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name="get_run_status",
        description="Show the status, timings and steps of one run (by number), the latest run of a named flow, "
        "or the latest run of anything.",
        args_model=GetRunStatusArgs,
        risk="read",
        func=_get_run_status,
    ),
    ToolSpec(
        name="list_runs",
        description="List recent runs of tools and flows, optionally only failed, succeeded, running or pending "
        "ones, over a period (default the last 7 days).",
        args_model=ListRunsArgs,
        risk="read",
        func=_list_runs,
    ),
    ToolSpec(
        name="retry_run",
        description="Run a failed or dead-lettered run again as a new attempt linked to the original.",
        args_model=RetryRunArgs,
        risk="write",
        func=_retry_run,
    ),
)
