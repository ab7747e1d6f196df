"""core.text: quoting user- or file-supplied text with a bound, and the control-character rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.text import (
    MESSAGE_LIMIT,
    QUOTE_LIMIT,
    clip,
    clip_data,
    clip_join,
    clip_repr,
    find_control,
    visible,
)


def test_short_text_is_kept_and_long_text_says_how_much_was_cut() -> None:
    assert clip("Acme Logistics") == "Acme Logistics"
    assert clip("a" * QUOTE_LIMIT) == "a" * QUOTE_LIMIT
    assert clip("a" * 2_000) == "a" * 968 + "… 1,032 more characters"
    assert clip("a" * 969, limit=100) == "a" * 68 + "… 901 more characters"
    assert clip("a" * 101, limit=100) == "a" * 68 + "… 33 more characters"


def test_a_ten_megabyte_value_is_measured_in_megabytes() -> None:
    ten_mb = "x" * (10 * 1024 * 1024)
    assert clip(ten_mb) == "x" * 968 + "… 10.0 MB more"
    assert clip("é" * 20_000, limit=100) == "é" * 68 + "… 38.9 KB more"  # 19,932 × 2 UTF-8 bytes


def test_clip_repr_cuts_before_quoting() -> None:
    assert clip_repr("acme") == "'acme'"
    assert clip_repr("x" * 5_000, 100) == "'" + "x" * 67 + "… 4,932 more characters"
    assert len(clip_repr("\x00" * 5_000, 100)) <= 100


def test_clip_join_keeps_the_first_items_and_counts_the_rest() -> None:
    names = [f"c{i}" for i in range(200_000)]
    joined = clip_join(names, items=3)
    assert joined == "c0, c1, c2 (and 199,997 more)"
    assert len(clip_join(names)) <= MESSAGE_LIMIT // 2


def test_clip_data_bounds_strings_lists_and_mappings() -> None:
    data = {"field": "f" * 5_000, "names": list(range(60)), "k" * 2_000: {str(i): i for i in range(55)}}
    clipped = clip_data(data)
    assert clipped["field"] == "f" * 968 + "… 4,032 more characters"
    assert clipped["names"] == [*range(49), "… 11 more"]
    nested = clipped["k" * 968 + "… 1,032 more characters"]
    assert list(nested.items())[-1] == ("…", "6 more") and len(nested) == 50
    assert clip_data(clipped) == clipped
    assert clip_data({"line": 3, "ok": True, "none": None}) == {"line": 3, "ok": True, "none": None}


@given(st.text(), st.integers(min_value=64, max_value=5_000))
def test_clip_is_bounded_and_idempotent(text: str, limit: int) -> None:
    once = clip(text, limit)
    assert len(once) <= limit
    assert clip(once, limit) == once
    assert text.startswith(once) or once.startswith(text[: limit - 32])


@pytest.mark.parametrize(
    ("text", "single_line", "found"),
    [
        ("Acme Logistics", True, None),
        ("Ünïcode – ok ✓", True, None),
        ("Acme\x00Corp", False, "U+0000"),
        ("Acme\x1b[8m", False, "U+001B"),
        ("a\x7f", False, "U+007F"),
        ("a\x9b", False, "U+009B"),
        ("two\nlines\tand a tab\r\n", False, None),
        ("two\nlines", True, "U+000A"),
        ("tab\there", True, "U+0009"),
    ],
)
def test_find_control(text: str, single_line: bool, found: str | None) -> None:
    assert find_control(text, single_line=single_line) == found


def test_visible_shows_control_characters_instead_of_sending_them() -> None:
    assert visible("a\x1b[8mhidden\x07\x00") == "a\\x1b[8mhidden\\x07\\x00"
    assert visible("line one\n\ttwo") == "line one\n\ttwo"
