"""Run tools: the status of a run or flow, a filtered list of runs, and retrying a failed run.

``retry_run`` is the one retry service: chat calls it as a tool, and the console and the CLI call the same tool
through the same policy gate. It repeats the run's original call, so the gate weighs that call in its place
(``ToolSpec.repeats``): retrying an external action needs an approver, whoever asks and wherever.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from pydantic import Field, ValidationError

from core.errors import BadInput, Conflict, SwitchboardError
from core.periods import period_words, resolve_period
from core.store.runs import FAILED_STATUSES, Run, RunStatus, RunStore
from core.text import count_of
from core.vocabulary import FlowName, Period, RunStatusFilter
from tools.arguments import RecordId
from tools.base import Preview, Table, ToolArgs, ToolContext, ToolResult, ToolSpec

RUN_COLUMNS = ["id", "name", "status", "attempt", "actor", "created", "duration_ms", "error"]


class GetRunStatusArgs(ToolArgs):
    """Which run to show."""

    run_id: RecordId | None = Field(default=None, description="Run number, e.g. 57. Omit for the latest run.")
    flow: FlowName | None = Field(default=None, description="Show the latest run of this named flow.")


class ListRunsArgs(ToolArgs):
    """Filters for the run list."""

    status: RunStatusFilter | None = Field(
        default=None, description="Only runs in this state; 'failed' includes partial and dead-lettered runs."
    )
    period: Period = Field(default="last_7_days", description="When the runs were created.")


class RetryRunArgs(ToolArgs):
    """The run to retry."""

    run_id: RecordId = Field(description="Number of the failed run to try again.")


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
            # Nothing to show is an answer, not a failure.
            never = f"{args.flow} hasn't run yet." if args.flow else "Nothing has run yet."
            return ToolResult(summary=never, data={"run_id": None, "status": None})
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
        statuses = FAILED_STATUSES
    elif args.status:
        statuses = (RunStatus(args.status),)
    runs = ctx.runs.list(
        statuses=statuses,
        since=datetime.combine(start, time.min, tzinfo=UTC),
        until=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
        limit=100,
    )
    label = f"{args.status} run" if args.status else "run"
    when = period_words(args.period)
    preposition = "in" if when.startswith("the ") else "for"
    counted = count_of(len(runs), label) if runs else f"No {label}s"
    summary = f"{counted} {preposition} {when}"
    partial = [f"run {r.id} ({r.name})" for r in runs if r.status == RunStatus.PARTIAL]
    if partial:
        # A partial flow finished, so say which of the runs counted are only partly failed.
        summary += f"; {len(partial)} of them partly failed (a step failed): {', '.join(partial)}"
    return ToolResult(
        summary=f"{summary}.",
        table=Table(title=f"Runs ({when})", columns=RUN_COLUMNS, rows=[run_row(r) for r in runs])
        if runs
        else None,
        data={"count": len(runs)},
    )


_RETRYABLE = (RunStatus.FAILED, RunStatus.DEAD_LETTERED)


def retry_target(runs: RunStore, run_id: int) -> Run:
    """The run to retry, when it may be retried.

    Raises:
        NotFound: there is no such run.
        Conflict: the run did not fail.
        BadInput: the run is a step of a flow run (the flow run is what gets retried).
    """
    run = runs.get(run_id)
    if run.status not in _RETRYABLE:
        raise Conflict(f"run {run_id} is {run.status.value}; only failed runs can be retried", run_id=run_id)
    if run.pipeline_run_id is not None:
        raise BadInput(f"run {run_id} is a step of flow run {run.pipeline_run_id}; retry the flow run")
    return run


def tool_of(run: Run) -> str:
    """The tool a run executed (a flow run is named after its flow, but ran ``run_flow``)."""
    return str(run.versions.get("tool", run.name))


def _first_call(ctx: ToolContext, run: Run) -> tuple[ToolSpec[Any], ToolArgs] | None:
    """The call a run executed, validated again (None when the tool or its arguments no longer exist)."""
    spec = ctx.runner.registry.get(tool_of(run))
    if spec is None:
        return None
    try:
        return spec, spec.args_model.model_validate(run.inputs)
    except ValidationError:
        return None  # arguments this version no longer accepts: the retry is rejected before anything runs


def _retried_call(ctx: ToolContext, args: RetryRunArgs) -> tuple[ToolSpec[Any], ToolArgs] | None:
    try:
        run = retry_target(ctx.runs, args.run_id)
    except SwitchboardError:
        return None  # nothing will run: executing the retry reports why
    return _first_call(ctx, run)


def _preview_retry(ctx: ToolContext, args: RetryRunArgs) -> Preview:
    run = retry_target(ctx.runs, args.run_id)
    tool = tool_of(run)
    call = f"{tool}({', '.join(f'{k}={v}' for k, v in run.inputs.items())})"
    summary = f"Runs {call} again as attempt {run.attempt + 1} of run {run.id}, which failed: {run.error}"
    details: dict[str, Any] = {"run_id": run.id, "tool": tool, "attempt": run.attempt + 1}
    first = _first_call(ctx, run)
    if first is None or first[0].preview is None:
        return Preview(summary=summary, details=details)
    # The approver also sees what the first run's approver saw (recipients, file, value).
    seen = first[0].preview(ctx, first[1])
    return seen.model_copy(
        update={"summary": f"{summary}. {seen.summary}", "details": {**seen.details, **details}}
    )


def _retry_run(ctx: ToolContext, args: RetryRunArgs) -> ToolResult:
    execution = ctx.retry(args.run_id)
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
        preview=_preview_retry,
        repeats=_retried_call,
    ),
)
