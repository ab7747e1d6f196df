"""Alert rules: who is told, when, and that one failure does not send fifty messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from core.store.audit import AuditLog
from core.store.runs import Run, RunStatus
from flows.operations.alerts import AlertManager
from switchboard.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _manager(settings: Settings, engine: Engine) -> tuple[AlertManager, list[dict[str, Any]], Clock]:
    sent: list[dict[str, Any]] = []
    clock = Clock()
    return (
        AlertManager(settings=settings, engine=engine, send=lambda **kw: sent.append(kw), clock=clock),
        sent,
        clock,
    )


def _run(status: RunStatus, *, run_id: int = 7, attempt: int = 1) -> Run:
    return Run(id=run_id, name="invoice_run", status=status, attempt=attempt, error="bank_sftp unreachable")


def test_failed_run_notifies_ops_once_per_debounce_window(settings: Settings, engine: Engine) -> None:
    alerts, sent, clock = _manager(settings, engine)
    for _ in range(50):
        alerts.on_run_finished(None, _run(RunStatus.FAILED))
    assert [(m["channel"], m["recipient"]) for m in sent] == [("email", "ops")]
    assert sent[0]["message"] == "[Switchboard alert] Run 7 (invoice_run) failed: bank_sftp unreachable"
    clock.now += timedelta(seconds=901)
    alerts.on_run_finished(None, _run(RunStatus.FAILED, run_id=8))
    assert len(sent) == 2
    assert sent[1]["message"].endswith("(49 similar alert(s) suppressed since the last message.)")
    events = [r.event for r in AuditLog(engine).iter_records()]
    assert events.count("alert.raised") == 2


def test_dead_letter_and_data_quality_rules(settings: Settings, engine: Engine) -> None:
    alerts, sent, _ = _manager(settings, engine)
    alerts.on_run_finished(None, _run(RunStatus.DEAD_LETTERED, attempt=3))
    alerts.data_quality(0.97)
    alerts.data_quality(0.90)
    assert [m["message"] for m in sent] == [
        "[Switchboard alert] Run 7 (invoice_run) is dead-lettered after 3 attempts: bank_sftp unreachable",
        "[Switchboard alert] Data quality is 90%, below the 95% threshold.",
    ]


def test_succeeded_runs_raise_nothing(settings: Settings, engine: Engine) -> None:
    alerts, sent, _ = _manager(settings, engine)
    alerts.on_run_finished(None, _run(RunStatus.SUCCEEDED))
    assert sent == []


def test_a_failing_sender_never_raises_into_the_run(settings: Settings, engine: Engine) -> None:
    from core.errors import DeliveryFailed

    def broken(**_: Any) -> None:
        raise DeliveryFailed("smtp down")

    alerts = AlertManager(settings=settings, engine=engine, send=broken)
    assert alerts.raise_alert("run_failed", "run:x", "boom") == ["ops"]


def test_a_partial_flow_alerts_as_failed_naming_its_step_and_its_steps_stay_quiet(
    settings: Settings, engine: Engine
) -> None:
    alerts, sent, _ = _manager(settings, engine)
    step = Run(
        id=9, name="send_notification", status=RunStatus.FAILED, pipeline_run_id=8, error="mail server down"
    )
    alerts.on_run_finished(None, step)
    alerts.on_run_finished(
        None,
        Run(
            id=8,
            name="nightly_sales_export",
            status=RunStatus.PARTIAL,
            error="step 3 (send_notification) failed: mail server down",
        ),
    )
    assert [(m["recipient"], m["message"]) for m in sent] == [
        (
            "ops",
            "[Switchboard alert] Run 8 (nightly_sales_export) partly failed: step 3 (send_notification) "
            "failed: mail server down",
        )
    ]
