"""A run's log lines carry its run id: the tool's own, the runner's on a crash, and its listeners'."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import Field
from sqlalchemy.engine import Engine

from core.logs import bind
from core.store.runs import Run
from switchboard.settings import Settings
from tests.utils.logs import captured_json, json_records
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
from tools.registry import Registry
from tools.runtime import InternalToolError, ToolRunner

tool_log = logging.getLogger("tests.tools.run_logs")


class WordArgs(ToolArgs):
    word: str = Field(min_length=1)


def say(_ctx: ToolContext, args: WordArgs) -> ToolResult:
    tool_log.info("saying %s", args.word)
    if args.word == "crash":
        raise ZeroDivisionError("boom")
    return ToolResult(summary=args.word)


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    with captured_json() as stream:
        yield stream


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    return json_records(stream)


def test_every_line_of_a_run_carries_its_run_id(
    settings: Settings, engine: Engine, lines: io.StringIO
) -> None:
    spec = ToolSpec(name="say", description="Say a word.", args_model=WordArgs, risk="write", func=say)  # type: ignore[arg-type]
    runner = ToolRunner(settings=settings, engine=engine, registry=Registry([spec]))

    def listener(_ctx: ToolContext, run: Run) -> None:
        tool_log.info("run %s finished as %s", run.id, run.status.value)

    runner.listeners.append(listener)
    with bind(actor="olive"):
        first = runner.call("say", {"word": "hello"}, actor="olive")
        with pytest.raises(InternalToolError):
            runner.call("say", {"word": "crash"}, actor="olive")
        tool_log.info("between runs")
    assert first.run is not None
    ok, failed = first.run.id, (first.run.id or 0) + 1
    assert [(r["msg"], r.get("run_id"), r.get("actor")) for r in _records(lines)] == [
        ("saying hello", ok, "olive"),
        (f"run {ok} finished as succeeded", ok, "olive"),
        ("saying crash", failed, "olive"),
        (f"tool say failed in run {failed}", failed, "olive"),
        (f"run {failed} finished as failed", failed, "olive"),
        ("between runs", None, "olive"),
    ]
    crash = _records(lines)[3]
    assert crash["exc_type"] == "ZeroDivisionError" and "boom" in crash["exc"]
