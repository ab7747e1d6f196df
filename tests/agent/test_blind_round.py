"""What the two blind dev sets of 2026-12-05 taught, in our own phrasings, on the shipped embedded backend.

In the first three tests, every case before the comment "the second blind set's lessons" failed on commit 0be19ff
(status questions and retries that end a long message, numbers another system owns, "x75" as a count, a bare file
id before "->", "just us" and "show us", "not as a simulation" in a long go-ahead, "actually, make it json" beside
"imports", "rerun it with 120" beside "discount", work no tool does that sounds like a tool's), and every case
after it failed on commit 4a2755f (a long message's closing go-ahead, "done already?", "the same message to the
ops group", "only test", approving everything, a rule's number changed, portals and drives). The last test guards
the same words in requests a tool does serve; it passed before too.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.embedded.signals import unsupported
from tests.utils.embedded import decide as _decide
from tests.utils.embedded import picked

STARTED = ("run_flow", {"flow": "invoice_run"}, 812)
SHOWN = ("get_run_status", {"run_id": 77}, None)
QUOTED = ("quote_price", {"client_id": 1042, "product": "B200", "quantity": 300}, None)
EMAILED = (
    "send_notification",
    {"channel": "email", "recipient": "finance", "message": "The bank file is late."},
    None,
)


@pytest.mark.parametrize(
    ("after", "text", "tool", "args"),
    [
        (STARTED, "finished?", "get_run_status", {"run_id": 812}),
        (STARTED, "is it gone well?", "get_run_status", {"run_id": 812}),
        (
            STARTED,
            "I'm heading into a call with the auditors now, so quickly: did it go through?",
            "get_run_status",
            {"run_id": 812},
        ),
        (
            SHOWN,
            "Right, the password on the share has been reset since then, so go ahead and retry it.",
            "retry_run",
            {"run_id": 77},
        ),
        (
            SHOWN,
            "rerun it please, ticket 4410 has been waiting on it all morning",
            "retry_run",
            {"run_id": 77},
        ),
        (
            ("apply_rules", {"ruleset": "credit_hold", "dry_run": True}, None),
            "That list matches what finance expected and they have signed it off. Apply it now, not as a simulation.",
            "apply_rules",
            {"ruleset": "credit_hold", "dry_run": False},
        ),
        (
            ("export_dataset", {"dataset": "orders", "format": "csv"}, None),
            "actually, make it json, our loader only imports json",
            "export_dataset",
            {"dataset": "orders", "format": "json"},
        ),
        (
            ("quote_price", {"client_id": 1042, "product": "B200", "quantity": 50}, None),
            "rerun it with 120, I want to see whether the bulk discount kicks in",
            "quote_price",
            {"client_id": 1042, "product": "B200", "quantity": 120},
        ),
        # the second blind set's lessons
        (
            QUOTED,
            "The price works for their budget; kindly proceed to place that order.",
            "create_order",
            {"client_id": 1042, "product": "B200", "quantity": 300},
        ),
        (STARTED, "how is it, done already?", "get_run_status", {"run_id": 812}),
        (
            EMAILED,
            "the same message to the ops group",
            "send_notification",
            {"recipient": "ops", "message": "The bank file is late."},
        ),
        (
            None,
            "Please run the vip rules but only test, nothing to change in the database.",
            "apply_rules",
            {"ruleset": "vip_tiering", "dry_run": True},
        ),
    ],
)
def test_a_thread_reply_continues_the_call_it_points_at(
    backend: EmbeddedBackend,
    after: tuple[str, dict[str, Any], int | None] | None,
    text: str,
    tool: str,
    args: dict[str, Any],
) -> None:
    decision = _decide(backend, text, after)
    assert (decision.tool, picked(decision, args)) == (tool, args)


@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        ("book it from line 9 of the sheet: client 1042, B200, qty 60", "create_order", {"quantity": 60}),
        ("quote 1042 B200 x75", "quote_price", {"client_id": 1042, "product": "B200", "quantity": 75}),
        ("send 88 -> bank_sftp", "deliver_file", {"file": "88", "destination": "bank_sftp"}),
        (
            "top customers this year, just us",
            "run_report",
            {"report": "top_customers", "region": "north_america"},
        ),
        (
            "show us the sales by region for last month",
            "run_report",
            {"report": "sales_by_region", "region": None},
        ),
    ],
)
def test_arguments_are_the_ones_the_message_means(
    backend: EmbeddedBackend, text: str, tool: str, args: dict[str, Any]
) -> None:
    decision = _decide(backend, text)
    assert (decision.tool, picked(decision, args)) == (tool, args)


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("could you approve request 31 for me", "list_pending_approvals"),
        ("I have checked it twice, please reject that delivery request", "list_pending_approvals"),
        ("sign off the big Globex order on my behalf", "list_pending_approvals"),
        ("draw up a sales forecast for next quarter by region", "run_report"),
        ("rename export 12 to final_numbers.csv", "deliver_file"),
        ("set the vip gold threshold to 250k", "explain_rule"),
        ("change the unit_price for B200 to 12.50", "quote_price"),
        ("paste the top customers into my spreadsheet", "run_report"),
        ("highlight the late rows in red", "run_report"),
        # the second blind set's lessons
        ("approve whatever is in the queue, all of it", "list_pending_approvals"),
        ("that request for the Globex order: I approve it, I'm the approver", "list_pending_approvals"),
        ("set bulk discount to 15% from next month", "explain_rule"),
        ("change the credit hold days to 45", "apply_rules"),
        ("upload the newest export to our Dropbox", "deliver_file"),
        ("put the export on the supplier portal", "deliver_file"),
    ],
)
def test_work_no_tool_does_is_never_mapped_onto_the_tool_it_sounds_like(text: str, tool: str) -> None:
    assert unsupported(text, tool)


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("which requests still need someone to approve them", "list_pending_approvals"),
        ("is anything stuck waiting for a person to approve it", "list_pending_approvals"),
        ("our buyers revised their forecast, so requote 600 of the E200 for client 1342", "quote_price"),
        ("what's the credit hold cut-off", "explain_rule"),
        ("export the customers as csv so I can open it in my spreadsheet", "export_dataset"),
    ],
)
def test_the_same_words_in_a_request_a_tool_does_pass(text: str, tool: str) -> None:
    assert not unsupported(text, tool)
