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

from core import tracing
from core.errors import SwitchboardError, as_data, rebuild
from core.store.audit import AuditEvent, AuditLog
from core.store.runs import Run, RunStatus, RunStore
from core.text import clip
from flows.config import FlowSettings, StepRetry
from tools import durable
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
from tools.bound import BoundCall
from tools.execution import Execution, InternalToolError, serialised
from tools.lifecycle import RunLifecycle, RunListener
from tools.registry import Registry
from tools.runs import retry_target, tool_of

__all__ = ["Execution", "InternalToolError", "RunListener", "ToolRunner"]

logger = logging.getLogger(__name__)

_FAILED = (RunStatus.FAILED, RunStatus.DEAD_LETTERED)


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
        self._lifecycle = RunLifecycle(self.settings, self.runs, self.listeners)

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
            rejected = AuditEvent("tool.rejected", actor, f"tool:{clip(name)}", {"error": exc.message})
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
        retry: StepRetry | None = None,
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
            retry=retry,
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
        retry: StepRetry | None = None,
    ) -> Execution:
        """Execute a call whose arguments were validated already (they are not validated again).

        ``audit_first`` are records that belong before the call's own (the agent's decision to make it); they are
        written in the same transaction as the call's first record, before the tool runs. ``retry`` is a flow
        step's policy, which the durable engine applies (``tools.durable``).

        Raises:
            NotFound: the tool is not in this runner's registry.
            Conflict: the idempotency key belongs to a run that failed or is still running.
            SwitchboardError: the tool failed; the run and the audit log record why.
        """
        with tracing.span("tool.run", source=source, tool=bound.tool):
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
                return self._run_durably(
                    spec, args, ctx, inputs, parent_id=parent_id, attempt=attempt, retry=retry
                )
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
        retry: StepRetry | None,
    ) -> Execution:
        """Execute as a workflow keyed by the idempotency key (one is made when the caller gave none)."""
        call = serialised(
            spec,
            ctx,
            inputs,
            key=ctx.idempotency_key or durable.new_key(),
            parent_id=parent_id,
            attempt=attempt,
            retry=retry,
        )
        outcome, repeated = durable.execute(self, call)
        if "error" in outcome:
            raise rebuild(outcome["error"])
        result = ToolResult.model_validate(outcome["result"])
        run = self.runs.get(outcome["run_id"])
        if repeated and not outcome["replayed"]:  # the first caller's outcome, shown as the repeat it is
            result = result.model_copy(update={"summary": f"Already done in run {run.id}: {result.summary}"})
        return Execution(spec.name, args, result, run, replayed=repeated or bool(outcome["replayed"]))

    # ---- the durable engine's side (tools.durable.Executes): a serialised call in, its outcome as data out ----
    # Errors are returned, not raised, so the engine records the outcome once and the caller, in whichever
    # process, raises it as the same class.

    def composite(self, tool: str) -> bool:
        """True when ``tool`` is made of calls of other tools (a named flow)."""
        return self.registry.get_tool(tool).composite

    def execute_recorded(self, call: dict[str, Any]) -> dict[str, Any]:
        """Execute a serialised call with its run record (a durable workflow's step)."""
        spec, args, ctx = self._unpack(call)
        try:
            return _outcome(self._call_with_run(spec, args, ctx, call["args"], **_run_fields(call)))
        except SwitchboardError as exc:
            return {"error": as_data(exc)}

    def open_recorded(self, call: dict[str, Any]) -> dict[str, Any]:
        """Open a composite call's run (a step): ``{"run_id"}``, or ``{"outcome"}`` when its key ran before."""
        spec, args, ctx = self._unpack(call)
        try:
            run, replay = self._lifecycle.open(spec, args, ctx, call["args"], **_run_fields(call))
        except SwitchboardError as exc:
            return {"outcome": {"error": as_data(exc)}}
        return {"outcome": _outcome(replay)} if replay is not None else {"run_id": run.id}

    def run_body(self, call: dict[str, Any], run_id: int) -> dict[str, Any]:
        """Run a composite tool under its open run, in its workflow's body: ``{"result"}`` or ``{"error"}``."""
        spec, args, ctx = self._unpack(call, run_id=run_id)
        try:
            result = self._lifecycle.invoke(spec, args, ctx)
        except SwitchboardError as exc:
            return {"error": as_data(exc)}
        return {"result": result.model_dump(mode="json")}

    def close_recorded(self, call: dict[str, Any], run_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Record a composite call's body on its run (a step); the call's outcome."""
        spec, args, ctx = self._unpack(call, run_id=run_id)
        try:
            if "error" in body:
                error = rebuild(body["error"])
                self._lifecycle.record_failure(ctx, error)
                return {"error": as_data(error)}
            return _outcome(
                self._lifecycle.record(spec, args, ctx, ToolResult.model_validate(body["result"]))
            )
        except SwitchboardError as exc:
            return {"error": as_data(exc)}

    def next_attempt(self, call: dict[str, Any]) -> dict[str, Any]:
        """The attempt to make of a step with a retry policy: the first of its attempts that has not failed.

        Attempt 1 runs under the step's key, attempt ``n`` under ``<key>:attempt<n>``, each a run linked to the
        one before and allowed ``retry.attempts`` attempts, so the last one's failure dead-letters it. Counting
        from the runs (not from the engine's retry counter) keeps the count across a crash.
        """
        attempts = int(call["retry"]["attempts"])
        parent_id = call["parent_id"]
        for attempt in range(1, attempts + 1):
            key = call["key"] if attempt == 1 else f"{call['key']}:attempt{attempt}"
            run = self.runs.find_by_key(key)
            if run is None or run.status not in _FAILED or attempt == attempts:
                return {
                    **call,
                    "key": key,
                    "attempt": attempt,
                    "parent_id": parent_id,
                    "max_attempts": attempts,
                }
            parent_id = run.id
        raise AssertionError("unreachable: the last attempt is always returned")

    def _unpack(
        self, call: dict[str, Any], *, run_id: int | None = None
    ) -> tuple[ToolSpec[Any], ToolArgs, ToolContext]:
        spec = self.registry.get_tool(call["tool"])
        args = spec.args_model.model_validate(call["args"])
        ctx = self.context(
            actor=call["actor"],
            pipeline_run_id=call["pipeline_run_id"],
            idempotency_key=call["key"],
            source=call["source"],
            run_id=run_id,
        )
        return spec, args, ctx

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
        max_attempts: int | None = None,
    ) -> Execution:
        run, replay = self._lifecycle.open(
            spec,
            args,
            ctx,
            inputs,
            parent_id=parent_id,
            attempt=attempt,
            source=source,
            max_attempts=max_attempts,
        )
        if replay is not None:
            return replay
        ctx = replace(ctx, run_id=run.id)
        try:
            result = self._lifecycle.invoke(spec, args, ctx)
        except SwitchboardError as exc:
            self._lifecycle.record_failure(ctx, exc)
            raise
        return self._lifecycle.record(spec, args, ctx, result)

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
        run, _ = self._lifecycle.create(
            spec, bound.args, ctx, inputs, parent_id=None, attempt=1, source=source
        )
        return run, serialised(spec, ctx, inputs, key=key, parent_id=None, attempt=1)

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


def _run_fields(call: dict[str, Any]) -> dict[str, Any]:
    return {
        "parent_id": call["parent_id"],
        "attempt": call["attempt"],
        "source": call["source"],
        "max_attempts": call.get("max_attempts"),
    }


def _outcome(execution: Execution) -> dict[str, Any]:
    return {
        "run_id": execution.run.id if execution.run else None,
        "result": execution.result.model_dump(mode="json"),
        "replayed": execution.replayed,
    }
