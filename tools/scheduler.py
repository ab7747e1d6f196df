"""Fires due schedules through the ToolRunner; used by ``switchboard serve`` and ``schedules run-due``.

A schedule missed while the service was down runs once at start: ``mark_fired`` moves the next fire time past
now, so a backlog collapses into one run, and the miss is reported through the ``schedule_missed`` alert.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from core.errors import SwitchboardError
from flows.operations.alerts import AlertManager
from flows.operations.schedules import due_schedules, mark_fired
from tools.runtime import ToolRunner

logger = logging.getLogger(__name__)
LATE_AFTER = timedelta(minutes=5)


def run_due_schedules(*, runner: ToolRunner, now: datetime) -> list[dict[str, Any]]:
    """Run every due schedule once; returns what was fired and how it went."""
    fired: list[dict[str, Any]] = []
    alerts = AlertManager(settings=runner.settings, engine=runner.engine)
    for schedule in due_schedules(engine=runner.engine, now=now):
        assert schedule.id is not None and schedule.next_run_at is not None
        due = (
            schedule.next_run_at
            if schedule.next_run_at.tzinfo
            else schedule.next_run_at.replace(tzinfo=now.tzinfo)
        )
        if now - due > LATE_AFTER:
            alerts.raise_alert(
                "schedule_missed",
                f"schedule:{schedule.id}",
                f"Scheduled run of {schedule.flow} due {due:%Y-%m-%d %H:%M} UTC did not start on time; running it now.",
            )
        mark_fired(engine=runner.engine, schedule_id=schedule.id, now=now)
        key = f"schedule:{schedule.id}:{due.isoformat()}"
        try:
            execution = runner.call(
                "run_flow",
                {"flow": schedule.flow},
                actor="scheduler",
                idempotency_key=key,
                source="scheduler",
            )
            fired.append(
                {
                    "schedule": schedule.id,
                    "flow": schedule.flow,
                    "status": "succeeded",
                    "run_id": execution.run.id if execution.run else None,
                }
            )
        except SwitchboardError as exc:
            logger.warning("scheduled run of %s failed: %s", schedule.flow, exc.message)
            fired.append(
                {"schedule": schedule.id, "flow": schedule.flow, "status": "failed", "error": exc.message}
            )
    return fired
