"""Named flows: every step is a recorded child run; 'latest' means this run's own artifact; failures stop it.

A step allowed to fail (the finance notification) makes the flow run partial, never succeeded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from core.errors import DeliveryFailed, NotFound
from core.store.runs import RunStatus
from flows.config import Pipeline, PipelineStep, RetryPolicy, SmtpConfig
from flows.demo.data import load_demo
from flows.operations.alerts import AlertManager
from switchboard.settings import Settings
from tests.utils.servers.ports import free_port
from tests.utils.servers.smtp import SmtpServer
from tools.registry import build_registry
from tools.runtime import RunListener, ToolRunner


def notify_error(smtp_server: SmtpServer) -> str:
    """What the finance notification step fails with when the mail server refuses the mailbox."""
    return (
        "notification to finance failed for email:finance@example.com: the mail server at "
        f"127.0.0.1:{smtp_server.port} answered 550 5.1.1 Mailbox unavailable"
    )


@pytest.fixture
def runner(settings: Settings, engine: Engine, smtp_server: SmtpServer) -> ToolRunner:
    return _runner(settings, engine, smtp_server)


def _runner(
    settings: Settings, engine: Engine, smtp_server: SmtpServer, *, listeners: list[RunListener] | None = None
) -> ToolRunner:
    load_demo(engine=engine, settings=settings, today=date(2026, 11, 22))
    fast = settings.model_copy(
        update={
            "retry": RetryPolicy(attempts=1, base_delay_s=0),
            "smtp": SmtpConfig(host="127.0.0.1", port=smtp_server.port, sender="switchboard@example.com"),
        }
    )
    return ToolRunner(settings=fast, engine=engine, registry=build_registry(), listeners=listeners or [])


def test_nightly_export_delivers_to_the_share_and_records_each_step(
    runner: ToolRunner, var_dir: Path, smtp_server: SmtpServer
) -> None:
    execution = runner.call("run_flow", {"flow": "nightly_sales_export"}, actor="olive")
    assert execution.run is not None and execution.run.name == "nightly_sales_export"
    assert (execution.run.status, execution.run.error) == (RunStatus.SUCCEEDED, None)
    steps = runner.runs.steps(execution.run.id or 0)
    assert [(s.name, s.status) for s in steps] == [
        ("export_dataset", RunStatus.SUCCEEDED),
        ("deliver_file", RunStatus.SUCCEEDED),
        ("send_notification", RunStatus.SUCCEEDED),
    ]
    assert steps[1].inputs["file"] == str(execution.result.artifact_ids[0])
    assert len(execution.result.artifact_ids) == 1  # exported once, delivered: one artifact, listed once
    assert execution.result.summary == "Flow nightly_sales_export finished: 3 of 3 steps succeeded."
    assert len(list((var_dir / "share" / "finance").glob("sales_by_region_2026-11-21.csv"))) == 1
    assert [m.text.strip() for m in smtp_server.messages] == ["Nightly sales export delivered."]


def test_a_failed_notify_step_makes_the_flow_partial_and_alerts_once(
    settings: Settings, any_engine: Engine, smtp_server: SmtpServer
) -> None:
    sent: list[dict[str, Any]] = []
    alerts = AlertManager(settings=settings, engine=any_engine, send=lambda **kw: sent.append(kw))
    runner = _runner(settings, any_engine, smtp_server, listeners=[alerts.on_run_finished])
    smtp_server.fail_next("550 5.1.1 Mailbox unavailable")

    execution = runner.call("run_flow", {"flow": "nightly_sales_export"}, actor="olive")

    run = execution.run
    assert run is not None and run.id is not None
    assert (run.status, run.error_code) == (RunStatus.PARTIAL, "partial")
    assert run.error == f"step 3 (send_notification) failed: {notify_error(smtp_server)}"
    assert execution.result.summary == "Flow nightly_sales_export finished: 2 of 3 steps succeeded."
    assert [(s.name, s.status) for s in runner.runs.steps(run.id)] == [
        ("export_dataset", RunStatus.SUCCEEDED),
        ("deliver_file", RunStatus.SUCCEEDED),
        ("send_notification", RunStatus.FAILED),
    ]
    assert runner.runs.get(run.id).status == RunStatus.PARTIAL  # as stored, on SQLite and PostgreSQL
    # One alert, from the flow run, naming the step; the step's own failure does not alert a second time.
    assert [(m["recipient"], m["message"]) for m in sent] == [
        (
            "ops",
            f"[Switchboard alert] Run {run.id} (nightly_sales_export) partly failed: step 3 (send_notification) "
            f"failed: {notify_error(smtp_server)}",
        )
    ]
    runner.today = lambda: datetime.now(UTC).date()  # the runs were made now, not on the demo's pinned date
    failed = runner.call("list_runs", {"status": "failed"}, actor="olive").result
    assert failed.summary == (
        f"1 failed run in the last 7 days; 1 of them partly failed (a step failed): run {run.id} "
        "(nightly_sales_export)."
    )
    assert failed.table is not None
    assert [row[:3] for row in failed.table.rows] == [[run.id, "nightly_sales_export", "partial"]]


def test_a_flow_whose_every_step_failed_is_failed_not_partial(runner: ToolRunner, settings: Settings) -> None:
    notify = PipelineStep(
        tool="send_notification",
        args={"channel": "email", "recipient": "finance", "message": "hello"},
        continue_on_error=True,
    )
    runner.settings = runner.settings.model_copy(
        update={
            "pipelines": {**settings.pipelines, "customer_sync": Pipeline(steps=[notify])},
            "smtp": SmtpConfig(host="127.0.0.1", port=free_port()),  # nothing listens there
        }
    )

    with pytest.raises(DeliveryFailed, match=r"^customer_sync failed: every step failed; step 1 "):
        runner.call("run_flow", {"flow": "customer_sync"}, actor="olive")
    flow_run = runner.runs.latest(name="customer_sync")
    assert flow_run is not None and flow_run.status == RunStatus.FAILED


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
