"""Alert rules from the config: notify a recipient group when something goes wrong, debounced.

One failure must not send fifty messages: each alert key (event + subject) notifies at most once per debounce
window, and the alerts suppressed in between are counted and mentioned in the next message. That holds across
processes: the key's row is made by ``INSERT ... ON CONFLICT DO NOTHING``, else read ``FOR UPDATE``, so of two
processes raising the same alert at once exactly one sends and the other counts itself as suppressed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import col

from core.errors import SwitchboardError
from core.store.audit import AuditEvent, append_in
from core.store.db import utcnow, write_session
from core.store.models import AlertState
from core.store.runs import Run, RunStatus
from flows.config import AlertRule, FlowSettings

logger = logging.getLogger(__name__)

AlertEvent = Literal[
    "run_failed", "dead_letter", "data_quality_below", "approval_expiring", "schedule_missed", "model_drift"
]
Sender = Callable[..., Any]


@dataclass
class AlertManager:
    """Evaluates alert rules and sends through ``flows.delivery.notify`` (or an injected sender)."""

    settings: FlowSettings
    engine: Engine
    send: Sender | None = None
    clock: Callable[[], datetime] = utcnow

    def on_run_finished(self, _ctx: Any, run: Run) -> None:
        """Run listener: alert on failed, partial and dead-lettered runs."""
        if run.pipeline_run_id is not None:
            # A step's failure is reported once, by its flow run, which names the step.
            return
        if run.status == RunStatus.PARTIAL:
            self.raise_alert(
                "run_failed", f"run:{run.name}", f"Run {run.id} ({run.name}) partly failed: {run.error}"
            )
        elif run.status == RunStatus.FAILED:
            self.raise_alert(
                "run_failed", f"run:{run.name}", f"Run {run.id} ({run.name}) failed: {run.error}"
            )
        elif run.status == RunStatus.DEAD_LETTERED:
            self.raise_alert(
                "dead_letter",
                f"run:{run.name}",
                f"Run {run.id} ({run.name}) is dead-lettered after {run.attempt} attempts: {run.error}",
            )

    def data_quality(self, score: float, *, subject: str = "data_quality") -> None:
        """Alert when a data-quality score falls below a rule's threshold."""
        for rule in self._rules("data_quality_below"):
            if rule.threshold is not None and score < rule.threshold:
                self._fire(
                    rule, subject, f"Data quality is {score:.0%}, below the {rule.threshold:.0%} threshold."
                )

    def raise_alert(self, event: AlertEvent, subject: str, message: str) -> list[str]:
        """Fire every rule for ``event``; returns the groups actually notified (not debounced)."""
        return [rule.notify for rule in self._rules(event) if self._fire(rule, subject, message)]

    def _rules(self, event: str) -> list[AlertRule]:
        return [rule for rule in self.settings.alerts if rule.event == event]

    def _fire(self, rule: AlertRule, subject: str, message: str) -> bool:
        key = f"{rule.event}:{rule.notify}:{subject}"
        now = self.clock()
        with write_session(self.engine) as session:
            # A racing insert of the same key waits (PostgreSQL) for this one to commit and then does nothing,
            # so only the process whose insert took sends a key's first alert.
            created = session.execute(_insert_once(self.engine, key, now)).first() is not None
            suppressed = 0
            if not created:
                # The row lock makes the window check and the reset one step: a racing process reads the row
                # only after this one commits, and then finds the window just restarted.
                locked = select(AlertState).where(col(AlertState.key) == key).with_for_update()
                state = session.execute(locked).scalar_one()
                if _aware(state.last_sent_at) + timedelta(seconds=rule.debounce_s) > now:
                    state.suppressed += 1
                    session.add(state)
                    return False
                suppressed = state.suppressed
                state.last_sent_at, state.suppressed = now, 0
                session.add(state)
            append_in(
                session,
                [AuditEvent("alert.raised", "alerts", key, {"message": message, "group": rule.notify})],
            )
        if suppressed:
            message += f" ({suppressed} similar alert(s) suppressed since the last message.)"
        self._deliver(rule.notify, message, idempotency_key=f"alert:{key}:{now.isoformat()}")
        return True

    def _deliver(self, group: str, message: str, *, idempotency_key: str) -> None:
        members = self.settings.recipient_groups.get(group, [])
        channels = sorted({member.channel for member in members})
        if not channels:
            logger.warning("alert group %s has no members; alert not sent", group)
            return
        send = self.send
        if send is None:
            from flows.delivery.notify import send_notification

            send = send_notification
        for channel in channels:
            try:
                send(
                    engine=self.engine,
                    settings=self.settings,
                    channel=channel,
                    recipient=group,
                    message=f"[Switchboard alert] {message}",
                    idempotency_key=f"{idempotency_key}:{channel}",
                )
            except SwitchboardError as exc:
                # An alert that cannot be delivered is logged, never raised into the run that triggered it.
                logger.warning("alert to %s via %s failed: %s", group, channel, exc.message)


def _insert_once(engine: Engine, key: str, now: datetime) -> ReturningInsert[tuple[str]]:
    """``INSERT INTO alertstate ... ON CONFLICT (key) DO NOTHING RETURNING key``: a row back when it was created."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    row = {"key": key, "last_sent_at": now, "suppressed": 0}
    return (
        insert(AlertState)
        .values(row)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(AlertState.key))
    )


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)
