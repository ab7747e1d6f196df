"""Customer ids, run ids, quantities, limits and SKUs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.backends.embedded.extract import (
    extract_client_id,
    extract_limit,
    extract_quantity,
    extract_run_id,
    extract_sku,
)

CATALOGUE = ("A100X", "B200", "C-55")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("client 1042", 1042),
        ("quote for customer #1042", 1042),
        ("acct 1042", 1042),
        ("account no. 1042", 1042),
        ("client id: 1042", 1042),
        ("customer number 1042", 1042),
        ("Client#1042", 1042),
        ("client_id=1042", 1042),
        ("client sync", None),
        ("quote 12 A100X", None),
        ("run 57", None),
        ("#1042", None),
        ("client 2026-01-01", None),
        ("client twelve", 12),
    ],
)
def test_extract_client_id(text: str, expected: int | None) -> None:
    assert extract_client_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status of run 57", 57),
        ("run #57", 57),
        ("job 57 failed", 57),
        ("retry 57", 57),
        ("rerun #57 please", 57),
        ("run id 57", 57),
        ("what happened with #57", 57),
        ("run the nightly export", None),
        ("how did the latest run go", None),
        ("order for client #1042", None),
        ("run 5:30", None),
        ("what happened to run fifty seven", 57),
    ],
)
def test_extract_run_id(text: str, expected: int | None) -> None:
    assert extract_run_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("top 5", 5),
        ("top five customers", 5),
        ("first 20 rows", 20),
        ("the 10 biggest clients", 10),
        ("limit to 3", 3),
        ("top5 products", 5),
        ("just the best twelve", 12),
        ("top customers", None),
        ("top customers for the last 30 days", None),
        ("first of the month", None),
        ("last 5 days", None),
    ],
)
def test_extract_limit(text: str, expected: int | None) -> None:
    assert extract_limit(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quote 12 A100X for client 1042", 12),
        ("order twelve B200 for client 7", 12),
        ("50 units of C-55", 50),
        ("qty 5 of A100X", 5),
        ("quantity: 8", 8),
        ("5x B200 for client 1042", 5),
        ("B200 x 3", 3),
        ("a dozen A100X please", 12),
        ("an A100X for client 1042", 1),
        ("price for 1,200 B200", 1200),
        ("quote 2k B200 for client 1042", 2000),
        ("order 3 B200 for client 1042 at 9:30", 3),
        ("order 2025 units of B200", 2025),
        ("in 2025 we need 4 B200", 4),
        ("for client 1042 how much is 40 of the C-55", 40),
        ("price of A100X for client 1042", None),
        ("quote for run 57", None),
        ("top 5 products", None),
        ("send 15 boxes, ref 12", 15),
        ("12 and 15", None),
    ],
)
def test_extract_quantity(text: str, expected: int | None) -> None:
    assert extract_quantity(text) == expected


@pytest.mark.parametrize(
    ("text", "known", "expected"),
    [
        ("quote A100X", None, "A100X"),
        ("quote a100x", None, "A100X"),
        ("12 b200 please", None, "B200"),
        ("C-55", None, "C-55"),
        ("C55", None, "C55"),
        ("C55", CATALOGUE, "C-55"),
        ("c 55 will do", CATALOGUE, "C-55"),
        ("two c-55s", None, "C-55"),
        ("two C55s", CATALOGUE, "C-55"),
        ("A1000X", CATALOGUE, "A100X"),
        ("A100Y", CATALOGUE, "A100X"),
        ("B201", CATALOGUE, "B201"),
        ("Z999", CATALOGUE, "Z999"),
        ("A100X and B200", None, None),
        ("A100X, again A100X", None, "A100X"),
        ("Q3 sales", None, None),
        ("top10", None, None),
        ("fy2025", None, None),
        ("A100X_prices.csv", None, None),
        ("no product mentioned", CATALOGUE, None),
    ],
)
def test_extract_sku(text: str, known: tuple[str, ...] | None, expected: str | None) -> None:
    assert extract_sku(text, known=known) == expected


def test_extract_sku_finds_known_codes_of_any_shape() -> None:
    assert extract_sku("order the widget-9 please", known=("WIDGET-9",)) == "WIDGET-9"


@given(st.text(max_size=80))
def test_id_extractors_never_raise(text: str) -> None:
    for extractor in (extract_client_id, extract_run_id, extract_limit, extract_quantity):
        value = extractor(text)
        assert value is None or value >= 0
    extract_sku(text, known=CATALOGUE)


@given(st.integers(min_value=1, max_value=999_999_999))
def test_client_and_run_ids_read_back(n: int) -> None:
    assert extract_client_id(f"customer #{n}") == n
    assert extract_run_id(f"run {n}") == n
