"""Fuzzy customer names against candidates loaded by the caller."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.backends.embedded.extract import (
    Match,
    find_names_by_word,
    find_names_in_text,
    pick_name,
    resolve_name,
)

CUSTOMERS = {
    1042: "Acme Logistics",
    1077: "Acme Foods Ltd",
    2001: "Globex GmbH",
    2002: "Initech",
    2003: "Northwind Traders",
    9: "Bo",
}


@pytest.mark.parametrize(
    ("query", "expected_ids"),
    [
        ("Acme Logistics", [1042]),
        ("acme logistics", [1042]),
        ("Acme Logstics", [1042]),
        ("acme logistics ltd", [1042]),
        ("Globex", [2001]),
        ("globex gmbh", [2001]),
        ("northwind", [2003]),
        ("Nortwind Traders", [2003]),
        ("1042", [1042]),
        ("#2002", [2002]),
        ("acme", [1042, 1077]),
        ("Umbrella Corp", []),
        ("", []),
        ("   ", []),
    ],
)
def test_resolve_name(query: str, expected_ids: list[int]) -> None:
    assert [m.id for m in resolve_name(query, candidates=CUSTOMERS)] == expected_ids


def test_legal_suffixes_do_not_count() -> None:
    assert resolve_name("Globex Ltd", candidates=CUSTOMERS) == [Match(2001, "Globex GmbH", 100.0)]


def test_resolve_name_scores_and_limits() -> None:
    exact = resolve_name("Initech", candidates=CUSTOMERS)
    assert exact == [Match(2002, "Initech", 100.0)]
    assert resolve_name("acme", candidates=CUSTOMERS, limit=1)[0].id == 1042
    assert resolve_name("Acme Logstics", candidates=CUSTOMERS, score_cutoff=99.0) == []
    assert resolve_name("acme", candidates={}) == []


def test_pick_name_needs_a_clear_winner() -> None:
    strong = resolve_name("Acme Logistics", candidates=CUSTOMERS)
    assert pick_name(strong) == Match(1042, "Acme Logistics", 100.0)
    assert pick_name(resolve_name("acme", candidates=CUSTOMERS)) is None
    assert pick_name([Match(1, "A", 80.0)]) is None
    assert pick_name([]) is None


@pytest.mark.parametrize(
    ("text", "expected_ids"),
    [
        ("quote 12 A100X for Acme Logistics", [1042]),
        ("how much would 5 B200 cost acme logstics?", [1042]),
        ("order 5 B200 for initech please", [2002]),
        ("order for acme", []),
        ("initiate the thing", []),
        ("Bo wants 3 of them", []),
    ],
)
def test_find_names_in_text(text: str, expected_ids: list[int]) -> None:
    assert [m.id for m in find_names_in_text(text, candidates=CUSTOMERS)] == expected_ids


def test_find_names_by_word_finds_shared_short_names() -> None:
    assert [m.id for m in find_names_by_word("order for acme", candidates=CUSTOMERS)] == [1042, 1077]
    assert [m.id for m in find_names_by_word("quote northwind", candidates=CUSTOMERS)] == [2003]
    assert find_names_by_word("quote north", candidates=CUSTOMERS) == []


@given(st.text(max_size=40))
def test_resolve_name_never_raises_and_keeps_scores_in_range(query: str) -> None:
    for match in resolve_name(query, candidates=CUSTOMERS, score_cutoff=0.0):
        assert 0.0 <= match.score <= 100.0
        assert CUSTOMERS[match.id] == match.name
