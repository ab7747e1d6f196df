"""ToolRunner and RunLifecycle at their edges: queued calls, the durable engine's side, crash points, logs."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from core import faults
from core.durable import durable_config
from core.errors import BadInput, DeliveryFailed, NotFound, as_data
from core.store.audit import AuditEvent, AuditLog
from core.store.runs import Run, RunStatus
from switchboard.settings import Settings
from tests.utils.logs import captured_json, json_records
from tests.utils.tracing import by_name, spans  # noqa: F401
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
from tools.bound import BoundCall
from tools.durable import engine_running
from tools.execution import Execution, InternalToolError, serialised
from tools.registry import Registry
from tools.runtime import ToolRunner

logger = logging.getLogger("tests.tools.edges")


class Window(BaseModel):
    days: int
    since: date | None = None


class EchoArgs(ToolArgs):
    word: str
    times: int = 1
    window: Window | None = None


class OtherWindow(BaseModel):
    days: int


class OtherArgs(ToolArgs):
    """Another tool's arguments with the same fields (a repeated call carries its original tool's model)."""

    word: str
    window: OtherWindow | None = None


class Echo:
    """A write tool that tells what its context was, logs a line, and can crash, fail or half-succeed."""

    def __init__(self) -> None:
        self.calls = 0
        self.crash = False
        self.fail = False
        self.partial: str | None = None

    def __call__(self, ctx: ToolContext, args: EchoArgs) -> ToolResult:
        self.calls += 1
        logger.warning("echoing %s", args.word)
        if self.crash:
            raise ZeroDivisionError("boom")
        if self.fail:
            raise DeliveryFailed("the far side is down")
        return ToolResult(
            summary=" ".join([args.word] * args.times),
            data={
                "run": ctx.run_id,
                "source": ctx.source,
                "actor": ctx.actor,
                "pipeline": ctx.pipeline_run_id,
            },
            partial_failure=self.partial,
        )


def _runner(settings: Settings, engine: Engine, tool: Echo, **spec: Any) -> ToolRunner:
    echo = ToolSpec(
        name="echo",
        description="Echo a word.",
        args_model=EchoArgs,
        func=tool,
        **{"risk": "write", **spec},
    )  # type: ignore[arg-type]
    return ToolRunner(settings=settings, engine=engine, registry=Registry([echo]))


def _call(runner: ToolRunner, **fields: Any) -> dict[str, Any]:
    """A serialised call as the durable engine hands it back to the runner."""
    spec = runner.registry.get_tool("echo")
    ctx = runner.context(actor=fields.pop("actor", "alice"), source=fields.pop("source", "console"))
    ctx = replace(ctx, pipeline_run_id=fields.pop("pipeline_run_id", None))
    call = serialised(
        spec,
        ctx,
        fields.pop("args", {"word": "hi", "times": 1, "window": None}),
        key="k",
        parent_id=None,
        attempt=1,
    )
    return {**call, **fields}


def _kills_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault point's SIGKILL raises ``Killed`` in the test instead of ending the process."""

    def kill(_pid: int, _signal: int) -> None:
        raise Killed

    monkeypatch.setattr(faults.os, "kill", kill)


# ---- ToolRunner.bind_call, prepare, call ----


def test_arguments_that_already_are_the_tools_model_are_bound_as_they_are(
    settings: Settings, engine: Engine
) -> None:
    runner = _runner(settings, engine, Echo())
    args = EchoArgs(word="hi")
    bound = runner.bind_call("echo", args, actor="alice")
    assert (bound.tool, bound.args, bound.canonical) == (
        "echo",
        args,
        {"word": "hi", "times": 1},
    )
    assert bound.args is args
    # another model's arguments are validated again by their fields, nested ones included
    other = runner.bind_call("echo", OtherArgs(word="hi", window=OtherWindow(days=3)), actor="alice")
    assert (other.tool, other.args) == (
        "echo",
        EchoArgs(word="hi", window=Window(days=3)),
    )


def test_a_rejected_call_is_audited_with_its_tool_and_reason(settings: Settings, engine: Engine) -> None:
    runner = _runner(settings, engine, Echo())
    with pytest.raises(BadInput) as bad:
        runner.bind_call("echo", {"word": "x", "times": "many"}, actor="alice")
    with pytest.raises(NotFound) as unknown:
        runner.bind_call("e" * 3000, {}, actor="bob")
    first, second = AuditLog(engine).iter_records()
    assert (first.event, first.actor, first.subject, json.loads(first.data)) == (
        "tool.rejected",
        "alice",
        "tool:echo",
        {"error": bad.value.message},
    )
    assert (second.actor, json.loads(second.data)) == (
        "bob",
        {"error": unknown.value.message},
    )
    assert second.subject.startswith("tool:eeee") and len(second.subject) < 1100


def test_an_execution_names_its_tool_and_arguments(settings: Settings, engine: Engine) -> None:
    runner = _runner(settings, engine, Echo())
    window = {"days": 3, "since": "2026-11-01"}
    execution = runner.call("echo", {"word": "hi", "window": window}, actor="alice")
    assert (execution.tool, execution.args) == (
        "echo",
        EchoArgs(word="hi", window=Window(days=3, since=date(2026, 11, 1))),
    )
    assert execution.run is not None
    # the run keeps the arguments as JSON: what a retry validates again
    assert runner.runs.get(execution.run.id or 0).inputs == {"word": "hi", "times": 1, "window": window}


def test_prepare_records_a_pending_run_under_the_key_its_workflow_will_use(
    settings: Settings, engine: Engine
) -> None:
    tool = Echo()
    runner = _runner(settings, engine, tool)
    decided = AuditEvent("agent.decision", "alice", "tool:echo", {"action": "queue"})
    bound = BoundCall.of(
        "echo",
        EchoArgs(word="hi", times=2, window=Window(days=3, since=date(2026, 11, 1))),
    )
    run, call = runner.prepare(
        bound, actor="alice", source="console", audit_first=[decided], key="approval:9"
    )
    inputs = {"word": "hi", "times": 2, "window": {"days": 3, "since": "2026-11-01"}}
    assert (
        run.name,
        run.status,
        run.actor,
        run.inputs,
        run.kind,
        run.idempotency_key,
    ) == (
        "echo",
        RunStatus.PENDING,
        "alice",
        inputs,
        "tool",
        "approval:9",
    )
    assert (run.attempt, run.parent_id, run.pipeline_run_id, run.max_attempts) == (
        1,
        None,
        None,
        3,
    )
    assert run.versions == {
        "config": settings.config_version(),
        "source": "console",
        "tool": "echo",
    }
    assert call == {
        "retry": None,
        "tool": "echo",
        "args": inputs,
        "actor": "alice",
        "key": "approval:9",
        "pipeline_run_id": None,
        "parent_id": None,
        "attempt": 1,
        "source": "console",
    }
    assert [r.event for r in AuditLog(engine).iter_records()] == [
        "agent.decision",
        "run.created",
    ]
    assert tool.calls == 0
    # the same key again finds that run; no key gets a new one, which the run and the call share
    again, _ = runner.prepare(bound, actor="alice", source="console", key="approval:9")
    fresh, fresh_call = runner.prepare(bound, actor="bob", source="cli")
    assert again.id == run.id and fresh.id != run.id
    assert fresh.idempotency_key == fresh_call["key"] and fresh_call["key"].startswith("call:")
    assert [r.event for r in AuditLog(engine).iter_records()][2:] == ["run.created"]


# ---- the durable engine's side, called as the engine calls it ----


def test_a_recorded_call_runs_with_its_source_and_comes_back_as_data(
    settings: Settings, engine: Engine
) -> None:
    tool = Echo()
    runner = _runner(settings, engine, tool)
    outcome = runner.execute_recorded({**_call(runner, source="console"), "max_attempts": 5})
    run = runner.runs.get(outcome["run_id"])
    assert outcome == {
        "run_id": run.id,
        "result": {
            **ToolResult(summary="hi").model_dump(mode="json"),
            "data": {
                "run": run.id,
                "source": "console",
                "actor": "alice",
                "pipeline": None,
            },
        },
        "replayed": False,
    }
    assert (run.status, run.max_attempts, run.versions["source"]) == (
        RunStatus.SUCCEEDED,
        5,
        "console",
    )
    tool.fail = True
    failed = runner.execute_recorded({**_call(runner), "key": "k2"})
    assert failed == {"error": as_data(DeliveryFailed("the far side is down"))}


def test_opening_a_recorded_call_starts_its_run_or_shows_the_earlier_outcome(
    settings: Settings, engine: Engine
) -> None:
    tool = Echo()
    runner = _runner(settings, engine, tool)
    call = _call(runner, args={"word": "hi", "times": 2, "window": None})
    opened = runner.open_recorded(call)
    run = runner.runs.get(opened["run_id"])
    assert opened == {"run_id": run.id}
    assert (run.status, run.inputs) == (RunStatus.RUNNING, call["args"])
    body = runner.run_body(call, run.id or 0)
    assert body == {
        "result": ToolResult(
            summary="hi hi",
            data={
                "run": run.id,
                "source": "console",
                "actor": "alice",
                "pipeline": None,
            },
        ).model_dump(mode="json")
    }
    closed = runner.close_recorded(call, run.id or 0, body)
    assert closed == {"run_id": run.id, "result": body["result"], "replayed": False}
    # the same key again: the finished run's outcome, as a repeat; nothing runs again
    again = runner.open_recorded(call)
    assert again == {
        "outcome": {
            "run_id": run.id,
            "result": {
                **body["result"],
                "summary": f"Already done in run {run.id}: hi hi",
            },
            "replayed": True,
        }
    }
    assert tool.calls == 1


def test_a_recorded_call_that_fails_comes_back_as_its_error(settings: Settings, engine: Engine) -> None:
    tool = Echo()
    runner = _runner(settings, engine, tool)
    call = _call(runner)
    run_id = runner.open_recorded(call)["run_id"]
    tool.fail = True
    body = runner.run_body(call, run_id)
    assert body == {"error": as_data(DeliveryFailed("the far side is down"))}
    assert runner.close_recorded(call, run_id, body) == body
    assert runner.runs.get(run_id).status == RunStatus.FAILED
    # a failed key is a conflict, returned as the outcome's error
    refused = runner.open_recorded(call)
    assert refused["outcome"]["error"]["type"] == "Conflict"
    assert f"already ran as run {run_id}, which is failed" in refused["outcome"]["error"]["message"]


def test_closing_a_run_that_never_started_is_a_conflict_returned_as_data(
    settings: Settings, engine: Engine
) -> None:
    runner = _runner(settings, engine, Echo())
    run, call = runner.prepare(
        BoundCall.of("echo", EchoArgs(word="hi")), actor="alice", source="cli", key="k"
    )
    closed = runner.close_recorded(call, run.id or 0, {"result": {"summary": "hi"}})
    assert closed["error"]["type"] == "Conflict"
    assert runner.runs.get(run.id or 0).status == RunStatus.PENDING


def _fail_run(runner: ToolRunner, key: str, parent_id: int | None = None) -> Run:
    run, _ = runner.runs.create(name="echo", actor="a", inputs={}, idempotency_key=key, parent_id=parent_id)
    runner.runs.start(run.id or 0)
    return runner.runs.fail(run.id or 0, error="down")


def test_the_next_attempt_is_the_first_that_has_not_failed(settings: Settings, engine: Engine) -> None:
    runner = _runner(settings, engine, Echo())
    call = {**_call(runner), "retry": {"attempts": 3}, "parent_id": 5}
    first = runner.next_attempt(call)
    assert first == {
        **call,
        "key": "k",
        "attempt": 1,
        "parent_id": 5,
        "max_attempts": 3,
    }
    one = _fail_run(runner, "k")
    assert runner.next_attempt(call) | {} == {
        **call,
        "key": "k:attempt2",
        "attempt": 2,
        "parent_id": one.id,
        "max_attempts": 3,
    }
    two = _fail_run(runner, "k:attempt2")
    _fail_run(runner, "k:attempt3")
    # the last attempt is returned even when it failed: running it again shows its failure
    assert runner.next_attempt(call) == {
        **call,
        "key": "k:attempt3",
        "attempt": 3,
        "parent_id": two.id,
        "max_attempts": 3,
    }
    # an attempt that did not fail (it succeeded, or is running) is the one to make
    other = {**call, "key": "s"}
    done, _ = runner.runs.create(name="echo", actor="a", inputs={}, idempotency_key="s")
    runner.runs.start(done.id or 0)
    assert runner.next_attempt(other)["key"] == "s"


def test_a_key_run_outside_the_engine_is_shown_as_a_repeat_through_it(
    settings: Settings, engine: Engine
) -> None:
    tool = Echo()
    runner = _runner(settings, engine, tool)
    first = runner.call("echo", {"word": "hi"}, actor="alice", idempotency_key="approval:1")
    assert first.run is not None
    with engine_running(runner, durable_config(settings, role="test")):
        again = runner.call("echo", {"word": "hi"}, actor="alice", idempotency_key="approval:1")
    assert again.run is not None and again.run.id == first.run.id
    assert (again.replayed, again.result.summary, tool.calls) == (
        True,
        f"Already done in run {first.run.id}: hi",
        1,
    )


# ---- RunLifecycle ----


def test_a_run_is_named_and_kinded_by_what_asked_for_it(settings: Settings, engine: Engine) -> None:
    runner = _runner(settings, engine, Echo(), run_name=lambda args: f"echo {args.word}")
    flow = runner.call("echo", {"word": "hi"}, actor="alice")
    step = runner.call("echo", {"word": "yo"}, actor="alice", pipeline_run_id=flow.run.id)  # type: ignore[union-attr]
    assert flow.run is not None and step.run is not None
    assert [(flow.run.name, flow.run.kind), (step.run.name, step.run.kind)] == [
        ("echo hi", "flow"),
        ("echo yo", "step"),
    ]
    assert (step.result.data["pipeline"], step.run.pipeline_run_id) == (flow.run.id, flow.run.id)
    child = runner.call("echo", {"word": "yo"}, actor="alice", parent_id=flow.run.id)
    assert child.run is not None and child.run.parent_id == flow.run.id
    queued, _ = runner.prepare(BoundCall.of("echo", EchoArgs(word="q")), actor="alice", source="cli")
    assert (queued.name, queued.kind) == ("echo q", "flow")


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after the fault point runs."""


@pytest.mark.parametrize(
    ("point", "status", "calls"),
    [
        (
            "run.created",
            RunStatus.RUNNING,
            0,
        ),  # a call that runs at once is recorded running, in one transaction
        ("run.started", RunStatus.RUNNING, 0),
        ("tool.returned", RunStatus.RUNNING, 1),
        ("run.recorded", RunStatus.SUCCEEDED, 1),
    ],
)
def test_each_fault_point_kills_the_call_where_its_name_says(
    settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    point: str,
    status: RunStatus,
    calls: int,
) -> None:
    _kills_raise(monkeypatch)
    tool = Echo()
    runner = _runner(settings.model_copy(update={"fault_point": point}), engine, tool)
    with pytest.raises(Killed):
        runner.call("echo", {"word": "hi"}, actor="alice")
    assert (runner.runs.get(1).status, tool.calls) == (status, calls)


def test_a_partial_result_is_recorded_with_what_failed(settings: Settings, engine: Engine) -> None:
    tool = Echo()
    tool.partial = "step 2 (send) failed: down"
    runner = _runner(settings, engine, tool)
    execution = runner.call("echo", {"word": "hi"}, actor="alice")
    assert execution.run is not None
    run = runner.runs.get(execution.run.id or 0)
    assert (run.status, run.error, run.output["result"]["summary"]) == (
        RunStatus.PARTIAL,
        "step 2 (send) failed: down",
        "hi",
    )


def test_listeners_hear_a_recorded_run_with_its_context(settings: Settings, engine: Engine) -> None:
    runner = _runner(settings, engine, Echo())
    heard: list[tuple[ToolContext, Run]] = []

    def broken(ctx: ToolContext, run: Run) -> None:
        heard.append((ctx, run))
        raise RuntimeError("alerting is down")

    runner.listeners.append(broken)
    flow = runner.call("echo", {"word": "a"}, actor="alice")
    assert flow.run is not None
    heard.clear()
    with captured_json() as logs:
        step = runner.call("echo", {"word": "b"}, actor="alice", pipeline_run_id=flow.run.id)
    assert step.run is not None
    ((ctx, run),) = heard
    assert (ctx.run_id, ctx.actor, run.id, run.status) == (
        step.run.id,
        "alice",
        step.run.id,
        RunStatus.SUCCEEDED,
    )
    lines = json_records(logs)
    tool_line = next(r for r in lines if r["msg"] == "echoing b")
    failed_line = next(r for r in lines if r["msg"].startswith("run listener failed"))
    for line in (tool_line, failed_line):
        assert (line.get("run_id"), line.get("pipeline_run_id")) == (
            step.run.id,
            flow.run.id,
        )


def test_a_crash_is_logged_with_the_tool_and_its_run(settings: Settings, engine: Engine) -> None:
    tool = Echo()
    tool.crash = True
    runner = _runner(settings, engine, tool)
    with captured_json() as logs, pytest.raises(InternalToolError):
        runner.call("echo", {"word": "hi"}, actor="alice")
    (line,) = [r for r in json_records(logs) if r["level"] == "error"]
    assert (line["msg"], line["run_id"], line["exc_type"]) == (
        "tool echo failed in run 1",
        1,
        "ZeroDivisionError",
    )


def test_a_result_recorded_before_a_crash_is_replayed_when_recorded_again(
    settings: Settings, engine: Engine
) -> None:
    runner = _runner(settings, engine, Echo())
    spec = runner.registry.get_tool("echo")
    args = EchoArgs(word="hi")
    first = runner.call("echo", {"word": "hi"}, actor="alice")
    assert first.run is not None
    ctx = replace(runner.context(actor="alice"), run_id=first.run.id)
    again = runner._lifecycle.record(spec, args, ctx, first.result)
    assert again == Execution(
        "echo",
        args,
        first.result.model_copy(update={"summary": f"Already done in run {first.run.id}: hi"}),
        again.run,
        replayed=True,
    )
    assert again.run is not None and again.run.id == first.run.id


# ---- plain calls: reads, where a call came from, its trace, its reference date ----


def test_a_read_call_is_audited_with_its_arguments_and_where_it_came_from(
    settings: Settings, engine: Engine
) -> None:
    runner = _runner(settings, engine, Echo(), risk="read")
    decided = AuditEvent("agent.decision", "alice", "tool:echo", {"action": "execute"})
    execution = runner.call(
        "echo",
        {"word": "hi", "times": 2, "window": {"days": 3, "since": "2026-11-01"}},
        actor="alice",
        source="console",
        audit_first=[decided],
    )
    assert (execution.tool, execution.args, execution.run) == (
        "echo",
        EchoArgs(word="hi", times=2, window=Window(days=3, since=date(2026, 11, 1))),
        None,
    )
    assert execution.result == ToolResult(
        summary="hi hi",
        data={"run": None, "source": "console", "actor": "alice", "pipeline": None},
    )
    records = [(r.event, r.actor, r.subject, json.loads(r.data)) for r in AuditLog(engine).iter_records()]
    assert records == [
        ("agent.decision", "alice", "tool:echo", {"action": "execute"}),
        (
            "tool.call",
            "alice",
            "tool:echo",
            {
                "args": {"word": "hi", "times": 2, "window": {"days": 3, "since": "2026-11-01"}},
                "source": "console",
            },
        ),
    ]


def test_a_failed_read_call_is_audited_and_a_crash_is_a_clean_error(
    settings: Settings, engine: Engine
) -> None:
    tool = Echo()
    tool.fail = True
    runner = _runner(settings, engine, tool, risk="read")
    with pytest.raises(DeliveryFailed) as failed:
        runner.call("echo", {"word": "hi"}, actor="alice")
    tool.fail, tool.crash = False, True
    with captured_json() as logs, pytest.raises(InternalToolError) as crashed:
        runner.call("echo", {"word": "hi"}, actor="bob")
    assert str(crashed.value) == "echo failed unexpectedly; the server log has the details"
    assert isinstance(crashed.value.__cause__, ZeroDivisionError)
    records = [
        (r.actor, r.subject, json.loads(r.data))
        for r in AuditLog(engine).iter_records()
        if r.event == "tool.failed"
    ]
    assert records == [
        ("alice", "tool:echo", failed.value.to_dict()),
        ("bob", "tool:echo", {"error": "ZeroDivisionError"}),
    ]
    (line,) = [r for r in json_records(logs) if r["level"] == "error"]
    assert (line["msg"], line["exc_type"]) == ("tool echo failed", "ZeroDivisionError")


def test_a_call_is_traced_with_its_tool_source_and_run(
    settings: Settings,
    engine: Engine,
    spans: InMemorySpanExporter,  # noqa: F811
) -> None:
    runner = _runner(settings, engine, Echo())
    execution = runner.call("echo", {"word": "hi"}, actor="alice", source="console")
    assert execution.run is not None and execution.result.data["source"] == "console"
    (span,) = by_name(spans.get_finished_spans(), "tool.run")
    assert dict(span.attributes or {}) == {
        "switchboard.source": "console",
        "switchboard.tool": "echo",
        "switchboard.run_id": execution.run.id,
    }


def test_the_reference_date_is_the_pinned_one_or_today(settings: Settings, engine: Engine) -> None:
    registry = Registry([])
    pinned = ToolRunner(
        settings=settings,
        engine=engine,
        registry=registry,
        today=lambda: date(2020, 1, 2),
    )
    configured = ToolRunner(settings=settings, engine=engine, registry=registry)
    unset = ToolRunner(
        settings=settings.model_copy(update={"reference_date": None}),
        engine=engine,
        registry=registry,
    )
    assert pinned.reference_date() == pinned.context(actor="a").today == date(2020, 1, 2)
    assert configured.reference_date() == date.fromisoformat(settings.reference_date or "")
    assert configured.reference_date() != date.today()
    assert unset.reference_date() == date.today()


# ---- a run its own workflow left unfinished, a result's JSON, defaults of a plain run ----


def test_a_workflow_re_running_its_step_takes_over_the_run_it_left_running(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kills_raise(monkeypatch)
    tool = Echo()
    flow = _runner(settings, engine, tool).call("echo", {"word": "flow"}, actor="alice")
    assert flow.run is not None
    dying = _runner(settings.model_copy(update={"fault_point": "tool.returned"}), engine, tool)
    call = {**_call(dying, pipeline_run_id=flow.run.id), "key": "approval:7"}
    with pytest.raises(Killed):  # its process dies after the tool ran, before the run was recorded
        dying.execute_recorded(call)
    (left,) = dying.runs.list(name="echo", include_steps=True, statuses=(RunStatus.RUNNING,))
    # after the restart the engine re-runs the step in the workflow keyed approval:7: it owns that run
    restarted = _runner(settings, engine, tool)
    monkeypatch.setattr("tools.durable.current_workflow", lambda: "approval:7")
    with captured_json() as logs:
        outcome = restarted.execute_recorded(call)
    run = restarted.runs.get(left.id or 0)
    assert (outcome["run_id"], outcome["replayed"], outcome["result"]["summary"]) == (left.id, False, "hi")
    assert (run.status, run.output["result"]["data"]["run"], tool.calls) == (RunStatus.SUCCEEDED, left.id, 3)
    (line,) = [r for r in json_records(logs) if r["logger"] == "tools.lifecycle"]
    assert (line["level"], line["msg"], line["run_id"], line["pipeline_run_id"]) == (
        "warning",
        f"resuming run {left.id}, which its workflow left unfinished",
        left.id,
        flow.run.id,
    )
    events = [(r.event, r.subject) for r in AuditLog(engine).iter_records()]
    assert events[-2:] == [("run.resumed", f"run:{left.id}"), ("run.succeeded", f"run:{left.id}")]


def test_a_run_left_running_is_refused_to_another_workflow_and_outside_one(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kills_raise(monkeypatch)
    tool = Echo()
    dying = _runner(settings.model_copy(update={"fault_point": "run.started"}), engine, tool)
    call = {**_call(dying), "key": "approval:7"}
    with pytest.raises(Killed):
        dying.execute_recorded(call)
    restarted = _runner(settings, engine, tool)
    for workflow in (None, "approval:70", "other:approval:7"):
        monkeypatch.setattr("tools.durable.current_workflow", lambda workflow=workflow: workflow)
        refused = restarted.execute_recorded(call)
        assert refused["error"]["type"] == "Conflict"
        assert "which is running" in refused["error"]["message"]
    assert (restarted.runs.get(1).status, tool.calls) == (RunStatus.RUNNING, 0)


def test_a_repeated_key_is_shown_with_the_arguments_it_was_called_with(
    settings: Settings, engine: Engine
) -> None:
    runner = _runner(settings, engine, Echo())
    first = runner.call("echo", {"word": "hi"}, actor="alice", idempotency_key="approval:1")
    again = runner.call("echo", {"word": "hi", "times": 1}, actor="alice", idempotency_key="approval:1")
    assert first.run is not None and again.run is not None
    assert (again.replayed, again.tool, again.args, again.run.id) == (
        True,
        "echo",
        EchoArgs(word="hi"),
        first.run.id,
    )


def test_a_result_holding_dates_and_decimals_is_recorded_as_json(settings: Settings, engine: Engine) -> None:
    from decimal import Decimal

    def priced(_ctx: ToolContext, _args: EchoArgs) -> ToolResult:
        return ToolResult(summary="priced", data={"on": date(2026, 11, 1), "price": Decimal("12.50")})

    runner = ToolRunner(
        settings=settings,
        engine=engine,
        registry=Registry(
            [ToolSpec(name="echo", description="Price.", args_model=EchoArgs, func=priced, risk="write")]  # type: ignore[arg-type]
        ),
    )
    execution = runner.call("echo", {"word": "hi"}, actor="alice")
    assert execution.run is not None
    stored = runner.runs.get(execution.run.id or 0)
    assert (stored.status, stored.output) == (
        RunStatus.SUCCEEDED,
        {
            "result": {
                **ToolResult(summary="priced").model_dump(),
                "data": {"on": "2026-11-01", "price": "12.50"},
            }
        },
    )


def test_a_tool_writes_to_its_runners_audit_log_through_its_context(
    settings: Settings, engine: Engine
) -> None:
    def noting(ctx: ToolContext, args: EchoArgs) -> ToolResult:
        ctx.audit.append("echo.noted", actor=ctx.actor, subject="tool:echo", data={"word": args.word})
        return ToolResult(summary=args.word)

    runner = ToolRunner(
        settings=settings,
        engine=engine,
        registry=Registry(
            [ToolSpec(name="echo", description="Note.", args_model=EchoArgs, func=noting, risk="read")]  # type: ignore[arg-type]
        ),
    )
    assert runner.context(actor="alice").audit is runner.audit
    runner.call("echo", {"word": "hi"}, actor="alice")
    noted = [
        (r.event, json.loads(r.data)) for r in AuditLog(engine).iter_records() if r.event == "echo.noted"
    ]
    assert noted == [("echo.noted", {"word": "hi"})]


def test_a_bound_call_run_without_attempt_or_source_is_a_first_attempt_from_the_cli(
    settings: Settings, engine: Engine
) -> None:
    writer = _runner(settings, engine, Echo())
    done = writer.run(BoundCall.of("echo", EchoArgs(word="hi")), actor="alice")
    assert done.run is not None
    assert (done.run.attempt, done.run.versions["source"], done.result.data["source"]) == (1, "cli", "cli")
    reader = _runner(settings, engine, Echo(), risk="read")
    reader.run(BoundCall.of("echo", EchoArgs(word="yo")), actor="alice")
    (call,) = [r for r in AuditLog(engine).iter_records() if r.event == "tool.call"]
    assert json.loads(call.data)["source"] == "cli"
