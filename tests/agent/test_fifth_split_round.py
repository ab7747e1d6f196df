"""What look 13 at the fifth fresh split (now dev_spent_fresh_test_5.jsonl) found, in our own phrasings.

Every case failed on commit 6315127, the one measured, except the guard (a customer who is negotiating): arguments written as labels ("limit=3", "period: last_quarter"), Indian business
English ("party", "lakh", "revert", a bare "same"), Portuguese and Spanish words, changes no tool makes, and
follow-ups that move a schedule's day or a period, correct a quantity, or ask after a run.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.backends.embedded.backend import EmbeddedBackend
from tests.utils.embedded import Earlier, assert_call, decide


@pytest.mark.parametrize(
    ("text", "tool", "expected"),
    [
        (
            "Run sales_by_product, limit=3, region=latam, period=last_30_days.",
            "run_report",
            {"limit": 3, "region": "latam", "period": "last_30_days"},
        ),
        (
            "Report: top_customers | limit: 7 | period: last_quarter",
            "run_report",
            {"limit": 7, "period": "last_quarter"},
        ),
        (
            'Notify: channel=telegram, recipient=987654321, text "smoke 7 ok"',
            "send_notification",
            {"recipient": "987654321", "message": "smoke 7 ok"},
        ),
        ("Kindly check party code 1311 and revert with the details", "lookup_customer", {"query": "1311"}),
        (
            "Party 1207 needs 2 lakh units of B200, kindly book the order",
            "create_order",
            {"client_id": 1207, "quantity": 200_000},
        ),
        (
            "What is the rate for party 1104 for 40 units of A100X? Kindly revert at the earliest.",
            "quote_price",
            {"client_id": 1104, "quantity": 40},
        ),
        ("3 dozens of C-55 for client 1042, place it", "create_order", {"quantity": 36}),
        ("export the produtos as xml", "export_dataset", {"dataset": "products", "format": "xml"}),
        ("send me the pedidos from yesterday as csv", "export_dataset", {"dataset": "orders"}),
        ("runs that failed hoje", "list_runs", {"status": "failed", "period": "today"}),
        ("which runs are pendentes?", "list_runs", {"status": "pending"}),
        (
            "Tell me, without amending anything, which customer emails would be cleaned",
            "normalize_dataset",
            {"dataset": "customers", "dry_run": True},
        ),
        # a guard, then a webhook on a messenger's host (was refused as the messenger)
        (
            "Customer 1215 is negotiating a bigger order, what would 300 B200 cost them?",
            "quote_price",
            {"client_id": 1215, "quantity": 300},
        ),
        (
            "post 'sync done' to https://hooks.slack.com/services/A/B/C",
            "send_notification",
            {"channel": "webhook"},
        ),
    ],
)
def test_single_messages(db_backend: EmbeddedBackend, text: str, tool: str, expected: dict[str, Any]) -> None:
    assert_call(db_backend, text, tool, expected)


@pytest.mark.parametrize(
    "text",
    [
        "leave customer 1300 out of the VIP tiering and run it",
        "please reduce the quantity in order 20455 to 12 nos",
        "book 500 gloves through Ariba",
        "can you negotiate with Acme Logistics on the B200 price?",
        "Just a test message, please ignore it",
    ],
)
def test_changes_no_tool_makes_are_refused(db_backend: EmbeddedBackend, text: str) -> None:
    assert decide(db_backend, text).tool is None


MONTHLY: Earlier = ("schedule_flow", {"flow": "invoice_run", "cron": "0 7 1 * *"}, None)
WEEKLY: Earlier = ("schedule_flow", {"flow": "customer_sync", "cron": "0 6 * * 1"}, None)
OCTOBER: Earlier = ("run_report", {"report": "sales_by_region", "period": "2026-10-01..2026-10-31"}, None)
ORDER: Earlier = ("create_order", {"client_id": 1099, "product": "F200", "quantity": 20}, None)
STARTED: Earlier = ("run_flow", {"flow": "invoice_run"}, 88)
PREVIEW: Earlier = ("apply_rules", {"ruleset": "vip_tiering", "dry_run": True}, None)


@pytest.mark.parametrize(
    ("after", "text", "tool", "expected"),
    [
        (MONTHLY, "make it the 15th instead", "schedule_flow", {"cron": "0 7 15 * *"}),
        (WEEKLY, "only the day changes: Friday rather than Monday", "schedule_flow", {"cron": "0 6 * * 5"}),
        (
            OCTOBER,
            "repeat it with the period moved one month back",
            "run_report",
            {"period": "2026-09-01..2026-09-30"},
        ),
        (ORDER, "Correction: the qty should be 250. Rest as is.", "create_order", {"quantity": 250}),
        (STARTED, "And? Already done?", "get_run_status", {"run_id": 88}),
        (STARTED, "please come back with the status of same", "get_run_status", {"run_id": 88}),
        (PREVIEW, "all fine, same should be actioned", "apply_rules", {"dry_run": False}),
    ],
)
def test_follow_ups(
    backend: EmbeddedBackend, after: Earlier, text: str, tool: str, expected: dict[str, Any]
) -> None:
    assert_call(backend, text, tool, expected, after)
