"""The drift check the background tick runs: this day's and this week's report, and their alerts.

A tick is a DBOS scheduled workflow, run once per fire time across every process. The check runs on the ticks
whose scheduled time opens a ``check_every_s`` period, so it needs no state of its own, and the alert manager
sends each window's flag once however many checks see it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from agent.config import AgentSettings
from agent.modelops.drift_alerts import raise_drift_alerts
from agent.modelops.drift_service import drift_report
from agent.modelops.drift_windows import WindowKind, window_of
from flows.operations.alerts import AlertManager

logger = logging.getLogger(__name__)


@dataclass
class DriftCheck:
    """Drift alerts from the background tick, every ``settings.drift.check_every_s`` seconds."""

    settings: AgentSettings
    engine: Engine
    alerts: AlertManager | None = None  # the configured channels unless given

    def due(self, scheduled_at: datetime) -> bool:
        """Whether this tick opens a check period (ticks come every ``tick_seconds``)."""
        every = self.settings.drift.check_every_s
        return every > 0 and int(scheduled_at.timestamp()) % every < self.settings.tick_seconds

    def run(self, now: datetime) -> int:
        """Report the windows ``now`` falls in and raise their alerts; returns the alerts sent."""
        alerts = self.alerts or AlertManager(settings=self.settings, engine=self.engine)
        sent = 0
        kinds: tuple[WindowKind, ...] = ("day", "week")
        for kind in kinds:
            start = window_of(now, kind).start
            report = drift_report(
                settings=self.settings,
                engine=self.engine,
                kind=kind,
                start=start,
                end=now + timedelta(microseconds=1),
            )
            sent += sum(1 for alert in raise_drift_alerts(report=report, alerts=alerts) if alert.notified)
        return sent
