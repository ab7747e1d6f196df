"""What the seventeenth blind set (dev_blind_22.jsonl) taught, in our own phrasings.

Every case failed on commit 698e4a1, the one measured: a count with the value it replaces ("Give me 20, not
10."), "what would it change" after a rule explained, a preview asked for after "apply it" ("; dry run only"),
"fallen over", a request signed off by number, "01-Jul-2026" dates, a document's code beside the SKU, a typo in a
report's name past a number, a bare hour beside "every morning" or a weekday, and "status of the retry".
"""

from __future__ import annotations

from agent.backends.embedded.backend import EmbeddedBackend
from tests.utils.embedded import Earlier, calls_test, decide

TOP: Earlier = ("run_report", {"report": "top_customers", "period": "last_month"}, None)
EXPLAINED: Earlier = ("explain_rule", {"rule": "credit_hold"}, None)
RETRIED: Earlier = ("retry_run", {"run_id": 5120}, 5177)


test_calls = calls_test(
    [
        ("Show me 15, not 10.", "run_report", {"report": "top_customers", "limit": 15}, TOP),
        (
            "Fine. What would that change? Don't apply anything yet.",
            "apply_rules",
            {"ruleset": "credit_hold", "dry_run": True},
            EXPLAINED,
        ),
        (
            "Noted. Apply it, dry run only.",
            "apply_rules",
            {"ruleset": "credit_hold", "dry_run": True},
            EXPLAINED,
        ),
        ("anything fallen over since friday?", "list_runs", {"status": "failed"}, None),
        (
            "Revenue trend, period 01-Jul-2026 through 30-Sep-2026.",
            "run_report",
            {"report": "revenue_trend", "period": "2026-07-01..2026-09-30"},
            None,
        ),
        ("list runs 02-Nov-2026 to 06-Nov-2026", "list_runs", {"period": "2026-11-02..2026-11-06"}, None),
        (
            "Quote: customer 1042; SKU B200; qty 80. NCR ref NC-2210.",
            "quote_price",
            {"client_id": 1042, "product": "B200", "quantity": 80},
            None,
        ),
        ("top 20 cusotmers this year", "run_report", {"report": "top_customers", "limit": 20}, None),
        ("top 5 prodcuts last month", "run_report", {"report": "sales_by_product", "limit": 5}, None),
        (
            "customer sync 6 every morning pls",
            "schedule_flow",
            {"flow": "customer_sync", "cron": "0 6 * * *"},
            None,
        ),
        ("nightly sales export every friday 7", "schedule_flow", {"cron": "0 7 * * 5"}, None),
        ("status of the rerun?", "get_run_status", {"run_id": 5177}, RETRIED),
    ]
)


def test_a_request_signed_off_by_number_is_the_approvers_own_act(db_backend: EmbeddedBackend) -> None:
    assert decide(db_backend, "sign off approval 7, I've got authority").tool is None
