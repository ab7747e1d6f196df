"""Period words: typo repair for period vocabulary, relative keywords ("last month", "ytd") and weekdays.

Matchers take folded, typo-corrected text plus the reference date and return a canonical Period or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from rapidfuzz.distance import DamerauLevenshtein

from agent.backends.embedded.extract.dates import (
    MONTHS,
    WEEKDAYS,
    format_range,
    month_end,
    shift_months,
    week_start,
)
from agent.backends.embedded.extract.period_dates import WEEKDAY_ALT
from agent.backends.embedded.extract.text import fold

_ALIASES = {
    "lst": "last",
    "prev": "previous",
    "prv": "previous",
    "yday": "yesterday",
    "yest": "yesterday",
    # Portuguese and Spanish words an operator drops into English
    "ontem": "yesterday",
    "ayer": "yesterday",
    "hoje": "today",
    "hoy": "today",
    "mth": "month",
    "mnth": "month",
    "mths": "months",
    "mos": "months",
    "mo": "month",
    "wk": "week",
    "weak": "week",  # autocorrect: "last weak"
    "wks": "weeks",
    "qtr": "quarter",
    "qtrs": "quarters",
    "yr": "year",
    "yrs": "years",
    "tdy": "today",
    "2day": "today",
}
_VOCAB = (
    "yesterday today month months quarter quarters previous january february august september october "
    "november december monday tuesday wednesday thursday friday saturday sunday weekend"
).split()
_KEEP = frozenset(
    "quarterly monthly weekly yearly daily weekday weekdays weekends mondays tuesdays wednesdays thursdays "
    "fridays "
    "saturdays sundays todo total".split()
)
_TOKEN = re.compile(r"[a-z0-9]+")
_WEEKDAY = re.compile(rf"(?<!every\s)\b(?:(?P<rel>on|last|this|past)\s+)?(?P<w>{WEEKDAY_ALT})\b(?!s)")


def _month_range(first: date) -> str:
    return format_range(first, month_end(first.year, first.month))


_KEYWORDS: list[tuple[re.Pattern[str], Callable[[date], str]]] = [
    (
        re.compile(
            r"\b(?:year\s+so\s+far|year[\s-]+to[\s-]+date|ytd|so\s+far\s+this\s+year|this\s+year\s+so\s+far|"
            r"(?:since\s+)?(?:the\s+)?(?:start|beginning)\s+of\s+(?:the\s+|this\s+)year)\b"
        ),
        lambda t: format_range(date(t.year, 1, 1), t),
    ),
    (re.compile(r"\bday\s+before\s+yesterday\b"), lambda t: format_range(t - timedelta(2), t - timedelta(2))),
    (
        re.compile(r"\bweek\s+before\s+last\b"),
        lambda t: format_range(week_start(t) - timedelta(14), week_start(t) - timedelta(8)),
    ),
    (re.compile(r"\bmonth\s+before\s+last\b"), lambda t: _month_range(shift_months(t.replace(day=1), -2))),
    (
        re.compile(r"\byear\s+before\s+last\b"),
        lambda t: format_range(date(t.year - 2, 1, 1), date(t.year - 2, 12, 31)),
    ),
    (
        re.compile(r"\b(?:last|past|previous)\s+weekend\b"),
        lambda t: format_range(week_start(t) - timedelta(2), week_start(t) - timedelta(1)),
    ),
    (
        re.compile(r"\b(?:this|the)\s+weekend\b"),
        lambda t: format_range(week_start(t) + timedelta(5), week_start(t) + timedelta(6)),
    ),
    (
        re.compile(r"\b(?:this|current)\s+week|\bso\s+far\s+this\s+week|\bweek[\s-]+to[\s-]+date|\bwtd\b"),
        lambda _: "this_week",
    ),
    (
        re.compile(
            r"\b(?:this|current)\s+month|\bso\s+far\s+this\s+month|\bmonth[\s-]+to[\s-]+date|\bmtd\b|"
            r"\b(?:start|beginning)\s+of\s+(?:the\s+|this\s+)month"
        ),
        lambda _: "this_month",
    ),
    (
        re.compile(
            r"\b(?:this|current)\s+quarter|\bso\s+far\s+this\s+quarter|\bquarter[\s-]+to[\s-]+date|\bqtd\b"
        ),
        lambda _: "this_quarter",
    ),
    (re.compile(r"\b(?:this|current)\s+year\b"), lambda _: "this_year"),
    # "the month passed" is how French and Spanish speakers say "last month".
    (re.compile(r"\b(?:last|previous|prior)\s+week(?:'?s)?\b|\bweek\s+passed\b"), lambda _: "last_week"),
    (re.compile(r"\b(?:last|previous|prior)\s+month(?:'?s)?\b|\bmonth\s+passed\b"), lambda _: "last_month"),
    (
        re.compile(r"\b(?:last|previous|prior)\s+quarter(?:'?s)?\b|\bquarter\s+passed\b"),
        lambda _: "last_quarter",
    ),
    (re.compile(r"\b(?:last|previous|prior)\s+year(?:'?s)?\b|\byear\s+passed\b"), lambda _: "last_year"),
    (re.compile(r"\byesterday\b"), lambda _: "yesterday"),
    (re.compile(r"\b(?:today|tonight|this\s+(?:morning|afternoon|evening))\b"), lambda _: "today"),
]


def _correct(token: str) -> str:
    if token in _ALIASES:
        return _ALIASES[token]
    if len(token) < 4 or not token.isalpha() or token in _KEEP or token in _VOCAB or token in MONTHS:
        return token
    limit = 1 if len(token) <= 6 else 2
    scored = [
        (DamerauLevenshtein.distance(token, word, score_cutoff=limit), word)
        for word in _VOCAB
        if word[0] == token[0] and abs(len(word) - len(token)) <= limit
    ]
    scored = [(d, w) for d, w in scored if d <= limit]
    if not scored:
        return token
    best = min(d for d, _ in scored)
    winners = [w for d, w in scored if d == best]
    return winners[0] if len(winners) == 1 else token


# Period values typed as the identifiers they are ("last_90_days, apac only"); "orders_today.csv" is a file name.
_IDENTIFIER = re.compile(
    r"(?<![\w.])(?:(?:this|last)_(?:week|month|quarter|year)|last_(?:7|30|90)_days)(?![\w.])"
)


def normalize_period_text(text: str) -> str:
    """Fold text and repair typos and abbreviations of period words ("yesteday", "lst mnth", "quater")."""
    return _TOKEN.sub(
        lambda m: _correct(m.group()), _IDENTIFIER.sub(lambda m: m.group().replace("_", " "), fold(text))
    )


def match_keyword(text: str, today: date) -> str | None:
    """Match relative period words: "last month", "this week", "ytd", "yesterday", "week before last"."""
    for pattern, build in _KEYWORDS:
        if pattern.search(text):
            return build(today)
    return None


def match_weekday(text: str, today: date) -> str | None:
    """Match a weekday as one day: "on friday" (most recent), "last monday" (before today), "this monday"."""
    m = _WEEKDAY.search(text)
    if m is None:
        return None
    back = (today.weekday() - WEEKDAYS[m.group("w")]) % 7
    if m.group("rel") in ("last", "past") and back == 0:
        back = 7
    elif m.group("rel") == "this":
        back = -(WEEKDAYS[m.group("w")] - today.weekday())
    day = today - timedelta(days=back)
    return format_range(day, day)
