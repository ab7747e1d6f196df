"""Dry-run phrasing, file paths, quoted text, messages, recipients, lookup queries and artifact references."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.backends.embedded.extract import (
    extract_artifact,
    extract_dry_run,
    extract_message,
    extract_path,
    extract_query,
    extract_quoted,
    extract_recipient,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apply the vip rules but just show me, don't change anything", True),
        ("dry run the credit holds", True),
        ("do a dry-run", True),
        ("what would change if I applied the vip tiering?", True),
        ("what would the credit hold rules change?", True),
        ("preview the credit hold rules", True),
        ("simulate it", True),
        ("run the rules without applying", True),
        ("don't apply, just preview", True),
        ("read-only please", True),
        ("apply it", False),
        ("apply vip tiering for real", False),
        ("go ahead and apply the credit holds", False),
        ("not a dry run this time", False),
        ("skip the dry run", False),
        ("apply it for real, don't just preview", False),
        ("apply the vip tiering", None),
        ("normalize the orders", None),
        ("go ahead", None),
        ("apply it for real but just preview", None),
    ],
)
def test_extract_dry_run(text: str, expected: bool | None) -> None:
    assert extract_dry_run(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("load orders_today.csv into orders", "orders_today.csv"),
        ("ingest customers_update.xlsx please", "customers_update.xlsx"),
        ("ingest /inbox/products.json", "/inbox/products.json"),
        ("load Orders_Today.CSV", "Orders_Today.CSV"),
        ('load "Q3 customers.xlsx" into customers', "Q3 customers.xlsx"),
        ("use 'orders.csv'", "orders.csv"),
        ("load ./inbox/orders.csv", "./inbox/orders.csv"),
        ("load ~/data/orders", "~/data/orders"),
        (r"load C:\inbox\orders.csv", r"C:\inbox\orders.csv"),
        ("load orders_today.csv.", "orders_today.csv"),
        ("send sales_by_region_2026-11-21.csv to the bank", "sales_by_region_2026-11-21.csv"),
        ("load today's orders file", None),
        ("email ops@acme.com", None),
        ("see https://example.com/a.csv", None),
        ("version v1.2, e.g. this", None),
        ("and/or", None),
        ("load the orders", None),
    ],
)
def test_extract_path(text: str, expected: str | None) -> None:
    assert extract_path(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('tell ops "the bank file is late"', "the bank file is late"),
        ("tell ops 'the bank's file is late'", "the bank's file is late"),
        ("tell ops \u201cinvoices are out\u201d", "invoices are out"),
        ("say `done` and 'the export finished fine'", "the export finished fine"),
        ("load today's orders file", None),
        ("no quotes here", None),
    ],
)
def test_extract_quoted(text: str, expected: str | None) -> None:
    assert extract_quoted(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tell finance on telegram 'the bank file is late'", "the bank file is late"),
        ("email ops@acme.com saying the nightly export failed", "the nightly export failed"),
        ("ping the ops team on telegram that the bank export is stuck", "the bank export is stuck"),
        ("let finance know the invoices are out.", "the invoices are out"),
        ("tell sales the new price list is live via email", "the new price list is live"),
        ("send a telegram to ops that the export failed", "the export failed"),
        ("ping ops: the bank is down", "the bank is down"),
        ("notify finance by email about the late invoice run", "the late invoice run"),
        ("send a message with the text: run 57 failed", "run 57 failed"),
        ("send the latest export to the bank", None),
        ("tell ops", None),
    ],
)
def test_extract_message(text: str, expected: str | None) -> None:
    assert extract_message(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tell finance on telegram 'the bank file is late'", "finance"),
        ("email Jane.Doe@acme.com that the load failed", "Jane.Doe@acme.com"),
        ("message @OpsLead on telegram saying hi", "@OpsLead"),
        ("post to chat -1001234567890 that sales are in", "-1001234567890"),
        ("send to chat id 55512345 'done'", "55512345"),
        ("tell the ops team the sales export is late", "ops"),
        ("notify operations", "ops"),
        ("let the accounting people know", "finance"),
        ("send the sales team an email", "sales"),
        ("tell ops 'finance has the file'", "ops"),
        ("email someone about sales and finance", None),
        ("send a notification", None),
    ],
)
def test_extract_recipient(text: str, expected: str | None) -> None:
    assert extract_recipient(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("look up Acme Logistics please", "Acme Logistics"),
        ("find the customer called Acme Foods", "Acme Foods"),
        ("who is Globex?", "Globex"),
        ("what do we know about Initech", "Initech"),
        ("can you pull up the account for Northwind Traders", "Northwind Traders"),
        ("customer details for acme", "acme"),
        ("find customer #1042", "1042"),
        ("look up 1042", "1042"),
        ("who is jane@acme.com?", "jane@acme.com"),
        ("search for 'Acme Logistics Ltd'", "Acme Logistics Ltd"),
        ("do we have a customer named Globex?", "Globex"),
        ("show me Acme Foods' record", "Acme Foods"),
        ("look up", None),
        ("find the customer please", None),
    ],
)
def test_extract_query(text: str, expected: str | None) -> None:
    assert extract_query(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("send the latest export to the bank", "latest"),
        ("deliver the most recent file to the partner", "latest"),
        ("send the last one to finance", "latest"),
        ("deliver export #12 to the erp", "12"),
        ("send artifact 7", "7"),
        ("send last month's report to the partner", None),
        ("send it to the bank", None),
    ],
)
def test_extract_artifact(text: str, expected: str | None) -> None:
    assert extract_artifact(text) == expected


@given(st.text(max_size=80))
def test_text_extractors_never_raise(text: str) -> None:
    assert extract_dry_run(text) in (True, False, None)
    for extractor in (extract_path, extract_quoted, extract_message, extract_recipient, extract_query):
        value = extractor(text)
        assert value is None or (isinstance(value, str) and value.strip() == value and value)
    assert extract_artifact(text) in (None, "latest") or extract_artifact(text).isdigit()  # type: ignore[union-attr]
