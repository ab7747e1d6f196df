"""The sweeps every process's ticker attempts on approval requests: expiry and reminders.

Each is one ``UPDATE ... RETURNING`` that matches only rows nobody handled yet: a racing process waits for the row
locks, re-checks the ``WHERE`` and gets nothing back, so each request is expired, or claimed for a reminder, once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from core.store.approvals import ApprovalRequest, ApprovalStatus, due_for_expiry, due_for_reminder
from core.store.audit import AuditEvent, append_in
from core.store.db import utcnow, write_session


def expire_due(*, engine: Engine, now: datetime | None = None) -> list[ApprovalRequest]:
    """Mark every pending request past its expiry as expired; returns those this call expired."""
    now = now or utcnow()
    reason = "expired before anyone decided"
    changes = {
        "status": ApprovalStatus.EXPIRED,
        "decided_at": now,
        "decided_by": "system",
        "decision_reason": reason,
    }
    return _claim(
        engine,
        due_for_expiry(now),
        changes,
        event=lambda r: AuditEvent("approval.expired", "system", f"approval:{r.id}", {"reason": reason}),
    )


def claim_reminders(*, engine: Engine, now: datetime, window: timedelta) -> list[ApprovalRequest]:
    """Mark pending requests expiring within ``window`` as reminded; returns those this call marked."""
    return _claim(engine, due_for_reminder(now, window), {"reminded_at": now}, event=None)


def _claim(
    engine: Engine,
    due: list[ColumnElement[bool]],
    changes: dict[str, Any],
    *,
    event: Callable[[ApprovalRequest], AuditEvent] | None,
) -> list[ApprovalRequest]:
    with Session(engine) as session:
        # Most ticks find nothing due: a plain read spares them SQLite's write lock and a durable commit.
        if session.execute(select(col(ApprovalRequest.id)).where(*due).limit(1)).first() is None:
            return []
    with write_session(engine, durable=True) as session:
        query = update(ApprovalRequest).where(*due).values(**changes).returning(ApprovalRequest)
        claimed = list(session.execute(query, execution_options={"synchronize_session": False}).scalars())
        if claimed and event is not None:
            append_in(session, [event(r) for r in claimed])
        session.expunge_all()
    return sorted(claimed, key=lambda r: (r.expires_at, r.id))
