"""Named pipelines (nightly_sales_export, customer_sync, invoice_run) and their schedules.

A pipeline is a list of tool steps in the config. Each step is called through the flow's context, so it runs on
the same ToolRunner as the flow itself, as a child run of the flow run: every step is recorded and audited, and the
runner's listeners (alerts) see it. Under the durable engine the flow is a workflow and each step a step of it,
retried by the step's ``retry`` policy when it fails for a reason that may pass; a step that uses up its attempts
is dead-lettered, and so is the flow run when the step was required. A step marked ``continue_on_error`` may fail without stopping the flow, but the
flow run is then partial, never succeeded. A step argument ``latest`` means the artifact the previous step produced in
this run, never some other run's file.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from core import tracing
from core.errors import ConfigError, SwitchboardError
from core.faults import crash_point
from core.store.db import utcnow
from core.vocabulary import FlowName, Risk
from flows.config import FlowSettings
from flows.operations.schedules import canonical_cron, create_schedule, next_fire
from tools.base import Preview, Table, ToolArgs, ToolContext, ToolResult, ToolSpec


class RunFlowArgs(ToolArgs):
    """The named flow to run."""

    flow: FlowName = Field(description="Named flow: nightly_sales_export, customer_sync or invoice_run.")


class ScheduleFlowArgs(ToolArgs):
    """A named flow and when to run it."""

    flow: FlowName = Field(description="Named flow to schedule.")
    cron: str = Field(description="5-field cron expression, e.g. '30 9 * * 1' for Mondays at 09:30.")

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            return canonical_cron(value)
        except SwitchboardError as exc:
            raise ValueError(exc.message) from None


def _pipeline(settings: FlowSettings, flow: str) -> Any:
    pipeline = settings.pipelines.get(flow)
    if pipeline is None:
        raise ConfigError(
            f"flow {flow!r} has no pipeline in the config; configured: {', '.join(settings.pipelines)}"
        )
    return pipeline


def flow_risk(settings: FlowSettings, args: RunFlowArgs) -> Risk:
    """A flow is external when any step is; otherwise write."""
    from tools.registry import build_registry

    registry = build_registry()
    steps = _pipeline(settings, args.flow).steps
    risks = {registry.get_tool(step.tool).risk for step in steps if step.tool in registry}
    return "external" if "external" in risks else "write"


def _run_flow(ctx: ToolContext, args: RunFlowArgs) -> ToolResult:
    pipeline = _pipeline(ctx.settings, args.flow)
    rows: list[list[Any]] = []
    last_artifact: int | None = None
    artifacts: list[int] = []
    failures: list[str] = []
    last_error: SwitchboardError | None = None
    for index, step in enumerate(pipeline.steps, start=1):
        step_args = {
            key: (str(last_artifact) if value == "latest" and last_artifact is not None else value)
            for key, value in step.args.items()
        }
        key = f"{ctx.idempotency_key}:step{index}" if ctx.idempotency_key else None
        try:
            with tracing.span("flow.step", flow=args.flow, step=index, tool=step.tool):
                execution = ctx.call(
                    step.tool, step_args, idempotency_key=key, source=f"flow:{args.flow}", retry=step.retry
                )
        except SwitchboardError as exc:
            rows.append([index, step.tool, "failed", exc.message])
            tries = f" after {exc.details['attempts']} attempts" if "attempts" in exc.details else ""
            if not step.continue_on_error:
                # A step that used up its retries dead-letters the flow run too (the error's details say so).
                raise type(exc)(
                    f"{args.flow} stopped at step {index} ({step.tool}){tries}: {exc.message}", **exc.details
                ) from exc
            failures.append(f"step {index} ({step.tool}) failed{tries}: {exc.message}")
            last_error = exc
            continue
        crash_point(ctx.settings, "flow.step_done")
        if execution.result.artifact_ids:
            last_artifact = execution.result.artifact_ids[-1]
            # A delivery step reports the artifact its export step made: list each artifact once.
            artifacts.extend(a for a in execution.result.artifact_ids if a not in artifacts)
        rows.append([index, step.tool, "succeeded", execution.result.summary])
    if last_error is not None and len(failures) == len(pipeline.steps):
        # Nothing succeeded, so the flow failed outright (and may be retried), rather than partly.
        raise type(last_error)(
            f"{args.flow} failed: every step failed; {'; '.join(failures)}", **last_error.details
        ) from last_error
    done = f"{len(pipeline.steps) - len(failures)} of {len(pipeline.steps)} steps succeeded"
    return ToolResult(
        summary=f"Flow {args.flow} finished: {done}.",
        table=Table(title=f"Flow {args.flow}", columns=["step", "tool", "status", "summary"], rows=rows),
        artifact_ids=artifacts,
        data={"flow": args.flow, "steps": len(pipeline.steps), "failed_steps": len(failures)},
        # A flow with a failed step is never "succeeded": the run becomes partial and names what failed.
        partial_failure="; ".join(failures) or None,
    )


def _preview_flow(ctx: ToolContext, args: RunFlowArgs) -> Preview:
    pipeline = _pipeline(ctx.settings, args.flow)
    steps = [f"{step.tool}({', '.join(f'{k}={v}' for k, v in step.args.items())})" for step in pipeline.steps]
    # The calls themselves, so an interface can word each step for a person.
    calls = [{"tool": step.tool, "args": dict(step.args)} for step in pipeline.steps]
    return Preview(
        summary=f"Runs {len(steps)} steps: " + " → ".join(steps), details={"steps": steps, "calls": calls}
    )


def _schedule_flow(ctx: ToolContext, args: ScheduleFlowArgs) -> ToolResult:
    _pipeline(ctx.settings, args.flow)
    result = create_schedule(engine=ctx.engine, flow=args.flow, cron=args.cron, actor=ctx.actor)
    schedule = result.schedule
    verb = "Scheduled" if result.created else "Already scheduled"
    return ToolResult(
        summary=f"{verb} {args.flow} at '{args.cron}' (schedule {schedule.id}); next run {schedule.next_run_at:%Y-%m-%d %H:%M} UTC.",
        data={"schedule_id": schedule.id, "created": result.created},
    )


def _preview_schedule(ctx: ToolContext, args: ScheduleFlowArgs) -> Preview:
    _pipeline(ctx.settings, args.flow)
    first = next_fire(args.cron, after=utcnow())
    when = f"{first:%Y-%m-%d %H:%M} UTC" if first is not None else "never (the schedule has no future time)"
    return Preview(summary=f"Its first run would be {when}.", details={"next_run_at": when})


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name="run_flow",
        description="Run a named automation flow now (nightly_sales_export, customer_sync, invoice_run); each "
        "configured step runs in order and is recorded.",
        args_model=RunFlowArgs,
        risk="write",
        func=_run_flow,
        risk_for=flow_risk,
        preview=_preview_flow,
        run_name=lambda args: args.flow,
        long_running=True,
        composite=True,
    ),
    ToolSpec(
        name="schedule_flow",
        description="Schedule a named flow to run on a cron schedule (e.g. every Monday at 9:30 = '30 9 * * 1').",
        args_model=ScheduleFlowArgs,
        risk="write",
        func=_schedule_flow,
        preview=_preview_schedule,
    ),
)
