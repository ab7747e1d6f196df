"""What the ninth blind dev set of 2026-12-05 (dev_blind_14.jsonl) taught, in our own phrasings.

Every case failed on commit 63d68ae, the one measured: "give us sales" read as US sales, an hour before a full
stop, "stick that in a csv" after a report, an xlsx export taken for a load, a singular "client by revenue", "the
order table", a new count with a reason after it, "e-mailed", "the previous quarter" after this quarter, "before
we go live" read as a live run, and "run it again" after a what-if taken as an order.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.backends.embedded.backend import EmbeddedBackend
from tests.utils.embedded import Earlier, assert_call, decide


@pytest.mark.parametrize(
    ("text", "tool", "expected"),
    [
        ("Get us sales by product for last week, Asia only", "run_report", {"region": "apac"}),
        ("run the invoice flow every Friday at 7.", "schedule_flow", {"cron": "0 7 * * 5"}),
        ("top 15 client by revenue last quarter", "run_report", {"report": "top_customers", "limit": 15}),
        ("kindly fill the empty totals in order table", "normalize_dataset", {"dataset": "orders"}),
        (
            "The director would like the ops team e-mailed: 'Stocktake moves to Monday.'",
            "send_notification",
            {"channel": "email", "recipient": "ops"},
        ),
        (
            "Before we go live, preview what cleaning the customer emails would change",
            "normalize_dataset",
            {"dataset": "customers", "dry_run": True},
        ),
    ],
)
def test_single_messages(db_backend: EmbeddedBackend, text: str, tool: str, expected: dict[str, Any]) -> None:
    assert_call(db_backend, text, tool, expected)


def test_an_xlsx_export_is_refused_not_loaded(db_backend: EmbeddedBackend) -> None:
    assert decide(db_backend, "Download products as XLSX please.").tool is None


REPORTED: Earlier = ("run_report", {"report": "sales_by_product", "period": "last_month"}, None)
QUARTER: Earlier = ("run_report", {"report": "sales_by_region", "period": "this_quarter"}, None)
QUOTED: Earlier = ("quote_price", {"client_id": 1042, "product": "B200", "quantity": 300}, None)


@pytest.mark.parametrize(
    ("after", "text", "tool", "expected"),
    [
        (
            REPORTED,
            "pop it into a spreadsheet",
            "export_dataset",
            {"dataset": "sales_by_product", "format": "csv"},
        ),
        (QUARTER, "and the previous quarter as well", "run_report", {"period": "last_quarter"}),
        (
            QUOTED,
            "What if we scale to 900 to get the better price? Run it again.",
            "quote_price",
            {"quantity": 900},
        ),
        (
            QUOTED,
            "what if they scale up to 900 so they qualify for the bulk break? rerun it",
            "quote_price",
            {"quantity": 900},
        ),
    ],
)
def test_follow_ups(
    backend: EmbeddedBackend, after: Earlier, text: str, tool: str, expected: dict[str, Any]
) -> None:
    assert_call(backend, text, tool, expected, after)
