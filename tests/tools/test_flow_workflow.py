"""A named flow under the durable engine: a workflow whose steps are its steps, each retried by its own policy.

A step that fails for a reason that may pass (the receiver answered 503) is tried again after its delay, each
attempt a run of its own linked to the one before; the last attempt's failure dead-letters the step and, when the
step was required, the flow run. A failure that can't pass (bad input) is not retried.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dbos import DBOS
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from core.durable import durable_config
from core.errors import DeliveryFailed, NotFound
from core.store.runs import Run, RunStatus
from flows.config import Pipeline, PipelineStep, RetryPolicy, StepRetry, WebhookDestination
from flows.demo.data import load_demo
from switchboard.settings import Settings
from tests.conftest import REFERENCE_DATE
from tests.utils.servers.http import HttpReceiver
from tools.durable import engine_running
from tools.registry import build_registry
from tools.runtime import ToolRunner

EXPORT = PipelineStep(
    tool="export_dataset", args={"dataset": "sales_by_region", "format": "csv", "period": "last_month"}
)


def push(file: str = "latest", *, attempts: int = 3) -> PipelineStep:
    """The delivery step to the ERP's webhook, with its retry policy (no waiting, so the test is quick)."""
    return PipelineStep(
        tool="deliver_file",
        args={"file": file, "destination": "erp_webhook"},
        retry=StepRetry(attempts=attempts, delay_s=0, backoff=1),
    )


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


def running(settings: Settings, engine: Engine, receiver: HttpReceiver, *steps: PipelineStep) -> Any:
    load_demo(engine=engine, settings=settings, today=REFERENCE_DATE)
    configured = settings.model_copy(
        update={
            # The delivery itself tries once, so every retry seen here is the step's.
            "retry": RetryPolicy(attempts=1, base_delay_s=0),
            "destinations": {
                **settings.destinations,
                "erp_webhook": WebhookDestination(
                    url=f"{receiver.url}/erp", secret_name="erp_secret", timeout_s=5
                ),
            },
            "secrets": {"erp_secret": SecretStr("s3cret")},
            "pipelines": {**settings.pipelines, "invoice_run": Pipeline(steps=list(steps))},
        }
    )
    runner = ToolRunner(settings=configured, engine=engine, registry=build_registry())
    return runner, engine_running(runner, durable_config(configured, role="test"))


def attempts(runner: ToolRunner, flow_run: Run) -> list[tuple[str, RunStatus, int, bool]]:
    """Each step run: its tool, status, attempt, and whether it links to the run before it."""
    steps = runner.runs.steps(flow_run.id or 0)
    return [
        (step.name, step.status, step.attempt, step.parent_id == (steps[i - 1].id if i else None))
        for i, step in enumerate(steps)
    ]


def test_each_flow_step_is_a_step_of_the_flows_workflow(
    settings: Settings, engine: Engine, receiver: HttpReceiver
) -> None:
    runner, engine_on = running(settings, engine, receiver, EXPORT, push())
    with engine_on:
        done = runner.call("run_flow", {"flow": "invoice_run"}, actor="olive", idempotency_key="flow:test")
        steps = [step["function_name"] for step in DBOS.list_workflow_steps("flow:test")]

    assert done.run is not None and done.run.status == RunStatus.SUCCEEDED
    assert steps == ["run_flow.open", "export_dataset", "deliver_file", "run_flow.close"]


def test_a_step_failing_for_a_passing_reason_is_retried_until_it_succeeds(
    settings: Settings, engine: Engine, receiver: HttpReceiver
) -> None:
    receiver.respond_next(503, 503)
    runner, engine_on = running(settings, engine, receiver, EXPORT, push())
    with engine_on:
        done = runner.call("run_flow", {"flow": "invoice_run"}, actor="olive")

    assert done.run is not None and done.run.status == RunStatus.SUCCEEDED
    assert len(receiver.requests) == 3
    steps = runner.runs.steps(done.run.id or 0)
    assert [(s.name, s.status, s.attempt) for s in steps] == [
        ("export_dataset", RunStatus.SUCCEEDED, 1),
        ("deliver_file", RunStatus.FAILED, 1),
        ("deliver_file", RunStatus.FAILED, 2),
        ("deliver_file", RunStatus.SUCCEEDED, 3),
    ]
    # Each attempt is linked to the one before it; the first to nothing.
    assert [s.parent_id for s in steps[1:]] == [None, steps[1].id, steps[2].id]


def test_a_required_step_that_uses_up_its_attempts_dead_letters_the_flow(
    settings: Settings, engine: Engine, receiver: HttpReceiver
) -> None:
    receiver.respond(503, times=10)
    runner, engine_on = running(settings, engine, receiver, EXPORT, push())
    with (
        engine_on,
        pytest.raises(
            DeliveryFailed, match=r"^invoice_run stopped at step 2 \(deliver_file\) after 3 attempts: "
        ),
    ):
        runner.call("run_flow", {"flow": "invoice_run"}, actor="olive")

    flow = runner.runs.latest(name="invoice_run")
    assert flow is not None and flow.status == RunStatus.DEAD_LETTERED
    assert len(receiver.requests) == 3
    steps = runner.runs.steps(flow.id or 0)
    assert [(s.name, s.status, s.attempt, s.max_attempts) for s in steps[1:]] == [
        ("deliver_file", RunStatus.FAILED, 1, 3),
        ("deliver_file", RunStatus.FAILED, 2, 3),
        ("deliver_file", RunStatus.DEAD_LETTERED, 3, 3),
    ]


def test_an_optional_step_that_uses_up_its_attempts_leaves_the_flow_partial(
    settings: Settings, engine: Engine, receiver: HttpReceiver
) -> None:
    receiver.respond(503, times=10)
    optional = push(attempts=2).model_copy(update={"continue_on_error": True})
    runner, engine_on = running(settings, engine, receiver, EXPORT, optional)
    with engine_on:
        done = runner.call("run_flow", {"flow": "invoice_run"}, actor="olive")

    assert done.run is not None and done.run.status == RunStatus.PARTIAL
    assert (done.run.error or "").startswith("step 2 (deliver_file) failed after 2 attempts: ")
    assert [s.status for s in runner.runs.steps(done.run.id or 0)] == [
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
        RunStatus.DEAD_LETTERED,
    ]


def test_a_failure_that_cannot_pass_is_not_retried(
    settings: Settings, engine: Engine, receiver: HttpReceiver
) -> None:
    runner, engine_on = running(settings, engine, receiver, push(file="999"))
    with engine_on, pytest.raises(NotFound, match=r"^invoice_run stopped at step 1 \(deliver_file\): "):
        runner.call("run_flow", {"flow": "invoice_run"}, actor="olive")

    flow = runner.runs.latest(name="invoice_run")
    assert flow is not None and flow.status == RunStatus.FAILED  # retryable by hand, not dead-lettered
    assert [(s.status, s.attempt) for s in runner.runs.steps(flow.id or 0)] == [(RunStatus.FAILED, 1)]
    assert receiver.requests == []
