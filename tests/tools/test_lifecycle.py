"""RunLifecycle: how a failure is recorded, who hears of it, and how a repeated key is shown."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from core.errors import Conflict, DeliveryFailed, SwitchboardError
from core.store.runs import Run, RunStatus, RunStore
from switchboard.settings import Settings
from tests.utils.logs import captured_json, json_records
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
from tools.execution import Execution, InternalToolError
from tools.lifecycle import RunLifecycle
from tools.registry import Registry
from tools.runtime import ToolRunner


class WordArgs(ToolArgs):
    word: str


def _echo(ctx: ToolContext, args: WordArgs) -> ToolResult:
    return ToolResult(summary=args.word)


SPEC = ToolSpec(name="echo", description="Echo a word.", args_model=WordArgs, risk="write", func=_echo)  # type: ignore[arg-type]


class Heard:
    """A listener that keeps what it was told, then fails the way a broken alert channel does."""

    def __init__(self) -> None:
        self.calls: list[tuple[ToolContext, Run]] = []

    def __call__(self, ctx: ToolContext, run: Run) -> None:
        self.calls.append((ctx, run))
        raise RuntimeError("the alert channel is down")


def _started(settings: Settings, engine: Engine, heard: Heard) -> tuple[RunLifecycle, ToolContext]:
    runner = ToolRunner(settings=settings, engine=engine, registry=Registry([SPEC]))
    lifecycle = RunLifecycle(settings, RunStore(engine), [heard])
    ctx = runner.context(actor="alice", pipeline_run_id=7)
    run, replayed = lifecycle.open(
        SPEC, WordArgs(word="hi"), ctx, {"word": "hi"}, parent_id=None, attempt=1, source="cli"
    )
    assert replayed is None
    return lifecycle, replace(ctx, run_id=run.id)


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (DeliveryFailed("the far side is down"), RunStatus.FAILED, "the far side is down"),
        (
            DeliveryFailed("the far side is down", dead_lettered=True),
            RunStatus.DEAD_LETTERED,
            "the far side is down",
        ),
        (InternalToolError("echo failed", cause="KeyError"), RunStatus.FAILED, "internal error (KeyError)"),
        (InternalToolError("echo failed"), RunStatus.FAILED, "internal error (unknown)"),
    ],
)
def test_a_failure_is_recorded_and_heard_under_its_run(
    settings: Settings, engine: Engine, error: SwitchboardError, status: RunStatus, message: str
) -> None:
    heard = Heard()
    lifecycle, ctx = _started(settings, engine, heard)
    with captured_json() as logs:
        lifecycle.record_failure(ctx, error)
    run = lifecycle.runs.get(ctx.run_id or 0)
    assert (run.status, run.error) == (status, message)
    assert [(c, r.id, r.status) for c, r in heard.calls] == [(ctx, run.id, status)]
    # the listener's failure is logged with the run it was about, and never changes the run
    (line,) = [r for r in json_records(logs) if r["msg"].startswith("run listener failed")]
    assert (line["msg"], line["run_id"], line["pipeline_run_id"]) == (
        f"run listener failed for run {run.id}",
        run.id,
        7,
    )


def test_a_finished_run_is_replayed_as_the_repeat_it_is(settings: Settings, engine: Engine) -> None:
    lifecycle, ctx = _started(settings, engine, Heard())
    run = lifecycle.runs.succeed(ctx.run_id or 0, {})  # a run recorded with no result keeps a default one
    args = WordArgs(word="hi")
    execution = lifecycle.replay(SPEC, args, run)
    assert execution == Execution(
        "echo", args, ToolResult(summary=f"Already done in run {run.id}: already done"), run, replayed=True
    )


def test_a_failed_run_is_not_replayed(settings: Settings, engine: Engine) -> None:
    lifecycle, ctx = _started(settings, engine, Heard())
    run = lifecycle.runs.fail(ctx.run_id or 0, error="down")
    with pytest.raises(Conflict) as caught:
        lifecycle.replay(SPEC, WordArgs(word="hi"), run)
    details: dict[str, Any] = caught.value.details
    assert (str(caught.value), details) == (
        f"this request already ran as run {run.id}, which is failed; use retry_run to try again",
        {"run_id": run.id, "status": "failed"},
    )
