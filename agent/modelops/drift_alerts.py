"""Drift flags as alerts: one ``model_drift`` alert per window and tool (or ``overall``), through the alert rules.

The alert's subject names the window (``drift:2026-W47:run_report``), so each window alerts on its own. The
alert manager's debounce row for that subject is kept, so a window that already alerted never alerts again, even
after the rule's debounce time: a report run every hour of a week sends a week's flag once. The measures a tool
crosses in one window go in one message.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from agent.modelops.drift_models import DriftReport, Flag
from core.store.models import AlertState
from flows.operations.alerts import AlertEvent, AlertManager

EVENT: AlertEvent = "model_drift"


@dataclass(frozen=True)
class DriftAlert:
    """One window's alert about one tool (or ``overall``): the groups notified, or none when it had alerted."""

    window: str
    scope: str
    subject: str
    message: str
    notified: tuple[str, ...]
    already: bool


def subject_of(window: str, scope: str) -> str:
    """The alert subject of a window and tool."""
    return f"drift:{window}:{scope}"


def _message(flags: list[Flag]) -> str:
    first = flags[0]
    measures = "; ".join(flag.message.split(": ", 1)[1] for flag in flags)
    return f"Model drift: {first.scope} in {first.window}: {measures}."


def _alerted(alerts: AlertManager, subject: str) -> bool:
    keys = [f"{rule.event}:{rule.notify}:{subject}" for rule in alerts.settings.alerts if rule.event == EVENT]
    if not keys:
        return False
    with Session(alerts.engine) as session:
        found = session.execute(select(col(AlertState.key)).where(col(AlertState.key).in_(keys))).first()
    return found is not None


def raise_drift_alerts(*, report: DriftReport, alerts: AlertManager) -> list[DriftAlert]:
    """Alert once per window and flagged scope; returns what was raised and what had been already."""
    grouped: dict[tuple[str, str], list[Flag]] = {}
    for flag in report.flags:
        grouped.setdefault((flag.window, flag.scope), []).append(flag)
    raised: list[DriftAlert] = []
    for (window, scope), flags in grouped.items():
        subject = subject_of(window, scope)
        message = _message(flags)
        if _alerted(alerts, subject):
            raised.append(DriftAlert(window, scope, subject, message, (), already=True))
            continue
        notified = alerts.raise_alert(EVENT, subject, message)
        raised.append(DriftAlert(window, scope, subject, message, tuple(notified), already=False))
    return raised
