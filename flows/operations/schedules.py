"""Cron schedules for named flows: store, list, pause, and work out which runs are due or were missed.

Cron semantics are standard (croniter: weekday 0 = Sunday). The scheduler that fires them lives with the
long-running service (``switchboard serve``); this module only holds the deterministic parts, so a missed run can be computed and tested without a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from croniter import CroniterBadDateError, croniter
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from core.errors import BadInput, NotFound
from core.store.audit import AuditEvent, append_in
from core.store.db import utcnow, write_session
from core.store.models import Schedule
from core.text import clip_repr

MAX_CRON_CHARS = 100
# A fixed start for the "does it ever fire" check, so the answer never depends on today's date.
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def canonical_cron(expr: str) -> str:
    """Validate a 5-field cron expression and return it with single spaces.

    An expression must also fire at some time: ``0 0 31 2 *`` (31 February) is refused.

    Raises:
        BadInput: naming the expression and what is wrong with it.
    """
    if len(expr) > MAX_CRON_CHARS:
        raise BadInput(
            f"cron {clip_repr(expr, 60)} is longer than the limit of {MAX_CRON_CHARS} characters",
            field="cron",
        )
    fields = expr.split()
    if len(fields) != 5:
        raise BadInput(f"cron {expr!r} must have 5 fields (minute hour day month weekday), not {len(fields)}")
    canonical = " ".join(fields)
    if not croniter.is_valid(canonical):
        raise BadInput(
            f"cron {expr!r} is not valid: check the ranges (minute 0-59, hour 0-23, day 1-31, "
            "month 1-12, weekday 0-6 with 0 = Sunday)"
        )
    if next_fire(canonical, after=_EPOCH) is None:
        raise BadInput(
            f"cron {canonical!r} never fires: none of the months it names has that day (February has at "
            "most 29 days; April, June, September and November have 30)"
        )
    return canonical


def next_fire(cron: str, *, after: datetime) -> datetime | None:
    """The first time strictly after ``after`` at which ``cron`` fires (UTC), or None when it never does."""
    try:
        fire: datetime = croniter(cron, _aware(after)).get_next(datetime)
    except (
        CroniterBadDateError
    ):  # a date that never occurs (31 February), stored before canonical_cron refused it
        return None
    return fire


@dataclass(frozen=True)
class ScheduleResult:
    """Outcome of creating a schedule."""

    schedule: Schedule
    created: bool


def create_schedule(
    *, engine: Engine, flow: str, cron: str, actor: str, now: datetime | None = None
) -> ScheduleResult:
    """Store a schedule (idempotent per flow and cron) and audit it."""
    cron = canonical_cron(cron)
    now = now or utcnow()
    with write_session(engine) as session:
        existing = session.execute(
            select(Schedule).where(col(Schedule.flow) == flow, col(Schedule.cron) == cron)
        ).scalar_one_or_none()
        if existing is not None:
            session.expunge(existing)
            return ScheduleResult(existing, False)
        schedule = Schedule(
            flow=flow, cron=cron, created_by=actor, next_run_at=next_fire(cron, after=now), last_run_at=now
        )
        session.add(schedule)
        session.flush()
        append_in(
            session,
            [AuditEvent("schedule.created", actor, f"schedule:{schedule.id}", {"flow": flow, "cron": cron})],
        )
        session.refresh(schedule)
        session.expunge(schedule)
        return ScheduleResult(schedule, True)


def list_schedules(*, engine: Engine) -> list[Schedule]:
    """All schedules, oldest first."""
    with Session(engine) as session:
        return list(session.execute(select(Schedule).order_by(col(Schedule.id))).scalars())


def set_paused(*, engine: Engine, schedule_id: int, paused: bool, actor: str) -> Schedule:
    """Pause or resume a schedule."""
    with write_session(engine) as session:
        schedule = session.get(Schedule, schedule_id)
        if schedule is None:
            raise NotFound(f"schedule {schedule_id} does not exist")
        schedule.paused = paused
        session.add(schedule)
        append_in(
            session,
            [
                AuditEvent(
                    "schedule.paused" if paused else "schedule.resumed", actor, f"schedule:{schedule_id}", {}
                )
            ],
        )
        session.flush()
        session.refresh(schedule)
        session.expunge(schedule)
        return schedule


def due_schedules(*, engine: Engine, now: datetime) -> list[Schedule]:
    """Active schedules whose next fire time has passed (including ones missed while the service was down)."""
    with Session(engine) as session:
        rows = session.execute(
            select(Schedule).where(col(Schedule.paused).is_(False)).order_by(col(Schedule.id))
        ).scalars()
        return [s for s in rows if s.next_run_at is not None and _aware(s.next_run_at) <= now]


def mark_fired(*, engine: Engine, schedule_id: int, now: datetime) -> Schedule:
    """Record that a schedule ran at ``now``; a backlog of missed fires collapses into this one run."""
    with write_session(engine) as session:
        schedule = session.get(Schedule, schedule_id)
        if schedule is None:
            raise NotFound(f"schedule {schedule_id} does not exist")
        schedule.last_run_at = now
        schedule.next_run_at = next_fire(schedule.cron, after=now)
        session.add(schedule)
        session.flush()
        session.refresh(schedule)
        session.expunge(schedule)
        return schedule


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
