"""A call's run from creation to its outcome: create or find it, start or take it over, invoke, record.

``ToolRunner`` composes these phases in one go for a plain call. Under the durable engine a composite tool (a
named flow) spreads them over its workflow: opening and recording are steps, and the tool's body runs between them
in the workflow's body, where each call it makes is a step of its own (``tools.durable``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core import tracing
from core.errors import Conflict, SwitchboardError
from core.faults import crash_point
from core.logs import bind
from core.store.runs import Run, RunStatus, RunStore
from flows.config import FlowSettings
from tools import durable
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
from tools.execution import Execution, InternalToolError

logger = logging.getLogger(__name__)

RunListener = Callable[[ToolContext, Run], None]
UNFINISHED = (RunStatus.PENDING, RunStatus.RUNNING)


@dataclass
class RunLifecycle:
    """Records one call's run through its phases, and tells the listeners (alerts) how it ended."""

    settings: FlowSettings
    runs: RunStore
    listeners: list[RunListener]

    def create(
        self,
        spec: ToolSpec[Any],
        args: ToolArgs,
        ctx: ToolContext,
        inputs: dict[str, Any],
        *,
        parent_id: int | None,
        attempt: int,
        source: str,
        max_attempts: int | None = None,
        started: bool = False,
    ) -> tuple[Run, bool]:
        """Record the call's run, or find the one its idempotency key made; and whether it is new.

        The run is pending (a queued call), or running with ``started`` (a call that runs now).
        """
        versions = {"config": self.settings.config_version(), "source": source, "tool": spec.name}
        kind = "step" if ctx.pipeline_run_id else ("flow" if spec.run_name else "tool")
        return self.runs.create(
            name=spec.name_run(args),
            actor=ctx.actor,
            inputs=inputs,
            kind=kind,
            idempotency_key=ctx.idempotency_key,
            max_attempts=max_attempts or self.settings.max_attempts,
            parent_id=parent_id,
            pipeline_run_id=ctx.pipeline_run_id,
            attempt=attempt,
            versions=versions,
            started=started,
        )

    def open(
        self,
        spec: ToolSpec[Any],
        args: ToolArgs,
        ctx: ToolContext,
        inputs: dict[str, Any],
        *,
        parent_id: int | None,
        attempt: int,
        source: str,
        max_attempts: int | None = None,
    ) -> tuple[Run, Execution | None]:
        """Create and start the call's run; when its key ran before, that run and its replay instead.

        A run its own workflow created ahead (a queued flow) or left unfinished (its process died in the step) is
        started or taken over, not refused.

        Raises:
            Conflict: the key's run failed, or another workflow is running it.
        """
        run, created = self.create(
            spec,
            args,
            ctx,
            inputs,
            parent_id=parent_id,
            attempt=attempt,
            source=source,
            max_attempts=max_attempts,
            started=True,  # a new run starts in the transaction that records it
        )
        crash_point(self.settings, "run.created")
        tracing.annotate(run_id=run.id)  # on the span of the call opening it (tool.run, background.run)
        owned = not created and run.status in UNFINISHED and durable.owns(run.idempotency_key)
        if not created and not owned:
            return run, self.replay(spec, args, run)
        run_id = run.id
        assert run_id is not None
        if not created:  # owned: its workflow queued it ahead (a background flow) or left it unfinished
            with bind(run_id=run_id, pipeline_run_id=ctx.pipeline_run_id):
                if run.status == RunStatus.RUNNING:
                    logger.warning("resuming run %s, which its workflow left unfinished", run_id)
                    run = self.runs.resume(run_id)
                else:
                    run = self.runs.start(run_id)
        crash_point(self.settings, "run.started")
        return run, None

    def invoke(self, spec: ToolSpec[Any], args: ToolArgs, ctx: ToolContext) -> ToolResult:
        """Run the tool itself under its run (``ctx.run_id``); a bug comes out as ``InternalToolError``."""
        with bind(run_id=ctx.run_id, pipeline_run_id=ctx.pipeline_run_id):
            try:
                return spec.func(ctx, args)
            except SwitchboardError:
                raise
            except Exception as exc:
                logger.exception("tool %s failed in run %s", spec.name, ctx.run_id)
                raise InternalToolError(
                    f"{spec.name} failed unexpectedly in run {ctx.run_id}; see the server log",
                    cause=type(exc).__name__,
                ) from exc

    def record(self, spec: ToolSpec[Any], args: ToolArgs, ctx: ToolContext, result: ToolResult) -> Execution:
        """Record the tool's result on its run: succeeded, or partial when part of its work failed."""
        run_id = ctx.run_id
        assert run_id is not None
        crash_point(self.settings, "tool.returned")
        output = {"result": result.model_dump(mode="json")}
        with bind(run_id=run_id, pipeline_run_id=ctx.pipeline_run_id):
            # The transition is conditional on the run being unfinished: only when it is refused is the run read,
            # to tell a result recorded before a crash ended the step that recorded it (a replay) from a conflict.
            try:
                if result.partial_failure is not None:
                    done = self.runs.partial(run_id, output, error=result.partial_failure)
                else:
                    done = self.runs.succeed(run_id, output)
            except Conflict:
                run = self.runs.get(run_id)
                if run.status not in UNFINISHED:
                    return self.replay(spec, args, run)
                raise
            self._notify(ctx, done)
        crash_point(self.settings, "run.recorded")
        return Execution(spec.name, args, result, done)

    def record_failure(self, ctx: ToolContext, error: SwitchboardError) -> None:
        """Record the tool's failure on its run: failed, or dead-lettered when the error says it used its retries."""
        assert ctx.run_id is not None
        if self.runs.get(ctx.run_id).status not in UNFINISHED:
            return
        message = error.message
        if isinstance(error, InternalToolError):  # the run keeps what happened, not where to look
            message = f"internal error ({error.details.get('cause', 'unknown')})"
        with bind(run_id=ctx.run_id, pipeline_run_id=ctx.pipeline_run_id):
            failed = self.runs.fail(
                ctx.run_id, error=message, code=error.code, final=bool(error.details.get("dead_lettered"))
            )
            self._notify(ctx, failed)

    def replay(self, spec: ToolSpec[Any], args: ToolArgs, run: Run) -> Execution:
        """A finished run's result shown as the repeat it is; a failed or running one is a Conflict."""
        # A partial run finished too: repeating the request shows its result (with its status), not a conflict.
        if run.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL):
            result = ToolResult.model_validate(run.output.get("result", {"summary": "already done"}))
            result = result.model_copy(update={"summary": f"Already done in run {run.id}: {result.summary}"})
            return Execution(spec.name, args, result, run, replayed=True)
        raise Conflict(
            f"this request already ran as run {run.id}, which is {run.status.value}; use retry_run to try again",
            run_id=run.id,
            status=run.status.value,
        )

    def _notify(self, ctx: ToolContext, run: Run) -> None:
        for listener in self.listeners:
            try:
                listener(ctx, run)
            except Exception:
                # An alert that cannot be sent must never change the outcome of the run it reports on.
                logger.exception("run listener failed for run %s", run.id)
