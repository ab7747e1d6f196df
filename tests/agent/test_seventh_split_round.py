"""What look 15 at the seventh fresh split (dev_spent_fresh_test_7.jsonl) taught, in our own phrasings.

Every case failed on commit 694a6e9, the one measured: "H-55" after a number read as hours, Filipino "po", "the
previous one" run, a corrected time kept beside the old one, "on 5th day" of the month, "before the working day
starts" read as weekdays, "produce" read as products, "same region" read as the regional report, a fashion "drop"
read as a deletion; and a rule's setting, a breakdown no report has and a delivery address are no tool's.
"""

from __future__ import annotations

import pytest

from agent.backends.embedded.signals import unsupported
from tests.utils.embedded import Earlier, calls_test, refusals_test

STATUS: Earlier = ("get_run_status", {"run_id": 3310}, None)
SCHEDULED: Earlier = ("schedule_flow", {"flow": "invoice_run", "cron": "45 5 * * *"}, None)
EXPORTED: Earlier = ("export_dataset", {"dataset": "orders", "format": "csv", "period": "last_month"}, None)
BY_PRODUCT: Earlier = (
    "run_report",
    {"report": "sales_by_product", "period": "last_month", "region": "emea"},
    None,
)
ORDERED: Earlier = ("create_order", {"client_id": 1042, "product": "B200", "quantity": 40}, 612)


test_calls = calls_test(
    [
        ("how much for 300 H-55 for 1042?", "quote_price", {"quantity": 300, "product": "H-55"}, None),
        ("please quote po 2k pcs of b-10 for client 1042", "quote_price", {"quantity": 2000}, None),
        ("And the previous one?", "get_run_status", {"run_id": 3309}, STATUS),
        ("Correction: 06:45, not 05:45.", "schedule_flow", {"cron": "45 6 * * *"}, SCHEDULED),
        (
            "Please make schedule for customer_sync: every month on 5th day at 02:00.",
            "schedule_flow",
            {"cron": "0 2 5 * *"},
            None,
        ),
        (
            "schedule the nightly sales export daily at 2 a.m., so it's done before the working day starts",
            "schedule_flow",
            {"cron": "0 2 * * *"},
            None,
        ),
        (
            "The bank wants JSON after all; please produce the same export in that format.",
            "export_dataset",
            {"dataset": "orders", "format": "json"},
            EXPORTED,
        ),
        (
            "and this month, same region?",
            "run_report",
            {"report": "sales_by_product", "region": "emea"},
            BY_PRODUCT,
        ),
        (
            "place order for 1042, 80 units B200, restocking for the spring drop",
            "create_order",
            {"client_id": 1042, "quantity": 80},
            None,
        ),
    ]
)


test_work_no_tool_does_is_refused = refusals_test(
    [
        ("Which products sell best by colour this month?", None),
        ("please change the order so it goes to site 4", ORDERED),
    ]
)


@pytest.mark.parametrize(
    "text",
    [
        "Change bulk discount: at 800 units it must be 9%, not 7%.",
        "Adjust the credit hold so 45 days overdue is enough",
    ],
)
def test_a_rules_setting_changed_by_hand_is_no_tools(text: str) -> None:
    assert unsupported(text, "explain_rule")
