"""What the sixteenth blind set (dev_blind_21.jsonl) taught, in our own phrasings.

Every case failed on commit 255ad9c, the one measured: a dataset told from a team named after it, Hinglish
"chalao", a count beside a region in one follow-up, day-first dotted dates, "the last exported file", "sales on
products", "I wanted Thursday, not Friday", "the state of the execution", "a quarter to midnight", "since the
season opened on …", "the 11th to today", a request followed by a statement of why, a customer named after a
lookup, "Hmm" and the rest of a question taken for a name, a value repaired as it is typed, H-codes without the
database; and stock on the shelf, a reorder point, a staff rota and a new flow are no tool's.
"""

from __future__ import annotations

from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.embedded.speech_acts import as_typed
from tests.utils.embedded import Earlier, assert_call, calls_test, refusals_test

TOP: Earlier = ("run_report", {"report": "top_customers", "period": "this_year", "limit": 10}, None)
SCHEDULED: Earlier = ("schedule_flow", {"flow": "invoice_run", "cron": "0 8 * * 1"}, None)
EXPORTED: Earlier = (
    "export_dataset",
    {"dataset": "orders", "format": "xml", "period": "2026-11-01..2026-11-10"},
    None,
)
LOOKED_UP: Earlier = ("lookup_customer", {"query": "atlas"}, None)
QUOTED: Earlier = ("quote_price", {"client_id": 1042, "product": "B200", "quantity": 40}, None)
REPORTED: Earlier = ("run_report", {"report": "sales_by_product", "period": "last_month"}, None)


test_calls = calls_test(
    [
        (
            "Export all orders of this month as xml, our customers team wants it",
            "export_dataset",
            {"dataset": "orders", "format": "xml"},
            None,
        ),
        ("make it 15 and only APAC", "run_report", {"region": "apac", "limit": 15}, TOP),
        ("Europe only, and give me 5.", "run_report", {"region": "emea", "limit": 5}, TOP),
        ("Show me all runs from 02.11 until 09.11.", "list_runs", {"period": "2026-11-02..2026-11-09"}, None),
        (
            "I need the customers from 01.10.2026 until 31.10.2026 as json",
            "export_dataset",
            {"dataset": "customers", "period": "2026-10-01..2026-10-31"},
            None,
        ),
        (
            "Please send the last exported file to the bank sftp.",
            "deliver_file",
            {"file": "latest", "destination": "bank_sftp"},
            None,
        ),
        (
            "A report with the sales on products for the second quarter, only for Europe.",
            "run_report",
            {"report": "sales_by_product", "period": "2026-04-01..2026-06-30", "region": "emea"},
            None,
        ),
        ("Sorry, I wanted Tuesday, not Monday.", "schedule_flow", {"cron": "0 8 * * 2"}, SCHEDULED),
        ("What is the state of the execution 412?", "get_run_status", {"run_id": 412}, None),
        (
            "schedule the customer sync every night at a quarter to midnight",
            "schedule_flow",
            {"flow": "customer_sync", "cron": "45 23 * * *"},
            None,
        ),
        (
            "Revenue trend since the shop reopened on the 3rd of October, please",
            "run_report",
            {"report": "revenue_trend", "period": "2026-10-03..2026-11-22"},
            None,
        ),
        (
            "Lovely, now the 11th to today, same format.",
            "export_dataset",
            {"period": "2026-11-11..2026-11-22"},
            EXPORTED,
        ),
        (
            "I need every customer we have as a CSV — the auditors are doing their annual review on site.",
            "export_dataset",
            {"dataset": "customers", "format": "csv"},
            None,
        ),
        ("No, no — Atlas Retail specifically.", "lookup_customer", {"query": "Atlas Retail"}, LOOKED_UP),
        (
            "Hmm, not them. How about Cobalt Foods?",
            "lookup_customer",
            {"query": "Cobalt Foods"},
            LOOKED_UP,
        ),
        ("whos cobalt foods? tier and hold status. over", "lookup_customer", {"query": "cobalt foods"}, None),
        ("Look up 1042 — no wait, 1044, fat fingers.", "lookup_customer", {"query": "1044"}, None),
    ]
)


def test_hinglish_run_is_read_as_run() -> None:
    assert as_typed("customer sync ta chalao") == "customer sync ta run"


def test_h_codes_are_products_without_the_database(backend: EmbeddedBackend) -> None:
    assert_call(
        backend, "Book an order for customer 1042, sku H200, qty 25.", "create_order", {"product": "H200"}
    )


test_work_no_tool_does_is_refused = refusals_test(
    [
        ("set reorder level for A100X bolts to 400", None),
        ("how many b200 we got on the shelf", QUOTED),
        ("great, now make the weekend rota from that", REPORTED),
        ("Schedule a new flow called month_end_pack every Monday at 7.", None),
    ]
)
