"""What the fourteenth blind dev set of 2026-12-05 (dev_blind_19.jsonl) taught, in our own phrasings.

Every case failed on commit bb3f041, the one measured: a product "drop" that deletes nothing, a range that ends at
the end of a month, and work no tool does (a price changed in the catalogue, small talk about who is winning),
both auto-executed there as a follow-up of the thread's call.
"""

from __future__ import annotations

from tests.utils.embedded import Earlier, calls_test, refusals_test

PRODUCT_SALES: Earlier = ("run_report", {"report": "sales_by_product", "period": "last_month"}, None)
QUOTED: Earlier = ("quote_price", {"client_id": 1480, "product": "E100X", "quantity": 30}, None)


test_calls = calls_test(
    [
        (
            "email the ops group that the new product drop is live",
            "send_notification",
            {"channel": "email", "recipient": "ops"},
            None,
        ),
        (
            "revenue trend from March first through the end of May please",
            "run_report",
            {"report": "revenue_trend", "period": "2026-03-01..2026-05-31"},
            None,
        ),
    ]
)


test_work_no_tool_does_is_refused = refusals_test(
    [
        ("Too dear. Go change the price on them safety boots to 45.00 in the catalog.", QUOTED),
        ("lol ok who's winning the league this year", PRODUCT_SALES),
    ]
)
