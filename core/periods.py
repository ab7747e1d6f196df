"""Period: the one way Switchboard names a span of days.

A period is a keyword (``last_month``) or an explicit inclusive range (``2026-03-01..2026-03-31``). Keywords resolve
against a reference date that the caller passes in, so every flow stays deterministic and testable.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Final

from pydantic import AfterValidator

PERIOD_KEYWORDS: Final[tuple[str, ...]] = (
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
    "last_7_days",
    "last_30_days",
    "last_90_days",
)
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def _month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month (before it when negative)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def resolve_period(period: str, *, today: date) -> tuple[date, date]:
    """Return the inclusive (start, end) dates a canonical period covers.

    Args:
        period: A keyword from ``PERIOD_KEYWORDS`` or ``YYYY-MM-DD..YYYY-MM-DD``.
        today: The reference date.

    Raises:
        ValueError: If the period is not canonical or the range is reversed.
    """
    match = _RANGE.match(period)
    if match:
        try:
            start, end = date.fromisoformat(match.group(1)), date.fromisoformat(match.group(2))
        except ValueError as exc:
            raise ValueError(f"period {period!r} has an impossible date: {exc}") from None
        if start > end:
            raise ValueError(f"period {period!r} ends before it starts")
        return start, end
    monday = today - timedelta(days=today.weekday())
    spans: dict[str, tuple[date, date]] = {
        "today": (today, today),
        "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
        "this_week": (monday, today),
        "last_week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "this_month": (_month_start(today), today),
        "last_month": (add_months(today, -1), _month_start(today) - timedelta(days=1)),
        "this_quarter": (_quarter_start(today), today),
        "last_quarter": (
            add_months(_quarter_start(today), -3),
            _quarter_start(today) - timedelta(days=1),
        ),
        "this_year": (date(today.year, 1, 1), today),
        "last_year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        "last_7_days": (today - timedelta(days=6), today),
        "last_30_days": (today - timedelta(days=29), today),
        "last_90_days": (today - timedelta(days=89), today),
    }
    if period not in spans:
        raise ValueError(
            f"unknown period {period!r}: use one of {', '.join(PERIOD_KEYWORDS)} or YYYY-MM-DD..YYYY-MM-DD"
        )
    return spans[period]


def canonical_period(value: str) -> str:
    """Validate and normalise a period string (trimmed, lower-case keywords).

    Raises:
        ValueError: With a message naming the accepted forms.
    """
    text = value.strip().lower().replace(" ", "_") if not _RANGE.match(value.strip()) else value.strip()
    resolve_period(text, today=date(2000, 1, 1))
    return text


Period = Annotated[str, AfterValidator(canonical_period)]
"""A pydantic-validated period string."""


def period_words(period: str) -> str:
    """A period as it reads in a sentence after "in" or "for": 'the last 7 days', 'last month', '2026-10'."""
    if _RANGE.match(period):
        return period.replace("..", " to ")
    words = period.replace("_", " ")
    return f"the {words}" if re.match(r"(last|past|next) \d", words) else words
