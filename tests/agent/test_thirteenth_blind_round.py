"""What the thirteenth blind dev set of 2026-12-05 (dev_blind_18.jsonl) taught, in our own phrasings.

Every case failed on commit 23c64d6, the one measured: an ERP consultant's register (a comparison with another
system's transaction as an aside, "customer master", "run reference", a productive run against a test run), a
mode refused after its name, an hour with only its part of the day, a re-run for another region, and work no tool
does (failed runs wiped from the history, a product added by hand, private phone numbers).
"""

from __future__ import annotations

import pytest

from agent.backends.embedded.backend import EmbeddedBackend
from tests.utils.embedded import Earlier, calls_test, decide

ORDER_STATUS: Earlier = ("run_report", {"report": "order_status", "period": "last_month"}, None)
PREVIEWED: Earlier = ("apply_rules", {"ruleset": "credit_hold", "dry_run": True}, 4410)


test_calls = calls_test(
    [
        ("Request: customer lookup, account ref. 1177. Regards.", "lookup_customer", {"query": "1177"}, None),
        ("Kindly advise the status of run reference 1203.", "get_run_status", {"run_id": 1203}, None),
        (
            "Please show customer master 1090 (like XD03 in the old system).",
            "lookup_customer",
            {"query": "1090"},
            None,
        ),
        (
            "Please run that again for the South American region only.",
            "run_report",
            {"report": "order_status", "region": "latam"},
            ORDER_STATUS,
        ),
        (
            "drop finance a quick email, the bank file is late again",
            "send_notification",
            {"channel": "email"},
            None,
        ),
        ("customer sync every sunday, 7 in the mornin", "schedule_flow", {"cron": "0 7 * * 0"}, None),
        (
            "Load products.json into products. Mode replace not wanted, append please.",
            "ingest_file",
            {"mode": "append"},
            None,
        ),
        ("normalise the customers as a productive run", "normalize_dataset", {"dry_run": False}, None),
        ("Preview looks fine. Now the productive run.", "apply_rules", {"dry_run": False}, PREVIEWED),
        (
            "Test run (as in SAP with the test flag) of the orders normalisation, log only, no update.",
            "normalize_dataset",
            {"dataset": "orders", "dry_run": True},
            None,
        ),
        (
            "Send the latest export to the ERP webhook, it's like an IDoc outbound to our SAP box.",
            "deliver_file",
            {"destination": "erp_webhook"},
            None,
        ),
        (
            "Kindly reprocess run 2044, it is like BD87 for an IDoc in status 51.",
            "retry_run",
            {"run_id": 2044},
            None,
        ),
    ]
)


@pytest.mark.parametrize(
    "text",
    [
        "please nuke the failed runs from last week out of the history",
        "Can I add a new product K200 at 75 quid by hand? there's no file for it",
        "send me the mobile numbers of the purchasing people at gold accounts",
    ],
)
def test_work_no_tool_does_is_refused(db_backend: EmbeddedBackend, text: str) -> None:
    assert decide(db_backend, text).tool is None
