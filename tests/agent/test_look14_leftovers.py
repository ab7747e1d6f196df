"""The rows left unfixed after look 14, in our own phrasings.

Every case failed on commit 58aaa72: a go-ahead after a preview or an explanation said as "real one",
"actually run" or Scots "dae it"; "whether the same has completed", "it is finished?" and "Is finish?" after a
start; the channel named before a comma ("ping ops on email, ..."); and a hotel guest e-mailed.
"""

from __future__ import annotations

import pytest

from agent.backends.embedded.signals import contacts_customer
from tests.utils.embedded import Earlier, calls_test

PREVIEWED: Earlier = ("normalize_dataset", {"dataset": "orders", "dry_run": True}, None)
RULE_PREVIEWED: Earlier = ("apply_rules", {"ruleset": "vip_tiering", "dry_run": True}, None)
EXPLAINED: Earlier = ("explain_rule", {"rule": "credit_hold"}, None)
STARTED: Earlier = ("run_flow", {"flow": "nightly_sales_export"}, 7311)


test_calls = calls_test(
    [
        ("fine, now the real one", "normalize_dataset", {"dataset": "orders", "dry_run": False}, PREVIEWED),
        (
            "good. do the real thing",
            "apply_rules",
            {"ruleset": "vip_tiering", "dry_run": False},
            RULE_PREVIEWED,
        ),
        ("aye, dae it", "normalize_dataset", {"dataset": "orders", "dry_run": False}, PREVIEWED),
        ("right, now actually apply the holds", "apply_rules", {"ruleset": "credit_hold"}, EXPLAINED),
        ("Kindly confirm whether the same has been completed.", "get_run_status", {"run_id": 7311}, STARTED),
        ("so it is done?", "get_run_status", {"run_id": 7311}, STARTED),
        ("Is done?", "get_run_status", {"run_id": 7311}, STARTED),
        (
            "ping finance on telegram, the bank file is late again",
            "send_notification",
            {"channel": "telegram", "recipient": "finance", "message": "the bank file is late again"},
            None,
        ),
    ]
)


@pytest.mark.parametrize(
    "text",
    ["e-mail the guest in room 230 their bill", "text the patients their new appointment times"],
)
def test_guests_and_patients_are_not_our_teams(text: str) -> None:
    assert contacts_customer(text)
