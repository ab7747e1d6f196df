"""Writes through the durable engine: one execution per key, and a run its own workflow left is taken over."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from core.durable import durable_config
from core.errors import NotFound
from core.store.runs import RunStatus
from flows.demo.data import load_demo
from switchboard.settings import Settings
from tests.conftest import REFERENCE_DATE
from tools.durable import engine_running
from tools.registry import build_registry
from tools.runtime import ToolRunner

EXPORT = {"dataset": "sales_by_region", "format": "csv", "period": "last_month"}


@pytest.fixture
def runner(settings: Settings, engine: Engine) -> Iterator[ToolRunner]:
    load_demo(engine=engine, settings=settings, today=REFERENCE_DATE)
    runner = ToolRunner(settings=settings, engine=engine, registry=build_registry())
    with engine_running(runner, durable_config(settings, role="test")):
        yield runner


def test_the_same_key_twice_executes_once(runner: ToolRunner) -> None:
    first = runner.call("export_dataset", EXPORT, actor="olive", idempotency_key="approval:a1")
    second = runner.call("export_dataset", EXPORT, actor="olive", idempotency_key="approval:a1")

    assert first.run is not None and second.run is not None
    assert second.run.id == first.run.id and second.replayed and not first.replayed
    # The first one's outcome, as the engine recorded it, shown as a repeat.
    assert second.result.summary == f"Already done in run {first.run.id}: {first.result.summary}"
    assert second.result.data == first.result.data
    assert [r.name for r in runner.runs.list(name="export_dataset")] == ["export_dataset"]


def test_a_call_without_a_key_gets_one_so_a_crash_can_find_its_run(runner: ToolRunner) -> None:
    done = runner.call("export_dataset", EXPORT, actor="olive")

    assert done.run is not None and done.run.status == RunStatus.SUCCEEDED
    assert (done.run.idempotency_key or "").startswith("call:")


def test_an_error_comes_back_as_its_own_class_with_its_message(runner: ToolRunner) -> None:
    with pytest.raises(NotFound) as raised:
        runner.call("deliver_file", {"file": "999", "destination": "finance_share"}, actor="olive")

    assert "999" in raised.value.message
    failed = runner.runs.latest(name="deliver_file")
    assert failed is not None and failed.status == RunStatus.FAILED and failed.error == raised.value.message


def test_an_execution_names_its_tool_and_arguments_and_its_run_what_was_asked(runner: ToolRunner) -> None:
    parent = runner.call("export_dataset", EXPORT, actor="olive", source="console")
    step = runner.call("export_dataset", EXPORT, actor="olive", pipeline_run_id=parent.run.id)  # type: ignore[union-attr]

    assert (parent.tool, parent.args.model_dump(mode="json"), parent.replayed) == (
        "export_dataset",
        EXPORT,
        False,
    )
    assert step.run is not None and parent.run is not None
    assert (parent.run.versions["source"], parent.run.kind, parent.run.inputs) == (
        "console",
        "tool",
        parent.args.model_dump(mode="json"),
    )
    assert (step.run.versions["source"], step.run.kind, step.run.pipeline_run_id) == (
        "cli",
        "step",
        parent.run.id,
    )


def test_a_retry_is_a_new_attempt_linked_to_the_run_it_retries(runner: ToolRunner) -> None:
    call = {"file": "999", "destination": "finance_share"}
    with pytest.raises(NotFound):
        runner.call("deliver_file", call, actor="olive")
    failed = runner.runs.latest(name="deliver_file")
    assert failed is not None

    with pytest.raises(NotFound):
        runner.retry(failed.id or 0, actor="alice")
    again = runner.runs.latest(name="deliver_file")
    assert again is not None and again.id != failed.id
    assert (again.parent_id, again.attempt, again.idempotency_key, again.actor, again.versions["source"]) == (
        failed.id,
        2,
        f"retry:{failed.id}",
        "alice",
        "cli",
    )
    assert again.inputs == failed.inputs
    # one retry per run: asking again shows that retry's outcome instead of making a third run
    with pytest.raises(NotFound):
        runner.retry(failed.id or 0, actor="alice")
    assert [r.id for r in runner.runs.list(name="deliver_file")] == [again.id, failed.id]
