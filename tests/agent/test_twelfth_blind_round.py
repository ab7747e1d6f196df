"""What the eleventh blind set's leftovers and the twelfth blind dev set of 2026-12-05 (dev_blind_17.jsonl) taught.

In our own phrasings. The cases marked ``ELEVENTH`` failed on d8c35be, before the leftovers were fixed; every other
case failed on d39bea6, the commit the twelfth set was measured on, except the guards, which pin what must not
change: a weekend schedule, and short narrowing follow-ups that the router alone would read as another tool.
"""

from __future__ import annotations

import pytest

from agent.backends.embedded.backend import EmbeddedBackend
from tests.utils.embedded import Earlier, calls_test, decide, refusals_test

SCHEDULED: Earlier = ("schedule_flow", {"flow": "invoice_run", "cron": "30 4 * * *"}, None)
LOOKED_UP: Earlier = ("lookup_customer", {"query": "1342"}, None)
EXPORTED: Earlier = ("export_dataset", {"dataset": "customers", "format": "csv"}, None)
LOADED_ORDERS: Earlier = ("ingest_file", {"path": "orders_today.csv", "dataset": "orders"}, 3301)
LOADED_CUSTOMERS: Earlier = ("ingest_file", {"path": "customers_update.xlsx", "dataset": "customers"}, 3302)
FAILED_RUNS: Earlier = ("list_runs", {"status": "failed", "period": "last_7_days"}, None)
TOP_CUSTOMERS: Earlier = ("run_report", {"report": "top_customers", "period": "last_month"}, None)
FLOW_RUN: Earlier = ("run_flow", {"flow": "nightly_sales_export"}, 2231)

ELEVENTH = [
    ("no, make it 6:45, weekdays only", "schedule_flow", {"cron": "45 6 * * 1-5"}, SCHEDULED),
    (
        "book the invoice run for the 2nd and the 16th of every month at 9",
        "schedule_flow",
        {"flow": "invoice_run", "cron": "0 9 2,16 * *"},
        None,
    ),
    (
        "How does the bulk discount work exactly, when we give a discount on big orders?",
        "explain_rule",
        {"rule": "bulk_discount"},
        None,
    ),
]


test_calls = calls_test(
    [
        *ELEVENTH,
        (
            "regional sales for last month please, only the aussie side",
            "run_report",
            {"report": "sales_by_region", "region": "apac"},
            None,
        ),
        (
            "make it json actually, their importer can't handle csv",
            "export_dataset",
            {"format": "json"},
            EXPORTED,
        ),
        (
            "now clean up the orders table please, some rows came in without totals",
            "normalize_dataset",
            {"dataset": "orders"},
            LOADED_ORDERS,
        ),
        (
            "Cheers. Now could you run the customer sync so the new accounts get cleaned?",
            "run_flow",
            {"flow": "customer_sync"},
            LOADED_CUSTOMERS,
        ),
        (
            "and for the whole previous month?",
            "list_runs",
            {"status": "failed", "period": "last_month"},
            FAILED_RUNS,
        ),
        (
            "quote for this client: 150 pieces B200",
            "quote_price",
            {"client_id": 1342, "quantity": 150, "product": "B200"},
            LOOKED_UP,
        ),
        (
            "could you set the customer sync to every Thursday at 5pm, so it's done before the weekend",
            "schedule_flow",
            {"cron": "0 17 * * 4"},
            None,
        ),
        (
            "Could you list only the top 3 please? The board pack has room for three.",
            "run_report",
            {"limit": 3},
            TOP_CUSTOMERS,
        ),
        ("sales by part # this month", "run_report", {"report": "sales_by_product"}, None),
        ("qte em 12 A100X", "quote_price", {"client_id": 1342, "quantity": 12}, LOOKED_UP),
        (
            "top 5 customer in Europe this quarter pls",
            "run_report",
            {"report": "top_customers", "limit": 5},
            None,
        ),
        ("clean the customer names but trial first", "normalize_dataset", {"dry_run": True}, None),
        (
            "schedule the invoice run every Tuesday 7.45 morning",
            "schedule_flow",
            {"cron": "45 7 * * 2"},
            None,
        ),
        ("Already done or not?", "get_run_status", {"run_id": 2231}, FLOW_RUN),
        # guards
        ("invoice run every weekend at 9", "schedule_flow", {"cron": "0 9 * * 0,6"}, None),
        ("only failed", "list_runs", {"status": "failed"}, ("list_runs", {"period": "today"}, None)),
        ("and which are pending?", "list_runs", {"status": "pending"}, FAILED_RUNS),
    ]
)


test_work_no_tool_does_is_refused = refusals_test(
    [
        ("please fix the total of order 15501 to 980.00", None),
        ("list all customers with their IBAN and bank details", None),
        (
            "also raise a PO to Makita for 20 more",
            ("create_order", {"client_id": 1412, "product": "C100X", "quantity": 8}, None),
        ),
    ]
)


@pytest.mark.parametrize(
    "text",
    [
        "Thank you. Please set out the payment criteria that would apply to such an account.",  # ELEVENTH
        "Thanks. Now outline the credit hold conditions that would be relevant to such an account.",
    ],
)
def test_a_follow_up_search_for_the_words_of_the_message_is_no_lookup(
    db_backend: EmbeddedBackend, text: str
) -> None:
    """After a lookup, a request about the rules is no search for a customer named "Now" or after its words."""
    assert decide(db_backend, text, LOOKED_UP).tool != "lookup_customer"
