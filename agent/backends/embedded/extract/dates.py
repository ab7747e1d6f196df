"""Calendar arithmetic for periods: canonical Period keywords, explicit ranges and their resolution to dates.

Weeks start on Monday. The "this_*" keywords resolve to the part of the week, month, quarter or year up to and
including ``today``; "last_N_days" keywords are the N days ending with ``today``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from core.periods import PERIOD_KEYWORDS as PERIOD_KEYWORDS
from core.periods import resolve_period as flows_resolve_period

ROLLING_KEYWORDS: dict[int, str] = {7: "last_7_days", 30: "last_30_days", 90: "last_90_days"}
_RANGE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*\.\.\s*(\d{4})-(\d{2})-(\d{2})\s*$")

MONTHS: dict[str, int] = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
WEEKDAYS: dict[str, int] = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}


def format_range(start: date, end: date) -> str:
    """Format an inclusive date range as a canonical Period string.

    Args:
        start: First day.
        end: Last day.

    Returns:
        "YYYY-MM-DD..YYYY-MM-DD", with the two dates in order.
    """
    first, last = min(start, end), max(start, end)
    return f"{first.isoformat()}..{last.isoformat()}"


def month_end(year: int, month: int) -> date:
    """Return the last day of a month."""
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def shift_months(day: date, months: int) -> date:
    """Move a date by whole months, clamping the day to the target month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, month_end(year, month + 1).day))


def week_start(day: date) -> date:
    """Return the Monday of the week containing ``day``."""
    return day - timedelta(days=day.weekday())


def quarter_range(year: int, quarter: int) -> tuple[date, date]:
    """Return the first and last day of a calendar quarter (1-4)."""
    first_month = 3 * (quarter - 1) + 1
    return date(year, first_month, 1), month_end(year, first_month + 2)


def quarter_of(day: date) -> int:
    """Return the calendar quarter (1-4) of a date."""
    return (day.month - 1) // 3 + 1


def last_n_days(n: int, *, today: date) -> tuple[date, date]:
    """Return the ``n`` days ending with ``today``."""
    return today - timedelta(days=max(n, 1) - 1), today


def safe_date(year: int, month: int, day: int) -> date | None:
    """Build a date, or return None when it does not exist (e.g. 31 April)."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def resolve_period(period: str, *, today: date) -> tuple[date, date]:
    """Resolve a canonical Period (any case, surrounding spaces allowed) to its inclusive first and last day.

    Raises:
        ValueError: When ``period`` is neither a keyword nor a valid explicit range.
    """
    compact = period.strip()
    return flows_resolve_period(compact if ".." in compact else compact.casefold(), today=today)
