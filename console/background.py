"""Background work of ``switchboard serve``: due schedules, approval expiry and reminders, every 30 seconds.

The first tick runs as soon as the scheduler starts, so a schedule missed while the service was down runs once
at start (``run_due_schedules`` collapses a backlog into one run). With several worker processes only the one
holding ``var/locks/background.lock`` does the work; when it dies, another takes over at its next tick.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from agent.service import Switchboard
from core.locks import LeaderLock
from core.store.db import utcnow
from tools.scheduler import run_due_schedules

logger = logging.getLogger(__name__)
TICK_SECONDS = 30


@dataclass
class Background:
    """Fires due schedules, expires overdue approval requests and sends reminders."""

    switchboard: Switchboard
    interval_s: float = TICK_SECONDS
    clock: Callable[[], datetime] = utcnow
    leader: LeaderLock | None = None
    _scheduler: BackgroundScheduler | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        """One leader per var folder, so workers never fire a schedule or send a reminder twice."""
        if self.leader is None:
            self.leader = LeaderLock(self.switchboard.settings.var_dir / "locks" / "background.lock")

    def tick(self) -> dict[str, Any]:
        """One round; each part is isolated so one failing never stops the others."""
        now = self.clock()
        report: dict[str, Any] = {"fired": [], "expired": 0, "reminded": 0}
        if self.leader is not None and not self.leader.try_acquire():
            return report  # another worker process is the leader
        try:
            report["fired"] = run_due_schedules(runner=self.switchboard.runner, now=now)
        except Exception:
            logger.exception("running due schedules failed")
        try:
            report["expired"] = len(self.switchboard.approvals.expire_due(now=now))
        except Exception:
            logger.exception("expiring approval requests failed")
        try:
            report["reminded"] = len(self.switchboard.approvals.remind_due(now=now))
        except Exception:
            logger.exception("sending approval reminders failed")
        if report["fired"] or report["expired"] or report["reminded"]:
            logger.info("background tick", extra=report)
        return report

    def start(self) -> None:
        """Start ticking now and every ``interval_s`` seconds."""
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.interval_s,
            id="switchboard-tick",
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
        )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        """Stop and wait for a running tick to finish."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        if self.leader is not None:
            self.leader.release()
