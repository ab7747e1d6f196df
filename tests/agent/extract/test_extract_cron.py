"""Cron from schedule phrases, literal crons, and validation (cross-checked with croniter)."""

from __future__ import annotations

import pytest
from croniter import croniter
from hypothesis import given
from hypothesis import strategies as st

from agent.backends.embedded.extract import extract_cron, revise_cron, validate_cron


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every monday at 9:30", "30 9 * * 1"),
        ("every day at 6am", "0 6 * * *"),
        ("daily at 06:00", "0 6 * * *"),
        ("weekdays at 18:00", "0 18 * * 1-5"),
        ("every weekday at 6pm", "0 18 * * 1-5"),
        ("every hour", "0 * * * *"),
        ("hourly", "0 * * * *"),
        ("every 15 minutes", "*/15 * * * *"),
        ("every fifteen minutes", "*/15 * * * *"),
        ("every quarter hour", "*/15 * * * *"),
        ("every half hour on weekdays", "*/30 * * * 1-5"),
        ("every minute", "* * * * *"),
        ("every 2 hours", "0 */2 * * *"),
        ("hourly at 15 past", "15 * * * *"),
        ("every hour from 9 to 17", "0 9-17 * * *"),
        ("every 30 mins between 8am and 6pm", "*/30 8-18 * * *"),
        ("first of the month at 7", "0 7 1 * *"),
        ("on the 1st of every month at 07:00", "0 7 1 * *"),
        ("monthly on the 15th at 8", "0 8 15 * *"),
        ("on the 1st and 15th of every month at 6", "0 6 1,15 * *"),
        ("every sunday night at 11pm", "0 23 * * 0"),
        ("every night at 11", "0 23 * * *"),
        ("at midnight every day", "0 0 * * *"),
        ("every day at noon", "0 12 * * *"),
        ("at 7 o'clock in the evening", "0 19 * * *"),
        ("at 6 in the morning and 6 in the evening", "0 6,18 * * *"),
        ("quarter past 9 every day", "15 9 * * *"),
        ("every tuesday at half past seven in the evening", "30 19 * * 2"),
        ("quarter to 8 on mondays", "45 7 * * 1"),
        ("every mon, wed and fri at 7:15", "15 7 * * 1,3,5"),
        ("mon-fri at 8", "0 8 * * 1-5"),
        ("monday to wednesday at 10", "0 10 * * 1-3"),
        ("every saturday and sunday at 10", "0 10 * * 0,6"),
        ("weekends at 9am", "0 9 * * 0,6"),
        ("at 9am and 5pm", "0 9,17 * * *"),
        ("twice a day at 9 and 17", "0 9,17 * * *"),
        ("12am daily", "0 0 * * *"),
        ("every day at 12pm", "0 12 * * *"),
        ("at 18h30 on fridays", "30 18 * * 5"),
        ("every monday", "0 0 * * 1"),
        ("weekly", "0 0 * * 0"),
        ("monthly", "0 0 1 * *"),
        ("quarterly at 6am", "0 6 1 1,4,7,10 *"),
        ("yearly", "0 0 1 1 *"),
        ("run it at 7", "0 7 * * *"),
        ("schedule the nightly export at 2am", "0 2 * * *"),
        ("schedule the nightly sales export every weekday at 6pm", "0 18 * * 1-5"),
        # literal expressions pass through, canonicalised
        ("0 6 * * *", "0 6 * * *"),
        ("use cron `30 9 * * 1` for it", "30 9 * * 1"),
        ("cron: '*/5  *  * * MON-FRI'", "*/5 * * * mon-fri"),
        ("@daily", "0 0 * * *"),
        ("@weekly please", "0 0 * * 0"),
    ],
)
def test_extract_cron(text: str, expected: str) -> None:
    assert extract_cron(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "schedule the nightly sales export",
        "every 90 minutes",
        "every 25 hours",
        "on the last day of the month",
        "the first monday of the month at 9",
        "every other day",
        "biweekly on fridays",
        "at 9:30 and 5pm",
        "at 25:00",
        "61 * * * *",
    ],
)
def test_extract_cron_none_for_no_or_inexpressible_schedule(text: str) -> None:
    assert extract_cron(text) is None


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("30  9 * * MON", "30 9 * * mon"),
        ("  0 6 * * *  ", "0 6 * * *"),
        ("0-30/10 0,12 1-15 jan-jun 1-5", "0-30/10 0,12 1-15 jan-jun 1-5"),
        ("5/15 * * * 7", "5/15 * * * 7"),
        ("@hourly", "0 * * * *"),
        ("@ANNUALLY", "0 0 1 1 *"),
    ],
)
def test_validate_cron_canonicalises(expr: str, expected: str) -> None:
    assert validate_cron(expr) == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("* * *", r"needs 5 fields .* got 3: '\* \* \*'"),
        ("0 0 * * * *", "got 6"),
        ("", "got 0"),
        ("61 * * * *", "invalid minute field '61': 61 is outside 0-59"),
        ("0 24 * * *", "invalid hour field '24': 24 is outside 0-23"),
        ("0 0 0 * *", "invalid day-of-month field '0': 0 is outside 1-31"),
        ("0 0 * 13 *", "invalid month field '13'"),
        ("0 0 * * 8", "invalid day-of-week field '8'"),
        ("*/0 * * * *", "the step after '/' must be a positive number"),
        ("5-1 * * * *", "range '5-1' runs backwards"),
        ("0 0 * * funday", "'funday' is not a number"),
        ("0 0 ? * *", "only digits, names"),
        ("0,,5 * * * *", "empty value"),
    ],
)
def test_validate_cron_rejects_with_clear_messages(expr: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_cron(expr)


def test_validate_cron_rejects_non_text() -> None:
    with pytest.raises(ValueError, match="must be text"):
        validate_cron(None)  # type: ignore[arg-type]


def _field(low: int, high: int) -> st.SearchStrategy[str]:
    number = st.integers(min_value=low, max_value=high)
    single = number.map(str)
    span = st.tuples(number, number).map(lambda p: f"{min(p)}-{max(p)}")
    step = st.integers(min_value=1, max_value=high)
    item = st.one_of(
        single,
        span,
        st.just("*"),
        step.map(lambda s: f"*/{s}"),
        st.tuples(span, step).map(lambda p: f"{p[0]}/{p[1]}"),
    )
    return st.lists(item, min_size=1, max_size=3).map(",".join)


crons = st.tuples(_field(0, 59), _field(0, 23), _field(1, 31), _field(1, 12), _field(0, 6))
spacing = st.sampled_from([" ", "  ", "\t", " \t "])


@given(fields=crons, sep=spacing)
def test_validate_cron_is_idempotent_and_agrees_with_croniter(fields: tuple[str, ...], sep: str) -> None:
    canonical = validate_cron(sep.join(fields))
    assert canonical == " ".join(fields)
    assert validate_cron(canonical) == canonical
    assert croniter.is_valid(canonical)


@given(fields=crons)
def test_literal_crons_in_text_pass_through(fields: tuple[str, ...]) -> None:
    expr = " ".join(fields)
    assert extract_cron(f"schedule it with {expr} please") == expr


@given(st.text(max_size=80))
def test_extract_cron_never_raises_and_returns_valid_crons(text: str) -> None:
    found = extract_cron(text)
    if found is not None:
        assert validate_cron(found) == found
        assert croniter.is_valid(found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("run the invoice run on the 1st and 15th at 8am", "0 8 1,15 * *"),
        ("sync every hour on the half hour", "30 * * * *"),
        ("sync every hour on the quarter hour", "15 * * * *"),
        ("sync evry 30 min", "*/30 * * * *"),
    ],
)
def test_days_of_month_lists_minute_offsets_and_typos(text: str, expected: str) -> None:
    assert extract_cron(text) == expected


@pytest.mark.parametrize(
    ("previous", "text", "expected"),
    [
        ("30 9 * * 1", "only on weekdays", "30 9 * * 1-5"),
        ("0 2 * * *", "make it weekdays instead", "0 2 * * 1-5"),
        ("*/15 * * * *", "weekends only", "*/15 * * * 0,6"),
        ("0 9 1 * *", "every monday instead", "0 9 * * 1"),
        ("30 9 * * 1", "at 7am instead", "0 7 * * 1"),
        ("0 6 * * 1-5", "every 2 hours instead", "0 */2 * * 1-5"),
        ("30 9 * * 1", "every day at 6 instead", "0 6 * * *"),
        ("30 9 * * 1", "use 0 6 * * * instead", "0 6 * * *"),
        ("not a cron", "only on weekdays", "0 0 * * 1-5"),
    ],
)
def test_revise_cron_keeps_what_the_change_does_not_mention(previous: str, text: str, expected: str) -> None:
    assert revise_cron(previous, text) == expected


def test_revise_cron_without_a_schedule_gives_none() -> None:
    assert revise_cron("30 9 * * 1", "thanks") is None
