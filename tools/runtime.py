"""Executes tools: validates arguments, records runs, audits every call, and honours idempotency keys.

Every interface (CLI, agent, console, bot, scheduler, pipelines) calls tools through this runner so the same
checks and records apply whoever asks: ``ToolRunner.run`` executes a ``BoundCall`` whose arguments were validated
already (the agent's), and ``ToolRunner.call`` validates raw arguments once and then runs them. A tool that
calls tools (a flow's steps, a retry) does so through its ``ToolContext``, which comes back to the runner
executing it: only composition roots build runners, and the listeners they attach (alerts) see every run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from core.errors import Conflict, SwitchboardError, as_data, rebuild
from core.faults import crash_point
from core.logs import bind
from core.store.audit import AuditEvent, AuditLog
from core.store.runs import Run, RunStatus, RunStore
from flows.config import FlowSettings
from tools import durable
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
from tools.bound import BoundCall
from tools.execution import Execution, InternalToolError, serialised
from tools.registry import Registry
from tools.runs import retry_target, tool_of

__all__ = ["Execution", "InternalToolError", "RunListener", "ToolRunner"]

logger = logging.getLogger(__name__)

RunListener = Callable[[ToolContext, Run], None]
_UNFINISHED = (RunStatus.PENDING, RunStatus.RUNNING)


@dataclass
class ToolRunner:
    """Runs tools against one configuration and database."""

    settings: FlowSettings
    engine: Engine
    registry: Registry
    today: Callable[[], date] | None = None
    listeners: list[RunListener] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.audit = AuditLog(self.engine)
        self.runs = RunStore(self.engine)

    def reference_date(self) -> date:
        """Today, or the pinned reference date from settings."""
        if self.today is not None:
            return self.today()
        if self.settings.reference_date:
            return date.fromisoformat(self.settings.reference_date)
        return date.today()

    def context(self, *, actor: str, **extra: Any) -> ToolContext:
        """A ToolContext for ``actor``."""
        return ToolContext(
            settings=self.settings,
            engine=self.engine,
            audit=self.audit,
            runs=self.runs,
            actor=actor,
            today=self.reference_date(),
            runner=self,
            **extra,
        )

    def bind_call(
        self,
        name: str,
        raw: Mapping[str, Any] | ToolArgs,
        *,
        actor: str,
        audit_first: Sequence[AuditEvent] = (),
    ) -> BoundCall:
        """Validate a raw call once into a BoundCall; an invalid one is audited as rejected and raised.

        Arguments that already are the tool's validated model are bound as they are.

        Raises:
            NotFound: no such tool.
            BadInput: the arguments were invalid (recorded as ``tool.rejected`` after ``audit_first``).
        """
        try:
            spec = self.registry.get_tool(name)
            if isinstance(raw, spec.args_model):
                return BoundCall.of(name, raw)
            fields = raw.model_dump() if isinstance(raw, ToolArgs) else raw
            return BoundCall.of(name, self.registry.parse_args(name, fields))
        except SwitchboardError as exc:
            rejected = AuditEvent("tool.rejected", actor, f"tool:{name}", {"error": exc.message})
            self.audit.append_many([*audit_first, rejected])
            raise

    def call(
        self,
        name: str,
        raw_args: Mapping[str, Any] | ToolArgs,
        *,
        actor: str,
        idempotency_key: str | None = None,
        pipeline_run_id: int | None = None,
        parent_id: int | None = None,
        attempt: int = 1,
        source: str = "cli",
        audit_first: Sequence[AuditEvent] = (),
    ) -> Execution:
        """Validate raw arguments once, then execute: the entry point for callers without a BoundCall.

        Raises:
            BadInput: the arguments were invalid (nothing executed).
            Conflict: the idempotency key belongs to a run that failed or is still running.
            SwitchboardError: the tool failed; the run and the audit log record why.
        """
        bound = self.bind_call(name, raw_args, actor=actor, audit_first=audit_first)
        return self.run(
            bound,
            actor=actor,
            idempotency_key=idempotency_key,
            pipeline_run_id=pipeline_run_id,
            parent_id=parent_id,
            attempt=attempt,
            source=source,
            audit_first=audit_first,
        )

    def run(
        self,
        bound: BoundCall,
        *,
        actor: str,
        idempotency_key: str | None = None,
        pipeline_run_id: int | None = None,
        parent_id: int | None = None,
        attempt: int = 1,
        source: str = "cli",
        audit_first: Sequence[AuditEvent] = (),
    ) -> Execution:
        """Execute a call whose arguments were validated already (they are not validated again).

        ``audit_first`` are records that belong before the call's own (the agent's decision to make it); they are
        written in the same transaction as the call's first record, before the tool runs.

        Raises:
            NotFound: the tool is not in this runner's registry.
            Conflict: the idempotency key belongs to a run that failed or is still running.
            SwitchboardError: the tool failed; the run and the audit log record why.
        """
        name, args = bound.tool, bound.args
        spec = self.registry.get_tool(name)
        ctx = self.context(
            actor=actor, pipeline_run_id=pipeline_run_id, idempotency_key=idempotency_key, source=source
        )
        inputs = args.model_dump(mode="json")
        if not spec.creates_run:
            call = AuditEvent("tool.call", actor, f"tool:{name}", {"args": inputs, "source": source})
            self.audit.append_many([*audit_first, call])
            try:
                result = spec.func(ctx, args)
            except SwitchboardError as exc:
                self.audit.append("tool.failed", actor=actor, subject=f"tool:{name}", data=exc.to_dict())
                raise
            except Exception as exc:
                logger.exception("tool %s failed", name)
                self.audit.append(
                    "tool.failed", actor=actor, subject=f"tool:{name}", data={"error": type(exc).__name__}
                )
                raise InternalToolError(
                    f"{name} failed unexpectedly; the server log has the details"
                ) from exc
            return Execution(name, args, result)
        if audit_first:
            self.audit.append_many(audit_first)  # the run store writes the run's own records
        if durable.durable():
            return self._run_durably(spec, args, ctx, inputs, parent_id=parent_id, attempt=attempt)
        return self._call_with_run(
            spec, args, ctx, inputs, parent_id=parent_id, attempt=attempt, source=source
        )

    def _run_durably(
        self,
        spec: ToolSpec[Any],
        args: ToolArgs,
        ctx: ToolContext,
        inputs: dict[str, Any],
        *,
        parent_id: int | None,
        attempt: int,
    ) -> Execution:
        """Execute as a workflow keyed by the idempotency key (one is made when the caller gave none)."""
        call = serialised(
            spec,
            ctx,
            inputs,
            key=ctx.idempotency_key or durable.new_key(),
            parent_id=parent_id,
            attempt=attempt,
        )
        outcome, repeated = durable.execute(self, call)
        if "error" in outcome:
            raise rebuild(outcome["error"])
        result = ToolResult.model_validate(outcome["result"])
        run = self.runs.get(outcome["run_id"])
        if repeated and not outcome["replayed"]:  # the first caller's outcome, shown as the repeat it is
            result = result.model_copy(update={"summary": f"Already done in run {run.id}: {result.summary}"})
        return Execution(spec.name, args, result, run, replayed=repeated or bool(outcome["replayed"]))

    def execute_recorded(self, call: dict[str, Any]) -> dict[str, Any]:
        """Execute a serialised call with its run record (a durable workflow's step); errors come back as data.

        Errors are returned, not raised, so the engine records the outcome once and the caller, in whichever
        process, raises it as the same class.
        """
        spec = self.registry.get_tool(call["tool"])
        args = spec.args_model.model_validate(call["args"])
        ctx = self.context(
            actor=call["actor"],
            pipeline_run_id=call["pipeline_run_id"],
            idempotency_key=call["key"],
            source=call["source"],
        )
        try:
            execution = self._call_with_run(
                spec,
                args,
                ctx,
                call["args"],
                parent_id=call["parent_id"],
                attempt=call["attempt"],
                source=call["source"],
            )
        except SwitchboardError as exc:
            return {"error": as_data(exc)}
        run_id = execution.run.id if execution.run else None
        return {
            "run_id": run_id,
            "result": execution.result.model_dump(mode="json"),
            "replayed": execution.replayed,
        }

    def _call_with_run(
        self,
        spec: ToolSpec[Any],
        args: ToolArgs,
        ctx: ToolContext,
        inputs: dict[str, Any],
        *,
        parent_id: int | None,
        attempt: int,
        source: str,
    ) -> Execution:
        run, created = self._create_run(
            spec, args, ctx, inputs, parent_id=parent_id, attempt=attempt, source=source
        )
        crash_point(self.settings, "run.created")
        # A run its own workflow created ahead (a queued flow) or left unfinished (its process died in the step)
        # is started or taken over, not refused.
        owned = not created and run.status in _UNFINISHED and durable.owns(run.idempotency_key)
        if not created and not owned:
            return self._replay(spec, args, run)
        assert run.id is not None
        # On the tool's log lines, the failure's and the listeners' (alerts); a flow's step names its flow run.
        with bind(run_id=run.id, pipeline_run_id=ctx.pipeline_run_id):
            if run.status == RunStatus.RUNNING:
                logger.warning("resuming run %s, which its workflow left unfinished", run.id)
                self.runs.resume(run.id)
            else:
                self.runs.start(run.id)
            crash_point(self.settings, "run.started")
            ctx = replace(ctx, run_id=run.id)
            try:
                result = spec.func(ctx, args)
            except SwitchboardError as exc:
                failed = self.runs.fail(run.id, error=exc.message, code=exc.code)
                self._notify(ctx, failed)
                raise
            except Exception as exc:
                logger.exception("tool %s failed in run %s", spec.name, run.id)
                failed = self.runs.fail(
                    run.id, error=f"internal error ({type(exc).__name__})", code="internal_error"
                )
                self._notify(ctx, failed)
                raise InternalToolError(
                    f"{spec.name} failed unexpectedly in run {run.id}; see the server log"
                ) from exc
            crash_point(self.settings, "tool.returned")
            output = {"result": result.model_dump(mode="json")}
            if result.partial_failure is not None:
                done = self.runs.partial(run.id, output, error=result.partial_failure)
            else:
                done = self.runs.succeed(run.id, output)
            self._notify(ctx, done)
            crash_point(self.settings, "run.recorded")
            return Execution(spec.name, args, result, done)

    def _create_run(
        self,
        spec: ToolSpec[Any],
        args: ToolArgs,
        ctx: ToolContext,
        inputs: dict[str, Any],
        *,
        parent_id: int | None,
        attempt: int,
        source: str,
    ) -> tuple[Run, bool]:
        versions = {"config": self.settings.config_version(), "source": source, "tool": spec.name}
        kind = "step" if ctx.pipeline_run_id else ("flow" if spec.run_name else "tool")
        return self.runs.create(
            name=spec.name_run(args),
            actor=ctx.actor,
            inputs=inputs,
            kind=kind,
            idempotency_key=ctx.idempotency_key,
            max_attempts=self.settings.max_attempts,
            parent_id=parent_id,
            pipeline_run_id=ctx.pipeline_run_id,
            attempt=attempt,
            versions=versions,
        )

    def prepare(
        self,
        bound: BoundCall,
        *,
        actor: str,
        source: str,
        audit_first: Sequence[AuditEvent] = (),
        key: str | None = None,
    ) -> tuple[Run, dict[str, Any]]:
        """Record a pending run for a call that a queued workflow will execute; the run and the serialised call.

        The call's key (``key``, or a new one) is the run's and the workflow's, so the workflow starts this very
        run (``owns``); a key seen before returns its run, and queueing it again is a no-op.
        """
        spec = self.registry.get_tool(bound.tool)
        key = key or durable.new_key()
        ctx = self.context(actor=actor, idempotency_key=key, source=source)
        inputs = bound.args.model_dump(mode="json")
        if audit_first:
            self.audit.append_many(audit_first)
        run, _ = self._create_run(spec, bound.args, ctx, inputs, parent_id=None, attempt=1, source=source)
        return run, serialised(spec, ctx, inputs, key=key, parent_id=None, attempt=1)

    def _replay(self, spec: ToolSpec[Any], args: ToolArgs, run: Run) -> Execution:
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

    def retry(self, run_id: int, *, actor: str, source: str = "cli") -> Execution:
        """Run a failed or dead-lettered run again as a new attempt linked to it.

        This is the mechanism; ``retry_run`` is the service every interface asks, through the policy gate.
        """
        original = retry_target(self.runs, run_id)
        return self.call(
            tool_of(original),
            original.inputs,
            actor=actor,
            idempotency_key=f"retry:{original.id}",  # one retry per run: asking twice shows the first
            parent_id=original.id,
            attempt=original.attempt + 1,
            source=source,
        )
