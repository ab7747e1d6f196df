"""Tools call tools through their context: only composition roots build runners, and their listeners see every run."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from pydantic import Field
from sqlalchemy.engine import Engine

from core.errors import DeliveryFailed
from core.store.runs import Run
from flows.config import RetryPolicy
from flows.demo.data import load_demo
from switchboard.settings import Settings
from tools import runs
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
from tools.registry import Registry, build_registry
from tools.runs import RetryRunArgs
from tools.runtime import ToolRunner

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "flows", "tools", "agent", "bot", "console", "evals", "switchboard", "benchmarks")
NOTE = {"channel": "email", "recipient": "ops@example.com", "message": "hi"}


def builds_a_runner(source: str) -> bool:
    """Whether the code calls ``ToolRunner(...)`` (by name or as an attribute)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called == "ToolRunner":
                return True
    return False


def test_only_the_composition_roots_build_a_tool_runner() -> None:
    builders = sorted(
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if builds_a_runner(path.read_text(encoding="utf-8"))
    )
    # The service and the CLI, and two benchmarks that are programs of their own (they prepare data directly).
    assert builders == [
        "agent/service.py",
        "benchmarks/durable.py",
        "benchmarks/hosts.py",
        "switchboard/app.py",
    ]


def test_the_checker_sees_a_runner_being_built() -> None:
    assert builds_a_runner(
        "from tools import runtime\nr = runtime.ToolRunner(settings=s, engine=e, registry=g)"
    )
    assert builds_a_runner("r = ToolRunner(settings=s, engine=e, registry=g)")
    assert not builds_a_runner("from tools.runtime import ToolRunner\ndef f(r: ToolRunner) -> None: ...")


class Seen:
    """A run listener that records each finished run."""

    def __init__(self) -> None:
        self.runs: list[tuple[int | None, str, str, int, int | None, int | None, str]] = []

    def __call__(self, _ctx: ToolContext, run: Run) -> None:
        source = str(run.versions["source"])
        self.runs.append(
            (run.id, run.name, run.status.value, run.attempt, run.parent_id, run.pipeline_run_id, source)
        )


def test_flow_steps_run_on_the_flows_own_runner_so_its_listeners_see_them(
    settings: Settings, engine: Engine
) -> None:
    load_demo(engine=engine, settings=settings, today=date(2026, 11, 22))
    fast = settings.model_copy(update={"retry": RetryPolicy(attempts=1, base_delay_s=0)})
    runner = ToolRunner(settings=fast, engine=engine, registry=build_registry())
    seen = Seen()
    runner.listeners.append(seen)
    execution = runner.call("run_flow", {"flow": "nightly_sales_export"}, actor="olive", source="console")
    assert execution.run is not None and execution.run.id == 1
    step = "flow:nightly_sales_export"
    assert seen.runs == [
        (2, "export_dataset", "succeeded", 1, None, 1, step),
        (3, "deliver_file", "succeeded", 1, None, 1, step),
        (4, "send_notification", "failed", 1, None, 1, step),  # no mail server here; the flow goes on
        (1, "nightly_sales_export", "partial", 1, None, None, "console"),  # a step failed: never succeeded
    ]
    assert {s.actor for s in runner.runs.steps(1)} == {"olive"}


class WordArgs(ToolArgs):
    word: str = Field(min_length=1)


def _always_down(_ctx: ToolContext, _args: WordArgs) -> ToolResult:
    raise DeliveryFailed("the far side is down")


def test_retry_run_makes_its_attempt_on_the_runner_that_runs_it(settings: Settings, engine: Engine) -> None:
    echo = ToolSpec(name="echo", description="Echo.", args_model=WordArgs, risk="write", func=_always_down)
    runner = ToolRunner(settings=settings, engine=engine, registry=Registry([echo, *runs.TOOLS]))
    seen = Seen()
    runner.listeners.append(seen)
    with pytest.raises(DeliveryFailed):
        runner.call("echo", {"word": "x"}, actor="olive")
    with pytest.raises(DeliveryFailed):
        runner.retry(1, actor="olive")
    with pytest.raises(DeliveryFailed, match="^the far side is down$"):
        runner.call("retry_run", {"run_id": 2}, actor="olive", source="chat")
    assert seen.runs == [
        (1, "echo", "failed", 1, None, None, "cli"),
        (2, "echo", "failed", 2, 1, None, "cli"),
        (4, "echo", "dead_lettered", 3, 2, None, "chat"),  # the last attempt, made by the retry_run run
        (3, "retry_run", "failed", 1, None, None, "chat"),
    ]


def _failed(runner: ToolRunner, *, name: str, tool: str, inputs: dict[str, object]) -> int:
    run, _ = runner.runs.create(name=name, actor="olive", inputs=inputs, versions={"tool": tool})
    assert run.id is not None
    runner.runs.start(run.id)
    runner.runs.fail(run.id, error="smtp down", code="delivery_failed")
    return run.id


def test_a_retry_is_gated_as_the_call_it_repeats(settings: Settings, engine: Engine) -> None:
    runner = ToolRunner(settings=settings, engine=engine, registry=build_registry())
    note = _failed(runner, name="send_notification", tool="send_notification", inputs=NOTE)
    flow = _failed(runner, name="customer_sync", tool="run_flow", inputs={"flow": "customer_sync"})
    retry = runner.registry["retry_run"]
    ctx = runner.context(actor="olive")

    def gated(run_id: int) -> tuple[str, dict[str, object], str]:
        spec, args = retry.gated_call(ctx, RetryRunArgs(run_id=run_id))
        return spec.name, args.model_dump(mode="json"), spec.effective_risk(settings, args)

    assert gated(note) == ("send_notification", NOTE, "external")
    assert gated(flow) == ("run_flow", {"flow": "customer_sync"}, "write")  # a flow run ran run_flow
    # Nothing to repeat (no such run, or no context): the retry is weighed as itself, and running it says why.
    assert gated(99) == ("retry_run", {"run_id": 99}, "write")
    assert retry.gated_call(None, RetryRunArgs(run_id=note))[0] is retry


def test_the_approver_sees_the_first_calls_preview_under_the_retry(
    settings: Settings, engine: Engine
) -> None:
    runner = ToolRunner(settings=settings, engine=engine, registry=build_registry())
    note = _failed(runner, name="send_notification", tool="send_notification", inputs=NOTE)
    preview = runner.registry["retry_run"].preview
    assert preview is not None
    shown = preview(runner.context(actor="olive"), RetryRunArgs(run_id=note))
    first = runner.registry["send_notification"].preview
    assert first is not None
    seen_first = first(runner.context(actor="olive"), runner.registry.parse_args("send_notification", NOTE))
    assert shown.model_dump() == {
        **seen_first.model_dump(),
        "summary": "Runs send_notification(channel=email, recipient=ops@example.com, message=hi) again as "
        f"attempt 2 of run {note}, which failed: smtp down. {seen_first.summary}",
        "details": {**seen_first.details, "run_id": note, "tool": "send_notification", "attempt": 2},
    }
