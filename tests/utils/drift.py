"""A week of audited decisions and corrections for the drift report, and a baseline to compare them with.

The week is 2026-W47 (Monday 16 to Sunday 22 November 2026). Three quiet tools keep the baseline's confidences and
are corrected once in the week; ``apply_rules`` loses 0.06 of confidence a day and is corrected once more each day.
Every record goes through the real audit log, its clock set to the record's time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from agent.backends.base import Decision
from agent.modelops.drift_baseline import Baseline, compute_baseline, save_baseline
from agent.modelops.drift_service import live_fingerprint
from agent.modelops.events import CORRECTION_EVENT, CorrectionData
from agent.state import DecisionRecord
from core.store import audit
from core.store.audit import AuditLog, ensure_head
from tests.utils.fake_backend import ScriptedBackend

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
# The baseline's confidences for each tool, and the quiet tools' every day.
CYCLE = (0.62, 0.71, 0.78, 0.84, 0.88, 0.91, 0.93, 0.95, 0.97, 0.99)
QUIET = {
    "run_report": "show me last month's sales by region",
    "export_dataset": "export customers to csv",
    "list_runs": "list the failed runs",
}
DRIFTING = ("apply_rules", "apply the vip tiering rules")
DAILY_DROP = 0.06


def seed_baseline(var_dir: Path) -> Baseline:
    """The baseline of the live router's fingerprint: 40 dev messages per tool at ``CYCLE``'s confidences."""
    by_text: dict[str, Decision] = {}
    for tool in [*QUIET, DRIFTING[0]]:
        for index in range(40):
            by_text[f"{tool} {index}"] = Decision(tool=tool, confidence=CYCLE[index % len(CYCLE)])
    baseline = compute_baseline(
        backend=ScriptedBackend(by_text),
        texts=list(by_text),
        fingerprint=live_fingerprint(var_dir),
        today=date(2026, 11, 22),
        source="test dev split",
    )
    save_baseline(var_dir, baseline)
    return baseline


def _decision(tool: str, text: str, confidence: float) -> dict[str, object]:
    action = "execute" if confidence >= 0.6 else "clarify"
    record = DecisionRecord(tool=tool, confidence=round(confidence, 4), action=action, text=text)
    return record.model_dump(mode="json")


def _correction(tool: str, kind: str, confidence: float, number: int) -> dict[str, object]:
    data = CorrectionData.model_validate(
        {"kind": kind, "tool": tool, "confidence": round(confidence, 4), "candidate": f"c-{number}"}
    )
    return data.model_dump(mode="json")


def seed_week(engine: Engine, monkeypatch: pytest.MonkeyPatch, *, monday: datetime = MONDAY) -> None:
    """Audit the week: 10 decisions a day per tool; ``apply_rules`` falls and is corrected ``day`` times a day."""
    ensure_head(engine)
    log = AuditLog(engine)
    clock = {"now": monday}
    with monkeypatch.context() as patch:
        patch.setattr(audit, "utcnow", lambda: clock["now"])
        _write(log, clock, monday)


def _write(log: AuditLog, clock: dict[str, datetime], monday: datetime) -> None:
    corrections = 0
    for day in range(7):
        for index in range(10):
            clock["now"] = monday + timedelta(days=day, hours=8, minutes=index * 5)
            for tool, text in QUIET.items():
                log.append(
                    "agent.decision",
                    actor="olive",
                    subject="thread:t-q",
                    data=_decision(tool, text, CYCLE[index]),
                )
            tool, text = DRIFTING
            confidence = max(0.05, CYCLE[index] - DAILY_DROP * day)
            log.append(
                "agent.decision", actor="olive", subject="thread:t-d", data=_decision(tool, text, confidence)
            )
            if index < day:
                corrections += 1
                kind = "declined" if index % 2 else "other_choice"
                log.append(
                    CORRECTION_EVENT,
                    actor="olive",
                    subject="thread:t-d",
                    data=_correction(tool, kind, confidence, corrections),
                )
        if day == 3:
            corrections += 1
            data = _correction("run_report", "approval_rejected", 0.9, corrections)
            log.append(CORRECTION_EVENT, actor="ann", subject="thread:t-q", data=data)
