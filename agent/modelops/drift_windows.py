"""The drift report's time windows, and the audit records it reads for a time range.

Windows are calendar days or ISO weeks (Monday to Monday) in UTC, so a window has the same name on every run:
an alert raised for ``2026-W47`` is raised once, however often the report runs that week. Only the ``ts``,
``event`` and ``data`` columns of the wanted events in the range are read (``ts`` is indexed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import Engine

from agent.modelops.events import CORRECTION_EVENT, CorrectionData
from agent.state import DecisionRecord
from core.errors import BadInput
from core.store.audit import AuditRecord

logger = logging.getLogger(__name__)
DECISION_EVENT = "agent.decision"
WindowKind = Literal["day", "week"]
_RECORDS = AuditRecord.__table__  # type: ignore[attr-defined]
MAX_WINDOWS = 400  # a day window over more than a year is not a report anyone reads


@dataclass(frozen=True)
class Window:
    """One window: ``[start, end)`` in UTC, named ``2026-11-16`` (a day) or ``2026-W47`` (a week)."""

    label: str
    start: datetime
    end: datetime


@dataclass
class Observations:
    """The decisions and corrections of a time range, oldest first, each with its time."""

    decisions: list[tuple[datetime, DecisionRecord]] = field(default_factory=list)
    corrections: list[tuple[datetime, CorrectionData]] = field(default_factory=list)
    unreadable: int = 0


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def window_of(moment: datetime, kind: WindowKind) -> Window:
    """The window ``moment`` falls in."""
    day = moment.astimezone(UTC).date()
    if kind == "day":
        return Window(day.isoformat(), _midnight(day), _midnight(day + timedelta(days=1)))
    monday = day - timedelta(days=day.weekday())
    year, week, _ = monday.isocalendar()
    return Window(f"{year}-W{week:02d}", _midnight(monday), _midnight(monday + timedelta(days=7)))


def windows(*, kind: WindowKind, start: datetime, end: datetime) -> list[Window]:
    """The windows that overlap ``[start, end)``, oldest first.

    Raises:
        BadInput: The range is empty or would make more than ``MAX_WINDOWS`` windows.
    """
    if end <= start:
        raise BadInput(f"the range is empty: {start:%Y-%m-%d %H:%M} is not before {end:%Y-%m-%d %H:%M}")
    found: list[Window] = []
    current = window_of(start, kind)
    while current.start < end:
        found.append(current)
        if len(found) > MAX_WINDOWS:
            raise BadInput(f"more than {MAX_WINDOWS} {kind} windows: choose a shorter range or --window week")
        current = window_of(current.end, kind)
    return found


def _stamp(moment: datetime) -> str:
    # The audit log's own format (core.store.audit.append_in), so string order is time order.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def audit_rows(
    *, engine: Engine, events: Sequence[str], start: datetime, end: datetime, batch: int = 5000
) -> Iterator[tuple[datetime, str, str]]:
    """``(time, event, data)`` of the records of ``events`` in ``[start, end)``, oldest first, in batches."""
    query = (
        select(_RECORDS.c.ts, _RECORDS.c.event, _RECORDS.c.data)
        .where(_RECORDS.c.ts >= _stamp(start), _RECORDS.c.ts < _stamp(end), _RECORDS.c.event.in_(events))
        .order_by(_RECORDS.c.seq)
    )
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
        for ts, event, data in result:
            yield datetime.fromisoformat(ts), str(event), str(data)


def observe(*, engine: Engine, start: datetime, end: datetime) -> Observations:
    """Read the decisions and corrections audited in ``[start, end)``; unreadable records are counted, not fatal."""
    found = Observations()
    for moment, event, data in audit_rows(
        engine=engine, events=(DECISION_EVENT, CORRECTION_EVENT), start=start, end=end
    ):
        try:
            if event == DECISION_EVENT:
                found.decisions.append((moment, DecisionRecord.model_validate_json(data)))
            else:
                found.corrections.append((moment, CorrectionData.model_validate_json(data)))
        except ValidationError:
            found.unreadable += 1
    if found.unreadable:
        logger.warning("drift report skipped %d unreadable audit record(s)", found.unreadable)
    return found
