"""What the eleventh blind dev set of 2026-12-05 (dev_blind_16.jsonl) taught, in our own phrasings.

Every case failed on commit dc7d8f7, the one measured, except the guard (the credit hold rules applied to all):
a name spelled with dashes, an id said alone or after "identifier", "11.30pm" with no "at", and work no tool does (a policyholder e-mailed, one customer put on hold by hand, a record
annotated, a customer's e-mail changed, an order changed in place).
"""

from __future__ import annotations

from tests.utils.embedded import Earlier, calls_test, refusals_test

ORDERED: Earlier = ("create_order", {"client_id": 1233, "product": "C-10", "quantity": 60}, None)


test_calls = calls_test(
    [
        (
            "caller says they're Hooli, H-O-O-L-I, can you find the account?",
            "lookup_customer",
            {"query": "Hooli"},
            None,
        ),
        ("which customer is 1287 again? the note is smudged", "lookup_customer", {"query": "1287"}, None),
        ("open the account with identifier 1144 for me", "lookup_customer", {"query": "1144"}, None),
        ("customer sync every day 6.45am please", "schedule_flow", {"cron": "45 6 * * *"}, None),
        (
            "put customers on hold according to the credit rules",
            "apply_rules",
            {"ruleset": "credit_hold"},
            None,
        ),
    ]
)


test_work_no_tool_does_is_refused = refusals_test(
    [
        ("Please e-mail the policyholder at Cyberdyne confirming the claim.", None),
        ("place customer 1077 on credit hold, only that one", None),
        ("Please annotate that account record with the claim number CL-10.", None),
        ("please update customer 1402's email to billing@x.com", None),
        ("make that 90 on the same order please", ORDERED),
    ]
)
