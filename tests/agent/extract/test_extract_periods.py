"""Periods: phrase -> canonical Period, and Period -> inclusive dates (today = Sunday 2026-11-22)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.backends.embedded.extract import PERIOD_KEYWORDS, extract_period, resolve_period

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # calendar keywords
        ("show me last month's sales by region", "last_month"),
        ("previous month please", "last_month"),
        ("revenue for the prior month", "last_month"),
        ("last week", "last_week"),
        ("how did the previous week go", "last_week"),
        ("this week", "this_week"),
        ("orders so far this week", "this_week"),
        ("so far this month", "this_month"),
        ("MTD numbers", "this_month"),
        ("this month", "this_month"),
        ("since the start of the month", "this_month"),
        ("this quarter", "this_quarter"),
        ("quarter to date", "this_quarter"),
        ("last quarter", "last_quarter"),
        ("previous quarter by product", "last_quarter"),
        ("this year", "this_year"),
        ("last year", "last_year"),
        ("yesterday", "yesterday"),
        ("what failed today?", "today"),
        # rolling windows
        ("past 7 days", "last_7_days"),
        ("over the last seven days", "last_7_days"),
        ("the past week", "last_7_days"),
        ("last 30 days", "last_30_days"),
        ("the past thirty days", "last_30_days"),
        ("past month", "last_30_days"),
        ("last 90 days", "last_90_days"),
        ("past 3 months", "last_90_days"),
        ("the last three months", "last_90_days"),
        ("last 14 days", "2026-11-09..2026-11-22"),
        ("last 2 weeks", "2026-11-09..2026-11-22"),
        ("last fortnight", "2026-11-09..2026-11-22"),
        ("last 6 months", "2026-05-23..2026-11-22"),
        ("past year", "2025-11-23..2026-11-22"),
        ("what ran in the last 24 hours", "2026-11-21..2026-11-22"),
        ("last 48 hrs", "2026-11-20..2026-11-22"),
        # quarters and halves
        ("Q3", "2026-07-01..2026-09-30"),
        ("q3 numbers by region", "2026-07-01..2026-09-30"),
        ("Q4", "2026-10-01..2026-12-31"),
        ("Q1 2026", "2026-01-01..2026-03-31"),
        ("Q2 2025", "2025-04-01..2025-06-30"),
        ("2025 Q2", "2025-04-01..2025-06-30"),
        ("third quarter of 2025", "2025-07-01..2025-09-30"),
        ("q3 last year", "2025-07-01..2025-09-30"),
        ("last year's Q4", "2025-10-01..2025-12-31"),
        ("H1", "2026-01-01..2026-06-30"),
        ("second half of 2025", "2025-07-01..2025-12-31"),
        # year to date
        ("year so far", "2026-01-01..2026-11-22"),
        ("YTD revenue", "2026-01-01..2026-11-22"),
        ("year to date", "2026-01-01..2026-11-22"),
        ("year-to-date", "2026-01-01..2026-11-22"),
        ("so far this year", "2026-01-01..2026-11-22"),
        ("since the start of the year", "2026-01-01..2026-11-22"),
        # since ...
        ("since 1 Nov", "2026-11-01..2026-11-22"),
        ("since November 1st", "2026-11-01..2026-11-22"),
        ("since the 1st of November", "2026-11-01..2026-11-22"),
        ("since 15 Dec", "2025-12-15..2026-11-22"),
        ("since 2026-10-01", "2026-10-01..2026-11-22"),
        ("since monday", "2026-11-16..2026-11-22"),
        ("since yesterday", "2026-11-21..2026-11-22"),
        ("since last week", "2026-11-09..2026-11-22"),
        ("since q3", "2026-07-01..2026-11-22"),
        ("since january", "2026-01-01..2026-11-22"),
        ("since 2025", "2025-01-01..2026-11-22"),
        ("since the 10th", "2026-11-10..2026-11-22"),
        ("since the 25th", "2026-10-25..2026-11-22"),
        # named months
        ("in March", "2026-03-01..2026-03-31"),
        ("for march 2026", "2026-03-01..2026-03-31"),
        ("march 2025", "2025-03-01..2025-03-31"),
        ("in December", "2025-12-01..2025-12-31"),
        ("in November", "2026-11-01..2026-11-30"),
        ("last march", "2026-03-01..2026-03-31"),
        ("last november", "2025-11-01..2025-11-30"),
        ("sales in may", "2026-05-01..2026-05-31"),
        ("february", "2026-02-01..2026-02-28"),
        ("orders from september", "2026-09-01..2026-09-30"),
        # explicit ranges and days
        ("from 2026-03-01 to 2026-03-15", "2026-03-01..2026-03-15"),
        ("2026-03-01..2026-03-15", "2026-03-01..2026-03-15"),
        ("between 2026-03-15 and 2026-03-01", "2026-03-01..2026-03-15"),
        ("between 1 and 15 March", "2026-03-01..2026-03-15"),
        ("1-15 march", "2026-03-01..2026-03-15"),
        ("march 1-15", "2026-03-01..2026-03-15"),
        ("from march 1 to april 15", "2026-03-01..2026-04-15"),
        ("from 1 march 2025 to 15 april 2025", "2025-03-01..2025-04-15"),
        ("from 15 dec to 10 jan", "2025-12-15..2026-01-10"),
        ("from 1 nov to today", "2026-11-01..2026-11-22"),
        ("from the 1st to the 10th", "2026-11-01..2026-11-10"),
        ("on 3 march", "2026-03-03..2026-03-03"),
        ("march 3rd", "2026-03-03..2026-03-03"),
        ("on 2026-11-20", "2026-11-20..2026-11-20"),
        ("day before yesterday", "2026-11-20..2026-11-20"),
        ("week before last", "2026-11-02..2026-11-08"),
        ("month before last", "2026-09-01..2026-09-30"),
        ("last weekend", "2026-11-14..2026-11-15"),
        ("this weekend", "2026-11-21..2026-11-22"),
        ("on friday", "2026-11-20..2026-11-20"),
        ("last sunday", "2026-11-15..2026-11-15"),
        # years
        ("2025", "2025-01-01..2025-12-31"),
        ("revenue in 2024", "2024-01-01..2024-12-31"),
    ],
)
def test_extract_period(text: str, expected: str) -> None:
    assert extract_period(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesteday", "yesterday"),
        ("yday", "yesterday"),
        ("lst mnth", "last_month"),
        ("last quater", "last_quarter"),
        ("previos qtr", "last_quarter"),
        ("lst yr", "last_year"),
        ("todays orders", "today"),
        ("febuary", "2026-02-01..2026-02-28"),
        ("since novmber 1st", "2026-11-01..2026-11-22"),
    ],
)
def test_extract_period_repairs_typos(text: str, expected: str) -> None:
    assert extract_period(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sales by region",
        "top 5 customers",
        "quote 12 A100X for client 2025",
        "order 2025 units of B200",
        "may I see the sales report",
        "every monday at 9:30",
        "list the runs that failed",
        "load orders_today.csv",
        "???",
    ],
)
def test_extract_period_none_when_no_period(text: str) -> None:
    assert extract_period(text, today=TODAY) is None


def test_first_matcher_wins_explicit_dates_over_relative_words() -> None:
    assert extract_period("last month, I mean from 2026-03-01 to 2026-03-02", today=TODAY) == (
        "2026-03-01..2026-03-02"
    )


def test_month_without_year_depends_on_today() -> None:
    assert extract_period("in march", today=date(2026, 2, 10)) == "2025-03-01..2025-03-31"
    assert extract_period("Q3", today=date(2026, 8, 1)) == "2026-07-01..2026-09-30"
    assert extract_period("Q3", today=date(2026, 6, 30)) == "2025-07-01..2025-09-30"


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("today", (date(2026, 11, 22), date(2026, 11, 22))),
        ("yesterday", (date(2026, 11, 21), date(2026, 11, 21))),
        ("this_week", (date(2026, 11, 16), date(2026, 11, 22))),
        ("last_week", (date(2026, 11, 9), date(2026, 11, 15))),
        ("this_month", (date(2026, 11, 1), date(2026, 11, 22))),
        ("last_month", (date(2026, 10, 1), date(2026, 10, 31))),
        ("this_quarter", (date(2026, 10, 1), date(2026, 11, 22))),
        ("last_quarter", (date(2026, 7, 1), date(2026, 9, 30))),
        ("this_year", (date(2026, 1, 1), date(2026, 11, 22))),
        ("last_year", (date(2025, 1, 1), date(2025, 12, 31))),
        ("last_7_days", (date(2026, 11, 16), date(2026, 11, 22))),
        ("last_30_days", (date(2026, 10, 24), date(2026, 11, 22))),
        ("last_90_days", (date(2026, 8, 25), date(2026, 11, 22))),
        (" Last_Month ", (date(2026, 10, 1), date(2026, 10, 31))),
        ("2026-03-01..2026-03-15", (date(2026, 3, 1), date(2026, 3, 15))),
    ],
)
def test_resolve_period(period: str, expected: tuple[date, date]) -> None:
    assert resolve_period(period, today=TODAY) == expected


def test_resolve_period_crosses_year_boundaries() -> None:
    today = date(2026, 1, 15)
    assert resolve_period("last_month", today=today) == (date(2025, 12, 1), date(2025, 12, 31))
    assert resolve_period("last_quarter", today=today) == (date(2025, 10, 1), date(2025, 12, 31))
    assert resolve_period("last_week", today=date(2026, 1, 1)) == (date(2025, 12, 22), date(2025, 12, 28))


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("next_week", "unknown period 'next_week'"),
        ("2026-03-15..2026-03-01", "ends before it starts"),
        ("2026-02-30..2026-03-01", "impossible date"),
        ("2026-3-1..2026-3-5", "unknown period"),
    ],
)
def test_resolve_period_rejects_bad_input(period: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_period(period, today=TODAY)


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(today=days, keyword=st.sampled_from(PERIOD_KEYWORDS))
def test_keywords_resolve_to_ordered_ranges_not_after_today(today: date, keyword: str) -> None:
    start, end = resolve_period(keyword, today=today)
    assert start <= end <= today


@given(a=days, b=days, today=days)
def test_explicit_ranges_round_trip(a: date, b: date, today: date) -> None:
    text = f"from {a.isoformat()} to {b.isoformat()}"
    period = extract_period(text, today=today)
    assert period is not None
    assert resolve_period(period, today=today) == (min(a, b), max(a, b))


@given(text=st.text(max_size=60), today=days)
def test_extract_period_never_raises_and_returns_resolvable_periods(text: str, today: date) -> None:
    period = extract_period(text, today=today)
    if period is not None:
        start, end = resolve_period(period, today=today)
        assert start <= end


@given(n=st.integers(min_value=1, max_value=400), today=days)
def test_last_n_days_spans_exactly_n_days(n: int, today: date) -> None:
    period = extract_period(f"last {n} days", today=today)
    assert period is not None
    start, end = resolve_period(period, today=today)
    assert (end, end - start + timedelta(days=1)) == (today, timedelta(days=n))
