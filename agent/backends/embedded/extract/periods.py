"""Extract a canonical Period from free text ("last month", "Q3", "year so far", "since 1 Nov", "in March").

Conventions (the contract's canonical forms): keywords where one exists (``last_month``, ``last_week`` = the
previous Monday-Sunday week, ``last_7_days``...), otherwise an explicit inclusive "YYYY-MM-DD..YYYY-MM-DD"
range against ``today``. "Past <unit>" is a rolling window ending today ("past week" = ``last_7_days``, "past
3 months" = ``last_90_days``); "last/previous <unit>" is the previous calendar unit. Named quarters, halves
and months without a year mean the most recent one that has started. "Year so far" is an explicit Jan
1..today range while "so far this month" is ``this_month``, as the contract prescribes. Two periods in one
message: the first matcher in priority order wins (explicit dates before relative words).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from agent.backends.embedded.extract import period_dates as pd
from agent.backends.embedded.extract import period_words as pw
from agent.backends.embedded.extract.dates import (
    ROLLING_KEYWORDS,
    format_range,
    last_n_days,
    month_end,
    quarter_range,
    shift_months,
)
from agent.backends.embedded.extract.numbers import parse_number

_YEARSPEC = rf"(?P<ys>{pd.YEAR}|(?:last|previous|prior|this)\s+year)"
_QUARTER = re.compile(
    rf"(?:\b(?:(?P<pre>last|previous|prior|this)\s+year'?s?\s+))?"
    rf"\b(?:q(?P<q>[1-4])|(?P<qw>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter)\b"
    rf"(?:\s*,?\s*(?:of\s+|in\s+)?(?:fy\s*)?{_YEARSPEC})?"
)
_QUARTER_YEAR_FIRST = re.compile(rf"\b(?P<y>{pd.YEAR})\s*-?\s*q(?P<q>[1-4])\b")
_HALF = re.compile(
    rf"\b(?:h(?P<h>[12])|(?P<hw>first|second)\s+half)\b(?:\s*,?\s*(?:of\s+|in\s+)?{_YEARSPEC})?"
)
_MONTH_HALF = re.compile(
    rf"\b(?P<hw>first|second|1st|2nd|latter)\s+half\s+(?:of\s+)?(?:the\s+month\s+of\s+)?(?P<m>{pd.MON})"
    rf"(?:\s*,?\s*(?:of\s+)?{_YEARSPEC})?"
)
_MONTH = re.compile(
    rf"(?:\b(?P<prep>in|for|during|of|over|throughout)\s+)?(?:\b(?P<pre>last|previous|prior|this)\s+(?P<yr>year'?s?\s+)?)?"
    rf"(?P<m>{pd.MON})(?!\s*\d{1, 2}\b)(?:\s*,?\s*(?:of\s+)?{_YEARSPEC})?"
)
# "widen to 30 days", "go back 14 days": a window resized or moved back, with no "last" or "past" in front.
_ROLLING = re.compile(
    r"\b(?:last|past|previous|prior|trailing|(?:widen|extend|expand|stretch|broaden)(?:\s+(?:it|that|this))?(?:\s+out)?"
    r"\s+to(?:\s+the)?|(?:go|look)(?:ing)?\s+back)\s+(?P<n>\d+|[a-z]+(?:[\s-]+[a-z]+){0,3}?)\s*"
    r"(?P<unit>hours?|hrs?|h|days?|d|weeks?|months?|quarters?|years?)\b"
)
_PAST_UNIT = re.compile(r"\b(?:past|trailing)\s+(?P<unit>week|fortnight|month|quarter|year)\b")
_FORTNIGHT = re.compile(r"\b(?:last|past|previous)\s+fortnight\b")
_YEAR = re.compile(
    rf"(?<![\w#/.-])(?<!client\s)(?<!customer\s)(?<!account\s)(?<!run\s)(?<!job\s)(?<!order\s)(?<!id\s)"
    rf"(?P<y>{pd.YEAR})(?![-/.]\d)(?!\s*(?:units?|pcs|pieces|items|boxes|cases|x)\b)"
)


_QUARTER_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}


def _month_range(first: date) -> str:
    return format_range(first, month_end(first.year, first.month))


def _rolling(days: int, today: date) -> str:
    keyword = ROLLING_KEYWORDS.get(days)
    return keyword if keyword else format_range(*last_n_days(days, today=today))


def _months_back(months: int, today: date) -> str:
    if months == 1:
        return "last_30_days"
    if months == 3:
        return "last_90_days"
    return format_range(shift_months(today, -months) + timedelta(days=1), today)


def _year_of(spec: str | None, today: date) -> int | None:
    if not spec:
        return None
    if spec[0].isdigit():
        return int(spec)
    return today.year if spec.startswith("this") else today.year - 1


def _match_month_half(text: str, today: date) -> str | None:
    """The first half of a month is days 1-15 ("first half of November"), the second the rest of it."""
    m = _MONTH_HALF.search(text)
    if m is None:
        return None
    month = pd.month_number(m.group("m"))
    year = _year_of(m.group("ys"), today)
    if year is None:
        year = today.year if month <= today.month else today.year - 1
    if m.group("hw") in ("first", "1st"):
        return format_range(date(year, month, 1), date(year, month, 15))
    return format_range(date(year, month, 16), month_end(year, month))


def _match_half(text: str, today: date) -> str | None:
    month_half = _match_month_half(text, today)
    if month_half is not None:
        return month_half
    half = _HALF.search(text)
    if half is None:
        return None
    h = 1 if (half.group("h") == "1" or half.group("hw") == "first") else 2
    year = _year_of(half.group("ys"), today)
    if year is None:
        year = today.year if date(today.year, 6 * h - 5, 1) <= today else today.year - 1
    return format_range(date(year, 6 * h - 5, 1), month_end(year, 6 * h))


def _match_quarter(text: str, today: date) -> str | None:
    year: int | None
    m = _QUARTER.search(text)
    if first := _QUARTER_YEAR_FIRST.search(text):
        q, year = int(first.group("q")), int(first.group("y"))
    elif m is not None:
        q = int(m.group("q")) if m.group("q") else _QUARTER_WORDS[m.group("qw")]
        year = _year_of(m.group("ys") or (m.group("pre") and f"{m.group('pre')} year"), today)
    else:
        return _match_half(text, today)
    if year is None:
        year = today.year if quarter_range(today.year, q)[0] <= today else today.year - 1
    return format_range(*quarter_range(year, q))


# "September and October", "sept through nov 2025": whole months from the first to the last.
_MONTH_SPAN = re.compile(
    rf"\b(?P<m1>{pd.MON})\s*(?:and|&|to|through|thru|till|until|-)\s*(?P<m2>{pd.MON})\b(?:\s*,?\s*(?P<y>{pd.YEAR}))?"
)


def _match_month_span(text: str, today: date) -> str | None:
    m = _MONTH_SPAN.search(text)
    if m is None or "may" in (m.group("m1").rstrip("."), m.group("m2").rstrip(".")):
        return None  # "may" may be the verb
    first, last = pd.month_number(m.group("m1").rstrip(".")), pd.month_number(m.group("m2").rstrip("."))
    year = int(m.group("y")) if m.group("y") else (today.year if last <= today.month else today.year - 1)
    start = date(year if first <= last else year - 1, first, 1)
    return format_range(start, month_end(year, last))


def _match_month(text: str, today: date) -> str | None:
    for m in _MONTH.finditer(text):
        name = m.group("m").rstrip(".")
        # "may" is usually the verb, "mar"/"dec"... are fine: demand some calendar context for it.
        if name == "may" and not (m.group("prep") or m.group("pre") or m.group("ys")):
            continue
        month = pd.month_number(name)
        pre = m.group("pre")
        year = _year_of(m.group("ys") or (pre and m.group("yr") and f"{pre} year"), today)
        if year is None and pre in ("last", "previous", "prior"):
            year = today.year if month < today.month else today.year - 1
        elif year is None and pre == "this":
            year = today.year
        elif year is None:
            year = today.year if month <= today.month else today.year - 1
        return _month_range(date(year, month, 1))
    return None


def _match_rolling(text: str, today: date) -> str | None:
    if _FORTNIGHT.search(text):
        return _rolling(14, today)
    for m in _ROLLING.finditer(text):
        raw = re.sub(r"^(?:a\s+)?couple(?:\s+of)?$", "2", m.group("n").strip())
        n = parse_number(raw)
        if n is None or n <= 0 or n > 3660:
            continue
        unit = m.group("unit").rstrip("s")
        if unit in ("hour", "hr", "h"):
            # N hours back from now can reach into ceil(N / 24) days before today; dates have no hours.
            return _rolling(-(-n // 24) + 1, today)
        if unit in ("day", "d"):
            return _rolling(n, today)
        if unit == "week":
            return _rolling(7 * n, today)
        return _months_back(n * {"month": 1, "quarter": 3, "year": 12}[unit], today)
    past = _PAST_UNIT.search(text)
    if past is None:
        return None
    unit = past.group("unit")
    if unit in ("week", "fortnight"):
        return _rolling(7 if unit == "week" else 14, today)
    return _months_back({"month": 1, "quarter": 3, "year": 12}[unit], today)


def _match_year(text: str, today: date) -> str | None:
    del today
    m = _YEAR.search(text)
    if m is None:
        return None
    year = int(m.group("y"))
    return format_range(date(year, 1, 1), date(year, 12, 31))


_MATCHERS: tuple[Callable[[str, date], str | None], ...] = (
    pd.match_full_range,
    pd.match_partial_range,
    pd.match_since,
    pd.match_single_date,
    _match_quarter,
    _match_month_span,
    _match_month,
    _match_rolling,
    pw.match_keyword,
    pw.match_weekday,
    _match_year,
)


def extract_period(text: str, *, today: date) -> str | None:
    """Find the reporting period an operator asked for.

    Args:
        text: The operator's message.
        today: The reference date for relative phrases.

    Returns:
        A Period keyword or an explicit "YYYY-MM-DD..YYYY-MM-DD" range, or None when the text names no period.
    """
    normalized = pd.spell_numeric_dates(pw.normalize_period_text(text))
    for matcher in _MATCHERS:
        found = matcher(normalized, today)
        if found is not None:
            return found
    return None


__all__ = ["extract_period"]
