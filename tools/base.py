"""ToolSpec, ToolContext and ToolResult: the contract between the agent and the flows.

A tool's arguments are one pydantic model with ``extra="forbid"``; a ``ValidationError`` means "not executed" and
never reaches flows/. The registry is data: the agent reads these specs and contains no per-tool branches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine

from core.store.audit import AuditLog
from core.store.runs import Run, RunStore
from core.vocabulary import Risk
from flows.config import FlowSettings, StepRetry

Cell = str | int | float | bool | None


class ToolArgs(BaseModel):
    """Base of every tool's arguments: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NoArgs(ToolArgs):
    """For tools that take no arguments."""


class Table(BaseModel):
    """A typed result table."""

    title: str | None = None
    columns: list[str]
    rows: list[list[Cell]]


class ToolResult(BaseModel):
    """What a tool returns: a one-line summary, optionally a table, a chart and artifacts."""

    summary: str
    table: Table | None = None
    chart_path: str | None = None
    artifact_ids: list[int] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict, description="Small JSON summary kept on the run.")
    partial_failure: str | None = Field(
        default=None,
        description="Set when the tool finished but part of its work failed (a flow's step): what failed. The "
        "run is then recorded as partial, never succeeded.",
    )


class Preview(BaseModel):
    """A dry-run preview shown to approvers: what would happen, without doing it."""

    summary: str
    rows_affected: int | None = None
    file_name: str | None = None
    file_size: int | None = None
    recipients: list[str] = Field(default_factory=list)
    value: float | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Called(Protocol):
    """What a call made through a ``ToolCaller`` returns (``tools.runtime.Execution``)."""

    @property
    def result(self) -> ToolResult:
        """The tool's result."""

    @property
    def run(self) -> Run | None:
        """The run the call recorded (none for reads)."""


class ToolCaller(Protocol):
    """The runner executing a call (``tools.runtime.ToolRunner``).

    Tools that call tools go through it, never through a runner of their own: a nested call then shares the
    caller's registry, audit log and run listeners (the alerts a composition root attached).
    """

    @property
    def registry(self) -> Mapping[str, ToolSpec[Any]]:
        """The tools it can run."""

    def call(
        self,
        name: str,
        raw_args: Mapping[str, Any],
        *,
        actor: str,
        idempotency_key: str | None = ...,
        pipeline_run_id: int | None = ...,
        source: str = ...,
        retry: StepRetry | None = ...,
    ) -> Called:
        """Validate and execute a tool."""

    def retry(self, run_id: int, *, actor: str, source: str = ...) -> Called:
        """Run a failed run again as a new attempt linked to it."""


@dataclass(frozen=True)
class ToolContext:
    """Everything a tool needs, passed explicitly.

    Attributes:
        settings: The configuration.
        engine: Database engine.
        audit: The audit writer.
        runs: The run store.
        actor: Who is acting (a user name, or "scheduler", "system").
        today: Reference date for periods.
        runner: The runner executing this call; ``call`` and ``retry`` go through it.
        run_id: The run this call executes under, when it creates one.
        pipeline_run_id: The flow run this call is a step of.
        idempotency_key: Key that makes a repeated execution a no-op (e.g. an approval id).
        source: The interface that asked (chat, console, cli, approval, flow:<name>), recorded with each run.
    """

    settings: FlowSettings
    engine: Engine
    audit: AuditLog
    runs: RunStore
    actor: str
    today: date
    runner: ToolCaller = field(repr=False, compare=False)
    run_id: int | None = None
    pipeline_run_id: int | None = None
    idempotency_key: str | None = None
    source: str = "cli"

    def call(
        self,
        tool: str,
        args: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        source: str | None = None,
        retry: StepRetry | None = None,
    ) -> Called:
        """Call another tool as a step of this call's run, through the runner executing this call.

        Args:
            tool: The tool to call.
            args: Its raw arguments (validated by the runner, like any call).
            idempotency_key: Makes a repeated step a no-op (derive it from this call's key).
            source: Recorded with the step's run; defaults to this call's source.
            retry: How the durable engine retries the step when it fails for a reason that may pass.
        """
        return self.runner.call(
            tool,
            args,
            actor=self.actor,
            idempotency_key=idempotency_key,
            pipeline_run_id=self.run_id,
            source=source or self.source,
            retry=retry,
        )

    def retry(self, run_id: int) -> Called:
        """Run a failed run again as a new attempt linked to it, through the runner executing this call."""
        return self.runner.retry(run_id, actor=self.actor, source=self.source)


A = TypeVar("A", bound=ToolArgs)


@dataclass(frozen=True)
class ToolSpec(Generic[A]):
    """One tool: its name, the text the model reads, its typed arguments, risk and callable.

    Attributes:
        name: Stable tool name (a contract).
        description: What the tool does, written for the model and the operator.
        args_model: Pydantic model of the arguments.
        risk: read, write or external.
        func: The call into flows/.
        risk_for: Optional refinement of the risk from the arguments (run_flow is external when it delivers).
        preview: Optional dry run for approvers.
        value_of: Optional monetary value of the call (create_order), used by the policy.
        examples: Example utterances (loaded from prompts/examples by the registry when empty).
        roles: Roles allowed to request it by default.
        run_name: Optional name for the Run this call records (defaults to the tool name).
        pin: Optional resolution of moving references before approval (``file="latest"`` → the artifact id the
            approver saw), so what executes is exactly what was approved.
        long_running: Runs off the chat turn when the durable engine can queue it (a named flow): the operator is
            told the run started, and its outcome is posted to the thread when it ends.
        composite: Its work is calls of other tools (a named flow's steps). Under the durable engine it runs in
            its workflow's body, and each call it makes is a step of that workflow, retried by the call's policy.
        repeats: Optional: the call this one repeats (retry_run → the retried run's tool and arguments), or None
            when there is none to find. The policy gate weighs that call in its place, so a retry needs the same
            approval as the first run did.
    """

    name: str
    description: str
    args_model: type[A]
    risk: Risk
    func: Callable[[ToolContext, A], ToolResult]
    risk_for: Callable[[FlowSettings, A], Risk] | None = None
    preview: Callable[[ToolContext, A], Preview] | None = None
    value_of: Callable[[ToolContext, A], float] | None = None
    examples: tuple[str, ...] = ()
    roles: tuple[str, ...] = field(default=("operator", "approver", "admin"))
    run_name: Callable[[A], str] | None = None
    pin: Callable[[ToolContext, A], A] | None = None
    repeats: Callable[[ToolContext, A], tuple[ToolSpec[Any], ToolArgs] | None] | None = None
    long_running: bool = False
    composite: bool = False

    def name_run(self, args: A) -> str:
        """Name of the Run this call records (run_flow names it after the flow)."""
        return self.run_name(args) if self.run_name else self.name

    def effective_risk(self, settings: FlowSettings, args: A) -> Risk:
        """The risk of this particular call."""
        return self.risk_for(settings, args) if self.risk_for else self.risk

    def gated_call(self, ctx: ToolContext | None, args: A) -> tuple[ToolSpec[Any], ToolArgs]:
        """The call the policy gate weighs for this one: itself, or the call it repeats (followed to the first)."""
        repeated = self.repeats(ctx, args) if self.repeats is not None and ctx is not None else None
        if repeated is None:
            return self, args
        spec, repeated_args = repeated
        return spec.gated_call(ctx, repeated_args)

    @property
    def creates_run(self) -> bool:
        """Write and external tools execute as Runs; reads are audited only."""
        return self.risk != "read"
