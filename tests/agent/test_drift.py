"""The drift report over a seeded week of audit records: the drifting tool is flagged, and alerted once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from agent.modelops.drift import build_report
from agent.modelops.drift_alerts import raise_drift_alerts
from agent.modelops.drift_models import DriftReport
from agent.modelops.drift_service import drift_report, live_fingerprint, report_range
from agent.modelops.drift_vocab import training_vocabulary
from agent.state import DecisionRecord
from core.errors import BadInput
from core.store.audit import AuditLog, ensure_head
from flows.operations.alerts import AlertManager
from switchboard.settings import Settings
from tests.utils.drift import MONDAY, NOW, seed_baseline, seed_week


@pytest.fixture
def week(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    seed_baseline(Path(settings.var_dir))
    seed_week(engine, monkeypatch)
    return engine


def _week_report(settings: Settings, engine: Engine) -> DriftReport:
    start, end = report_range(kind="week", now=NOW, days=7)
    return drift_report(settings=settings, engine=engine, kind="week", start=start, end=end)


def test_the_week_flags_the_tool_whose_confidence_falls_and_corrections_rise(
    settings: Settings, week: Engine
) -> None:
    report = _week_report(settings, week)
    assert [w.label for w in report.windows] == ["2026-W47"]
    assert report.flagged == ["apply_rules"]
    window = report.windows[0]
    assert [(f.scope, f.measure) for f in window.flags] == [
        ("apply_rules", "correction_rate"),
        ("apply_rules", "confidence_drop"),
        ("apply_rules", "psi"),
    ]
    rate, drop, shift = window.flags
    assert rate.message == (
        "apply_rules in 2026-W47: correction rate 30% (21 of 70 decisions), threshold 15%"
    )
    assert drop.value == pytest.approx(0.18)
    assert drop.message.endswith("mean confidence 0.68 against the baseline's 0.86, threshold 0.15")
    assert shift.value >= 0.2 and "most in the bins" in shift.message
    tools = {stats.scope: stats for stats in window.tools}
    assert sorted(tools) == ["apply_rules", "export_dataset", "list_runs", "run_report"]
    quiet = tools["run_report"]
    assert (quiet.decisions, quiet.corrections.total, quiet.correction_rate) == (70, 1, 0.0143)
    assert quiet.confidence_drop == pytest.approx(0.0) and quiet.psi is not None and quiet.psi.value < 0.01
    drifting = tools["apply_rules"]
    assert (drifting.corrections.declined, drifting.corrections.other_choice) == (9, 12)
    assert window.overall.decisions == 280 and window.overall.oos_share == 0.0
    assert window.vocabulary is not None and window.vocabulary.unseen == 0


def test_day_windows_show_the_trend(settings: Settings, week: Engine) -> None:
    start, end = report_range(kind="day", now=NOW, days=7)
    report = drift_report(
        settings=settings, engine=week, kind="day", start=start, end=end, tool="apply_rules"
    )
    assert [w.label for w in report.windows] == [f"2026-11-{day}" for day in range(16, 23)]
    means = [w.tools[0].confidence_mean for w in report.windows]
    assert means == sorted(means, reverse=True) and means[0] == pytest.approx(0.858)
    assert [w.tools[0].corrections.total for w in report.windows] == list(range(7))
    # 10 decisions a day per tool are under min_decisions; overall (40 a day) shifts late in the week.
    assert [(f.window, f.scope, f.measure) for f in report.flags] == [
        ("2026-11-20", "overall", "psi"),
        ("2026-11-21", "overall", "psi"),
        ("2026-11-22", "overall", "correction_rate"),
        ("2026-11-22", "overall", "psi"),
    ]


def test_the_alert_fires_once_per_window_however_often_the_report_runs(
    settings: Settings, week: Engine
) -> None:
    sent: list[dict[str, Any]] = []
    clock = {"now": NOW}
    alerts = AlertManager(
        settings=settings, engine=week, send=lambda **kw: sent.append(kw), clock=lambda: clock["now"]
    )
    first = raise_drift_alerts(report=_week_report(settings, week), alerts=alerts)
    clock["now"] += timedelta(days=2)  # past the rule's debounce: the window still alerted already
    second = raise_drift_alerts(report=_week_report(settings, week), alerts=alerts)
    assert [(a.subject, a.notified, a.already) for a in first] == [
        ("drift:2026-W47:apply_rules", ("ops",), False)
    ]
    assert [(a.subject, a.notified, a.already) for a in second] == [("drift:2026-W47:apply_rules", (), True)]
    assert [(m["channel"], m["recipient"]) for m in sent] == [("email", "ops")]
    assert sent[0]["message"].startswith(
        "[Switchboard alert] Model drift: apply_rules in 2026-W47: correction rate 30% (21 of 70 decisions)"
    )
    raised = [r for r in AuditLog(week).iter_records() if r.event == "alert.raised"]
    assert [r.subject for r in raised] == ["model_drift:ops:drift:2026-W47:apply_rules"]


def test_without_a_baseline_only_the_corrections_flag(settings: Settings, week: Engine) -> None:
    report = build_report(
        engine=week,
        limits=settings.drift,
        kind="week",
        start=MONDAY,
        end=NOW,
        baseline=None,
        vocabulary=None,
    )
    assert report.baseline is None
    assert [(f.scope, f.measure) for f in report.flags] == [("apply_rules", "correction_rate")]


def test_new_words_and_out_of_scope_messages_are_measured(settings: Settings, engine: Engine) -> None:
    ensure_head(engine)
    log = AuditLog(engine)
    for index in range(30):
        words, tool = (
            ("frobnicate the zorblax", None) if index % 2 else ("export customers to csv", "export_dataset")
        )
        data = DecisionRecord(tool=tool, confidence=0.5, action="execute" if tool else "refuse", text=words)
        log.append("agent.decision", actor="olive", data=data.model_dump(mode="json"))
    now = datetime.now(UTC)
    report = build_report(
        engine=engine,
        limits=settings.drift,
        kind="week",
        start=now - timedelta(hours=1),
        end=now + timedelta(minutes=1),
        baseline=None,
        vocabulary=training_vocabulary(live_fingerprint(Path(settings.var_dir))),
    )
    assert [(f.measure, f.value) for f in report.flags] == [("oos_share", 0.5), ("new_vocabulary", 0.2857)]
    vocabulary = next(w.vocabulary for w in report.windows if w.overall.decisions)
    assert vocabulary is not None
    assert (vocabulary.tokens, vocabulary.unseen) == (105, 30)
    assert [(t.token, t.count) for t in vocabulary.top] == [("frobnicate", 15), ("zorblax", 15)]


def test_a_range_must_be_in_the_past_and_not_too_long() -> None:
    with pytest.raises(BadInput, match="--days must be between 1 and 366, not 0"):
        report_range(kind="day", now=NOW, days=0)
    with pytest.raises(BadInput, match="is not in the past"):
        report_range(kind="day", now=NOW, since=NOW + timedelta(hours=1))


def test_the_report_follows_a_promoted_router(tmp_path: Path) -> None:
    from agent.backends.factory import examples_fingerprint
    from agent.modelops.candidate_models import LivePointer
    from agent.modelops.candidate_store import router_folder, write_pointer

    assert live_fingerprint(tmp_path) == examples_fingerprint()
    pointer = LivePointer(live="cand1", history=[], updated_at=datetime.now(UTC), updated_by="ada")
    write_pointer(tmp_path, pointer)
    assert live_fingerprint(tmp_path) == examples_fingerprint(), "a router that is not kept is never live"
    router_folder(tmp_path, "cand1").mkdir(parents=True)
    (router_folder(tmp_path, "cand1") / "router.json").write_text("{}", encoding="utf-8")
    assert live_fingerprint(tmp_path) == "cand1"


def test_the_background_tick_checks_drift_once_an_hour_and_alerts_once(
    settings: Settings, week: Engine
) -> None:
    from agent.modelops.drift_check import DriftCheck

    sent: list[dict[str, Any]] = []
    alerts = AlertManager(
        settings=settings, engine=week, send=lambda **kw: sent.append(kw), clock=lambda: NOW
    )
    check = DriftCheck(settings=settings, engine=week, alerts=alerts)
    tick = timedelta(seconds=settings.tick_seconds)
    assert [check.due(NOW + k * tick) for k in range(3)] == [True, False, False]
    assert check.due(NOW + timedelta(hours=1))
    assert check.run(NOW) >= 1
    assert check.run(NOW + timedelta(hours=1)) == 0, "a window that alerted never alerts again"
    subjects = [r.subject for r in AuditLog(week).iter_records() if r.event == "alert.raised"]
    assert "model_drift:ops:drift:2026-W47:apply_rules" in subjects
    assert len(sent) == len(subjects) and len(set(subjects)) == len(subjects)
    off = DriftCheck(
        settings=settings.model_copy(
            update={"drift": settings.drift.model_copy(update={"check_every_s": 0})}
        ),
        engine=week,
    )
    assert not off.due(NOW)
