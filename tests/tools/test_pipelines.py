"""Named flows: every step is a recorded child run; 'latest' means this run's own artifact; failures stop it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from core.errors import NotFound
from core.store.runs import RunStatus
from flows.config import Pipeline, PipelineStep, RetryPolicy
from flows.demo.data import load_demo
from switchboard.settings import Settings
from tools.registry import build_registry
from tools.runtime import ToolRunner


@pytest.fixture
def runner(settings: Settings, engine: Engine) -> ToolRunner:
    load_demo(engine=engine, settings=settings, today=date(2026, 11, 22))
    fast = settings.model_copy(update={"retry": RetryPolicy(attempts=1, base_delay_s=0)})
    return ToolRunner(settings=fast, engine=engine, registry=build_registry())


def test_nightly_export_delivers_to_the_share_and_records_each_step(
    runner: ToolRunner, var_dir: Path
) -> None:
    execution = runner.call("run_flow", {"flow": "nightly_sales_export"}, actor="olive")
    assert execution.run is not None and execution.run.name == "nightly_sales_export"
    assert execution.run.status == RunStatus.SUCCEEDED
    steps = runner.runs.steps(execution.run.id or 0)
    assert [(s.name, s.status) for s in steps] == [
        ("export_dataset", RunStatus.SUCCEEDED),
        ("deliver_file", RunStatus.SUCCEEDED),
        (
            "send_notification",
            RunStatus.FAILED,
        ),  # no mail server here; the step may fail without failing the flow
    ]
    assert steps[1].inputs["file"] == str(execution.result.artifact_ids[0])
    assert execution.result.summary == "Flow nightly_sales_export finished: 2 of 3 steps succeeded."
    assert len(list((var_dir / "share" / "finance").glob("sales_by_region_2026-11-21.csv"))) == 1


def test_a_failed_step_stops_the_flow_and_fails_its_run(runner: ToolRunner, settings: Settings) -> None:
    broken = {
        "broken": Pipeline(
            steps=[
                PipelineStep(
                    tool="deliver_file", args={"file": "no-such-file", "destination": "finance_share"}
                ),
                PipelineStep(tool="apply_rules", args={"ruleset": "vip_tiering"}),
            ]
        )
    }
    runner.settings = runner.settings.model_copy(
        update={"pipelines": {**settings.pipelines, "invoice_run": broken["broken"]}}
    )
    with pytest.raises(NotFound, match=r"invoice_run stopped at step 1 \(deliver_file\)"):
        runner.call("run_flow", {"flow": "invoice_run"}, actor="olive")
    flow_run = runner.runs.latest(name="invoice_run")
    assert flow_run is not None and flow_run.status == RunStatus.FAILED
    assert [s.name for s in runner.runs.steps(flow_run.id or 0)] == ["deliver_file"]


def test_run_flow_is_external_when_a_step_delivers(runner: ToolRunner) -> None:
    spec = runner.registry["run_flow"]
    args = spec.args_model.model_validate({"flow": "nightly_sales_export"})
    assert spec.effective_risk(runner.settings, args) == "external"
    args = spec.args_model.model_validate({"flow": "customer_sync"})
    assert spec.effective_risk(runner.settings, args) == "write"
