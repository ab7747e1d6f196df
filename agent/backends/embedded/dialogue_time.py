"""Moving a thread's previous call in time: a schedule to another time of day, a period to the one before or after.

"make it 4 instead" or "no, 10pm" after a schedule, "and the week before?" after a report (``dialogue.py``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from agent.backends.embedded.extract.dates import format_range, resolve_period
from core.periods import add_months

# "make it 4 instead", "move it to 6:30" after a schedule: the new time of day.
_NEW_TIME = re.compile(
    r"\b(make|change|move|set|switch|push|bump|shift)\s+(it|that)\s+(to\s+)?(at\s+)?(\d{1,2})(:(\d{2}))?\s*(am|pm)?\b",
    re.I,
)
# "no, 10pm" after a schedule: the new time of day alone.
_BARE_TIME = re.compile(
    r"^\W*(?:(?:no|nah|actually|rather|better|instead)\W+)*(?:at\s+)?(\d{1,2})(:(\d{2}))?\s*(am|pm)\W*$", re.I
)


def moved_cron(text: str, cron: object) -> str | None:
    """``cron`` at the time of day ``text`` moves it to ("make it 4 instead"), when both are plain enough."""
    found = _NEW_TIME.search(text)
    if found is None and (bare := _BARE_TIME.match(text)) is not None:
        return _at_time(cron, int(bare.group(1)), int(bare.group(3) or 0), bare.group(4).lower())
    if found is None:
        return None
    return _at_time(cron, int(found.group(5)), int(found.group(7) or 0), (found.group(8) or "").lower())


def _at_time(cron: object, hour: int, minute: int, half: str) -> str | None:
    """``cron`` moved to ``hour``:``minute`` (``half`` "am", "pm" or ""), when it has a time of day to move."""
    if not isinstance(cron, str) or len(fields := cron.split()) != 5:
        return None
    if not (fields[0].isdigit() and fields[1].isdigit()):
        return None  # "every 15 minutes" has no time of day to move
    hour += 12 if half == "pm" and hour < 12 else 0
    hour -= 12 if half == "am" and hour == 12 else 0
    if hour > 23 or minute > 59:
        return None
    return " ".join([str(minute), str(hour), *fields[2:]])


def shift_period(period: str, step: int, *, today: date) -> str | None:
    """The period of the same length just before (``step`` -1) or after (+1) ``period``."""
    try:
        start, end = resolve_period(period, today=today)
    except ValueError:
        return None
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        first = add_months(start, step * months)
        return format_range(first, add_months(first, months) - timedelta(days=1))
    length = (end - start).days + 1
    return format_range(start + timedelta(days=step * length), end + timedelta(days=step * length))


def shift_back(period: str, *, today: date) -> str | None:
    """The period of the same length just before ``period`` ("last_week" → the week before it)."""
    return shift_period(period, -1, today=today)
