"""Alert rules: who is told, when, and that one failure (or two processes seeing it) does not send fifty messages."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.store.audit import AuditLog
from core.store.db import make_engine
from core.store.models import AlertState
from core.store.runs import Run, RunStatus
from flows.operations.alerts import AlertManager
from switchboard.settings import Settings
from tests.core.racing import race


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


def test_two_processes_raising_the_same_alerts_notify_once_each_time(
    settings: Settings, any_engine: Engine
) -> None:
    url = any_engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url) for _ in range(2)]
    sent: list[dict[str, Any]] = []
    lock = threading.Lock()

    def send(**kw: Any) -> None:
        with lock:
            sent.append(kw)

    clock = Clock()
    # One manager per process, each on an engine (a connection pool) of its own.
    managers = [AlertManager(settings=settings, engine=e, send=send, clock=clock) for e in engines]
    subjects = [f"run:flow{i}" for i in range(4)]

    def raise_all(manager: AlertManager) -> list[list[str]]:
        return [manager.raise_alert("run_failed", s, f"{s} failed") for s in subjects]

    try:
        first = race(managers, raise_all, engines=engines, meet_after="alertstate")
        clock.now += timedelta(seconds=901)  # past the debounce window: each key may notify once more
        second = race(managers, raise_all, engines=engines, meet_after="alertstate")
    finally:
        for engine in engines:
            engine.dispose()

    # Per subject, one process notified ops and the other was debounced, both times.
    for groups in (first, second):
        assert [sorted(pair) for pair in zip(*groups, strict=True)] == [[[], ["ops"]]] * len(subjects)
    assert sorted(m["message"] for m in sent) == sorted(
        [f"[Switchboard alert] {s} failed" for s in subjects]
        + [
            f"[Switchboard alert] {s} failed (1 similar alert(s) suppressed since the last message.)"
            for s in subjects
        ]
    )
    raised = [r.subject for r in AuditLog(any_engine).iter_records() if r.event == "alert.raised"]
    assert sorted(raised) == sorted(f"run_failed:ops:{s}" for s in subjects for _ in range(2))
    with Session(any_engine) as session:
        states = session.exec(select(AlertState)).all()
    assert {s.key: (s.last_sent_at.replace(tzinfo=UTC), s.suppressed) for s in states} == {
        f"run_failed:ops:{s}": (clock.now, 1) for s in subjects
    }
