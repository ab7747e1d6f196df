"""ToolRunner: validation, runs, idempotency, dead letter and retry — on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field
from sqlalchemy.engine import Engine

from core.errors import BadInput, Conflict, DeliveryFailed
from core.store.audit import AuditEvent, AuditLog
from core.store.runs import RunStatus
from switchboard.settings import Settings
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
from tools.registry import Registry
from tools.runtime import InternalToolError, ToolRunner


class EchoArgs(ToolArgs):
    word: str = Field(min_length=1)
    times: int = 1


class Flaky:
    """A write tool that fails a scripted number of times, counting real executions."""

    def __init__(self, failures: int = 0, crash: bool = False) -> None:
        self.failures, self.crash, self.calls = failures, crash, 0

    def __call__(self, ctx: ToolContext, args: EchoArgs) -> ToolResult:
        self.calls += 1
        if self.crash:
            raise ZeroDivisionError("boom")
        if self.calls <= self.failures:
            raise DeliveryFailed("the far side is down")
        return ToolResult(summary=" ".join([args.word] * args.times), data={"run": ctx.run_id})


def _runner(settings: Settings, engine: Engine, func: Any, risk: str = "write") -> ToolRunner:
    spec = ToolSpec(name="echo", description="Echo a word.", args_model=EchoArgs, risk=risk, func=func)  # type: ignore[arg-type]
    return ToolRunner(settings=settings, engine=engine, registry=Registry([spec]))


def test_write_call_records_a_succeeded_run(settings: Settings, any_engine: Engine) -> None:
    runner = _runner(settings, any_engine, Flaky())
    execution = runner.call("echo", {"word": "hi", "times": "2"}, actor="alice")
    assert execution.result.summary == "hi hi"
    assert execution.run is not None
    run = runner.runs.get(execution.run.id or 0)
    assert (run.status, run.actor, run.inputs, run.attempt) == (
        RunStatus.SUCCEEDED,
        "alice",
        {"word": "hi", "times": 2},
        1,
    )
    assert run.output["result"]["summary"] == "hi hi"
    events = [r.event for r in AuditLog(any_engine).iter_records()]
    assert events == ["run.created", "run.running", "run.succeeded"]


def test_read_call_is_audited_without_a_run(settings: Settings, engine: Engine) -> None:
    runner = _runner(settings, engine, Flaky(), risk="read")
    execution = runner.call("echo", {"word": "x"}, actor="bob")
    assert execution.run is None
    records = list(AuditLog(engine).iter_records())
    assert [(r.event, r.actor, r.subject) for r in records] == [("tool.call", "bob", "tool:echo")]


def test_bad_arguments_are_rejected_and_audited(settings: Settings, engine: Engine) -> None:
    tool = Flaky()
    runner = _runner(settings, engine, tool)
    with pytest.raises(
        BadInput,
        match=r"echo: 'times' should be a valid integer, unable to parse string as an integer; unknown argument 'colour'",
    ):
        runner.call("echo", {"word": "x", "colour": "red", "times": "many"}, actor="alice")
    with pytest.raises(BadInput, match="missing argument 'word'"):
        runner.call("echo", {}, actor="alice")
    assert tool.calls == 0
    assert [r.event for r in AuditLog(engine).iter_records()] == ["tool.rejected", "tool.rejected"]


def test_unknown_tool_suggests_close_names(settings: Settings, engine: Engine) -> None:
    runner = _runner(settings, engine, Flaky())
    with pytest.raises(Exception, match=r"unknown tool 'ecko'; did you mean echo\?"):
        runner.call("ecko", {}, actor="alice")


def test_idempotency_key_executes_once(settings: Settings, any_engine: Engine) -> None:
    tool = Flaky()
    runner = _runner(settings, any_engine, tool)
    first = runner.call("echo", {"word": "pay"}, actor="alice", idempotency_key="approval-1")
    second = runner.call("echo", {"word": "pay"}, actor="alice", idempotency_key="approval-1")
    assert tool.calls == 1
    assert second.replayed and second.run is not None and first.run is not None
    assert second.run.id == first.run.id
    assert second.result.summary == f"Already done in run {first.run.id}: pay"


def test_failed_key_is_not_silently_rerun(settings: Settings, engine: Engine) -> None:
    tool = Flaky(failures=5)
    runner = _runner(settings, engine, tool)
    with pytest.raises(DeliveryFailed):
        runner.call("echo", {"word": "x"}, actor="alice", idempotency_key="k")
    with pytest.raises(Conflict, match="already ran as run 1, which is failed; use retry_run"):
        runner.call("echo", {"word": "x"}, actor="alice", idempotency_key="k")
    assert tool.calls == 1


def test_retries_then_dead_letter(settings: Settings, any_engine: Engine) -> None:
    tool = Flaky(failures=10)
    runner = _runner(settings, any_engine, tool)
    assert settings.max_attempts == 3
    with pytest.raises(DeliveryFailed):
        runner.call("echo", {"word": "x"}, actor="alice")
    with pytest.raises(DeliveryFailed):
        runner.retry(1, actor="bob")
    with pytest.raises(DeliveryFailed):
        runner.retry(2, actor="bob")
    runs = sorted(runner.runs.list(limit=10), key=lambda r: r.id or 0)
    assert [(r.id, r.status, r.attempt, r.parent_id) for r in runs] == [
        (1, RunStatus.FAILED, 1, None),
        (2, RunStatus.FAILED, 2, 1),
        (3, RunStatus.DEAD_LETTERED, 3, 2),
    ]
    assert [r.id for r in runner.runs.list(statuses=(RunStatus.FAILED, RunStatus.DEAD_LETTERED))] == [3, 2, 1]


def test_retry_after_recovery_succeeds_and_links(settings: Settings, engine: Engine) -> None:
    tool = Flaky(failures=1)
    runner = _runner(settings, engine, tool)
    with pytest.raises(DeliveryFailed):
        runner.call("echo", {"word": "x"}, actor="alice")
    retried = runner.retry(1, actor="bob")
    assert retried.run is not None
    assert (retried.run.status, retried.run.parent_id, retried.run.attempt, retried.run.actor) == (
        RunStatus.SUCCEEDED,
        1,
        2,
        "bob",
    )
    with pytest.raises(Conflict, match="run 2 is succeeded; only failed runs can be retried"):
        runner.retry(2, actor="bob")


def test_unexpected_exception_becomes_a_clean_error(settings: Settings, engine: Engine) -> None:
    runner = _runner(settings, engine, Flaky(crash=True))
    with pytest.raises(InternalToolError, match=r"echo failed unexpectedly in run 1; see the server log"):
        runner.call("echo", {"word": "x"}, actor="alice")
    run = runner.runs.get(1)
    assert (run.status, run.error, run.error_code) == (
        RunStatus.FAILED,
        "internal error (ZeroDivisionError)",
        "internal_error",
    )


def test_listener_failure_never_changes_the_outcome(settings: Settings, engine: Engine) -> None:
    runner = _runner(settings, engine, Flaky())
    seen: list[str] = []

    def broken(_ctx: ToolContext, run: Any) -> None:
        seen.append(run.status.value)
        raise RuntimeError("alerting is down")

    runner.listeners.append(broken)
    assert runner.call("echo", {"word": "ok"}, actor="alice").result.summary == "ok"
    assert seen == ["succeeded"]


def test_the_callers_records_come_first_whether_the_call_is_valid_or_not(
    settings: Settings, engine: Engine
) -> None:
    runner = _runner(settings, engine, Flaky())
    decided = AuditEvent("agent.decision", "alice", "tool:echo", {"action": "execute"})
    with pytest.raises(BadInput):
        runner.call("echo", {}, actor="alice", audit_first=[decided])
    runner.call("echo", {"word": "hi"}, actor="alice", audit_first=[decided])
    events = [r.event for r in AuditLog(engine).iter_records()]
    assert events == [
        "agent.decision",
        "tool.rejected",
        "agent.decision",
        "run.created",
        "run.running",
        "run.succeeded",
    ]


def test_a_run_records_where_the_call_came_from(settings: Settings, engine: Engine) -> None:
    runner = _runner(settings, engine, Flaky())
    by_default = runner.call("echo", {"word": "hi"}, actor="alice")
    from_console = runner.call("echo", {"word": "hi"}, actor="alice", source="console")
    assert by_default.run is not None and from_console.run is not None
    assert [by_default.run.versions["source"], from_console.run.versions["source"]] == ["cli", "console"]
