"""Background work on a DBOS schedule: due flow schedules, approval expiry and reminders, audit checkpoints, drift.

Every process that runs the durable engine registers the same schedule (``switchboard-tick``, every
``tick_seconds``). DBOS gives each fire time one workflow id, so a tick runs once across all processes and hosts,
on whichever process dequeues it; no process needs to be "the leader", and a tick a crash interrupted is finished
by the recovering process. Inside the tick each due schedule runs as a child workflow keyed by its slot
(``schedule:<id>:<due time>``), so a fire time runs its flow once even when two ticks see it due.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dbos import DBOS

from agent.approvals import ApprovalService
from agent.modelops.drift_check import DriftCheck
from core.durable import Slot
from core.errors import SwitchboardError
from core.store.checkpoints import Checkpointer
from tools.runtime import ToolRunner
from tools.scheduler import run_due_schedules

logger = logging.getLogger(__name__)
SCHEDULE = "switchboard-tick"
QUEUE = "switchboard-ticks"  # only processes that serve take ticks from it (not a CLI command about to exit)

_served: Slot[Ticker] = Slot()


@dataclass
class Ticker:
    """One round of background work, on one process's runner and approval service."""

    runner: ToolRunner
    approvals: ApprovalService
    checkpoints: Checkpointer | None = None
    drift: DriftCheck | None = None

    def tick(self, now: datetime) -> dict[str, Any]:
        """Fire due schedules, expire overdue requests, remind approvers, sign a due audit checkpoint, check drift.

        Each part is isolated from the others.
        """
        report: dict[str, Any] = {"fired": [], "expired": 0, "reminded": 0, "checkpoint": None, "drift": 0}
        try:
            report["fired"] = run_due_schedules(runner=self.runner, now=now)
        except Exception:
            logger.exception("running due schedules failed")
        try:
            report["expired"] = len(self.approvals.expire_due(now=now))
        except Exception:
            logger.exception("expiring approval requests failed")
        try:
            report["reminded"] = len(self.approvals.remind_due(now=now))
        except Exception:
            logger.exception("sending approval reminders failed")
        if self.checkpoints is not None:
            report["checkpoint"] = _checkpoint(self.checkpoints)
        if self.drift is not None and self.drift.due(now):
            try:
                report["drift"] = self.drift.run(now)
            except Exception:
                logger.exception("checking the router's drift failed")
        if any(report.values()):
            logger.info("background tick", extra=report)
        return report


def _checkpoint(checkpoints: Checkpointer) -> int | None:
    try:
        # The wall clock, not the tick's scheduled time: the checkpoint's time is what a verifier reads.
        written = checkpoints.run(now=datetime.now(UTC))
    except SwitchboardError as exc:  # tampering, or a key or file problem: said on every tick until fixed
        logger.error("audit checkpoint not written: %s", exc.message, extra={"code": exc.code})
        return None
    except Exception:
        logger.exception("writing the audit checkpoint failed")
        return None
    return written.seq if written is not None else None


def serve(ticker: Ticker, *, every_s: int) -> None:
    """Run this process's share of the ticks on ``ticker``, every ``every_s`` seconds (the engine must run)."""
    _served.set(ticker)
    DBOS.register_queue(QUEUE, worker_concurrency=1)
    cron = f"*/{every_s} * * * * *"  # seconds first
    DBOS.apply_schedules(
        [{"schedule_name": SCHEDULE, "workflow_fn": _tick, "schedule": cron, "queue_name": QUEUE}]
    )


def stop() -> None:
    """This process no longer runs ticks (the schedule stays for the other processes)."""
    _served.clear()


@DBOS.workflow(name="switchboard.tick")
def _tick(scheduled_at: datetime, _context: Any) -> None:
    ticker = _served.get()
    if ticker is None:  # dequeued while this process shuts down: the next tick does the same work
        logger.warning("tick at %s skipped: this process no longer serves ticks", scheduled_at)
        return
    ticker.tick(scheduled_at)
