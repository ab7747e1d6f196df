"""Arguments as strangers write them: short forms, non-native phrasing, jargon, descriptions instead of names."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType
from typing import Any

import pytest

from agent.backends.embedded.extract import (
    KnownEntities,
    extract_args,
    extract_client_id,
    extract_cron,
    extract_dry_run,
    extract_period,
    extract_quantity,
    extract_query,
    extract_recipient,
    parse_number,
)
from tools.registry import build_registry

TODAY = date(2026, 11, 22)
KNOWN = KnownEntities(
    skus=("H100X", "B200", "F200"),
    customers=MappingProxyType({1150: "Harbour Metals", 1277: "Quill Office Supply"}),
    products=MappingProxyType({"H100X": "Copy Paper A4", "B200": "Stretch Film", "F200": "Pressure Gauge"}),
)
SCHEMAS = {name: spec.args_model.model_json_schema() for name, spec in build_registry().items()}


def _args(tool: str, text: str, known: KnownEntities | None = None) -> dict[str, Any]:
    return dict(extract_args(text, schema=SCHEMAS[tool], today=TODAY, known=known).values)


@pytest.mark.parametrize(
    ("tool", "text", "name", "expected"),
    [
        ("run_report", "revenue na for the past 30 days", "region", "north_america"),
        ("run_report", "top customers in na please", "region", "north_america"),
        ("run_report", "how revenue developed across the regions last quarter", "report", "revenue_trend"),
        (
            "run_report",
            "show me the evolution of revenue this year for every region",
            "report",
            "revenue_trend",
        ),
        ("run_report", "number of orders per status this week", "report", "order_status"),
        ("run_report", "which orders are still open vs shipped", "report", "order_status"),
        ("run_report", "what sells best in Poland", "region", "emea"),
        ("export_dataset", "export the prods to xml", "dataset", "products"),
        ("explain_rule", "what does it take to reach platinum tier?", "rule", "vip_customer"),
        ("explain_rule", "explain quantity discounts and the vip perks", "rule", "bulk_discount"),
        ("apply_rules", "rerun the gold and silver assignment", "ruleset", "vip_tiering"),
        ("list_runs", "list the runs awaiting their turn", "status", "pending"),
        ("list_runs", "anything that turned red overnight?", "status", "failed"),
        ("list_runs", "which jobs didn't succeed yesterday", "status", "failed"),
        ("list_runs", "runs that ran clean this morning", "status", "succeeded"),
        ("ingest_file", "load orders_nov.csv and delete the old orders first", "mode", "replace"),
        ("ingest_file", "import customers_nov.csv, keep the existing rows", "mode", "append"),
        ("run_flow", "begin the syncing of customers now", "flow", "customer_sync"),
        ("run_flow", "launch the client synchro", "flow", "customer_sync"),
        ("list_runs", "which runs timed out today", "status", "failed"),
        ("ingest_file", "load products_v2.json, throw away the old rows", "mode", "replace"),
        ("explain_rule", "what do large quantities earn?", "rule", "bulk_discount"),
    ],
)
def test_enum_values_in_everyday_words(tool: str, text: str, name: str, expected: str | None) -> None:
    assert _args(tool, text).get(name) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("this one must be applied for good, not simulated", False),
        ("normalize products, dry_run = false", False),
        ("dry-run: off, go", False),
        ("credit hold, dry, please", True),
        ("run the vip tiers properly, not only a preview", False),
        ("the tiering is signed off, it's to be applied", False),
        ("apply credit hold but do not commit it", True),
        ("we don't want to touch anything, only look at the result", True),
        ("what would the cleanup make to the customers?", True),
        ("customer cleanup, not dry", False),
        ("show me the tiering diff first", True),
        ("nothing should be applied yet, show me the holds", True),
    ],
)
def test_dry_run_wording(text: str, expected: bool) -> None:
    assert extract_dry_run(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "could you warn the ops folks via e-mail that the sftp box is full",
            {"channel": "email", "recipient": "ops", "message": "the sftp box is full"},
        ),
        (
            "inform the finance department using telegram that invoices are out",
            {"channel": "telegram", "recipient": "finance", "message": "invoices are out"},
        ),
        (
            "let the sales people know that the price list changed, by mail please",
            {"channel": "email", "recipient": "sales", "message": "the price list changed"},
        ),
        (
            'send "export done" to https://ci.example.org/notify/42.',
            {"channel": "webhook", "recipient": "https://ci.example.org/notify/42", "message": "export done"},
        ),
        (
            'send "close finished" to maria.rossi@example.it',
            {"channel": "email", "recipient": "maria.rossi@example.it", "message": "close finished"},
        ),
        ('ping @late_shift "bank file is in"', {"channel": "telegram", "recipient": "@late_shift"}),
    ],
)
def test_channels_and_addresses(text: str, expected: dict[str, str]) -> None:
    found = _args("send_notification", text)
    assert {k: found.get(k) for k in expected} == expected


def test_words_of_a_url_name_no_channel() -> None:
    assert (
        _args("send_notification", 'post "ok" to https://mail.example.net/hooks/in')["channel"] == "webhook"
    )
    # A URL inside the message is what is said, not where it goes.
    assert extract_recipient("tell ops the site https://status.example.org is down") == "ops"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("price it again at 2,400 units", 2400),
        ("can I get 1.500 pcs of B200", 1500),
        ("how much on 40 rolls for them", 40),
        ("quote on 6 crates for client 1150", 6),
    ],
)
def test_quantities(text: str, expected: int | None) -> None:
    assert extract_quantity(text) == expected


def test_a_count_before_a_product_name() -> None:
    assert extract_quantity("a price on 3k stretch film", products=["Stretch Film"]) == 3000
    assert extract_quantity("ship on 12 h100x", known=["H100X"]) == 12


@pytest.mark.parametrize(
    ("tool", "text", "expected"),
    [
        ("quote_price", "quote 1277 for 60 pressure gauges", {"client_id": 1277, "quantity": 60}),
        ("quote_price", "price on 450 stretch film for 1150", {"client_id": 1150, "quantity": 450}),
        ("create_order", "ordr 8 h100x 4 1277", {"client_id": 1277, "product": "H100X", "quantity": 8}),
        ("create_order", "book 25 B200 for 1150 pls", {"client_id": 1150, "product": "B200", "quantity": 25}),
    ],
)
def test_customer_given_as_a_bare_number(tool: str, text: str, expected: dict[str, Any]) -> None:
    # Product names are resolved by the backend's entity index; here only ids, SKUs and counts are read.
    assert _args(tool, text, KNOWN) == expected


def test_bare_number_for_a_customer_without_a_database() -> None:
    assert _args("quote_price", "quote 30 B200 for 2044") == {
        "client_id": 2044,
        "product": "B200",
        "quantity": 30,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("find the client with the id 2210", 2210),
        ("the customer whose number is 2210", 2210),
        ("client id is 2210", 2210),
        ("client n° 2210", 2210),
    ],
)
def test_customer_id_with_id_words(text: str, expected: int | None) -> None:
    assert extract_client_id(text) == expected


def test_lookup_by_id_keeps_only_the_id() -> None:
    assert extract_query("pull up the customer with id 2210, I need their address") == "2210"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("run it every day at 22 hour", "0 22 * * *"),
        ("each friday to the 6 and half", "30 6 * * 5"),
        ("weekdays at 8 and a quarter", "15 8 * * 1-5"),
        ("daily at 6.45", "45 6 * * *"),
        ("set it on a 20-minute cron", "*/20 * * * *"),
        ("a 3-hour schedule", "0 */3 * * *"),
        ("each 5 minutes", "*/5 * * * *"),
        ("run it all days", "0 0 * * *"),
        ("every sunday at hour 4", "0 4 * * 0"),
        ("on weekdays at 7 hours 15", "15 7 * * 1-5"),
        ("each 1st of month at 6", "0 6 1 * *"),
        ("each quarter hour", "*/15 * * * *"),
    ],
)
def test_cron_in_non_native_phrasing(text: str, expected: str) -> None:
    assert extract_cron(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sales since the beginning of september", "2026-09-01..2026-11-22"),
        ("orders since mid-october", "2026-10-15..2026-11-22"),
        ("revenue from the start of august 2025", "2025-08-01..2026-11-22"),
        ("since the start of q2", "2026-04-01..2026-11-22"),
        ("orders since the beginning of last month", "2026-10-01..2026-11-22"),
        ("revenue of the month passed", "last_month"),
        ("failures in the week passed", "last_week"),
    ],
)
def test_periods_in_everyday_phrasing(text: str, expected: str) -> None:
    assert extract_period(text, today=TODAY) == expected


def test_dotted_thousands_are_a_count_but_decimals_are_not() -> None:
    assert parse_number("4.000") == 4000
    assert parse_number("4.5") is None
    assert parse_number("4.25") is None


def test_guards_what_the_new_readings_leave_alone() -> None:
    # These held before the change and must keep holding: a bare "na" is "no", a clock time is no count,
    # a count before a unit is no customer, "with 40 orders" is no id, a named month stays that month.
    assert _args("run_report", "na, forget the region, just sales last week").get("region") is None
    assert extract_quantity("at 9:30 tomorrow") is None
    assert _args("create_order", "order 1150 rolls of B200", KNOWN) == {"product": "B200", "quantity": 1150}
    assert extract_client_id("customers with 40 orders") is None
    assert extract_period("orders in october", today=TODAY) == "2026-10-01..2026-10-31"
