"""Numbers in digits and in words; ordinals, SKUs, dates and times are not quantities."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.backends.embedded.extract import ExtractedNumber, extract_numbers, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        (" 12. ", 12),
        ("0", 0),
        ("1,200", 1200),
        ("1,200,000", 1_200_000),
        ("2k", 2000),
        ("2.5k", 2500),
        ("3 thousand", 3000),
        ("1 million", 1_000_000),
        ("two dozen", 24),
        ("-7", -7),
        ("minus three", -3),
        ("twelve", 12),
        ("Twelve", 12),
        ("nineteen", 19),
        ("forty two", 42),
        ("forty-two", 42),
        ("a dozen", 12),
        ("dozen", 12),
        ("half a dozen", 6),
        ("a hundred", 100),
        ("two hundred and fifty", 250),
        ("two hundred fifty", 250),
        ("one thousand", 1000),
        ("three thousand four hundred and five", 3405),
        ("one million two hundred thousand", 1_200_000),
        ("zero", 0),
    ],
)
def test_parse_number(text: str, expected: int) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "1st",
        "third",
        "twelfth",
        "C-55",
        "A100X",
        "1.5",
        "2026-03-01",
        "9:30",
        "twelve boxes",
        "one two",
        "a",
    ],
)
def test_parse_number_rejects_non_numbers(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("order twelve A100X and 50 units of C-55 for client 1042 at 9:30 on 2026-03-01", [12, 50, 1042]),
        ("top five and first 20", [5, 20]),
        ("the 3rd run and the second one", [1]),
        ("between forty-two and 1,200 rows, about 2k", [42, 1200, 2000]),
        ("twenty twenty", [20, 20]),
        ("version v1.2 of orders_2026.csv", []),
        ("#1042", [1042]),
    ],
)
def test_extract_numbers_values(text: str, values: list[int]) -> None:
    assert [n.value for n in extract_numbers(text)] == values


def test_extract_numbers_spans_point_into_the_original_text() -> None:
    text = "Order Forty Two units for client 1,042"
    found = extract_numbers(text)
    assert found == [ExtractedNumber(42, (6, 15)), ExtractedNumber(1042, (33, 38))]
    assert [text[slice(*n.span)] for n in found] == ["Forty Two", "1,042"]


_UNITS = "zero one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _spell_below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_UNITS[hundreds]} hundred"] if hundreds else []
    if rest:
        if hundreds:
            words.append("and")
        if rest < 10:
            words.append(_UNITS[rest])
        elif rest < 20:
            words.append(_TEENS[rest - 10])
        else:
            tens, unit = divmod(rest, 10)
            words.append(_TENS[tens] + (f"-{_UNITS[unit]}" if unit else ""))
    return " ".join(words)


def _spell(n: int) -> str:
    """Spell a number the British way, independently of the code under test."""
    if n == 0:
        return "zero"
    thousands, rest = divmod(n, 1000)
    parts = [f"{_spell_below_1000(thousands)} thousand"] if thousands else []
    if rest:
        parts.append(_spell_below_1000(rest))
    return " ".join(parts)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_parse_number_reads_back_digits(n: int) -> None:
    assert parse_number(str(n)) == n


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_number_reads_back_thousands_separators(n: int) -> None:
    assert parse_number(f"{n:,}") == n


@given(st.integers(min_value=0, max_value=999_999))
def test_parse_number_reads_back_words(n: int) -> None:
    assert parse_number(_spell(n)) == n


@given(st.text(max_size=80))
def test_extract_numbers_never_raises_and_spans_are_in_bounds(text: str) -> None:
    for number in extract_numbers(text):
        start, end = number.span
        assert 0 <= start < end <= len(text)
        assert number.value >= 0
