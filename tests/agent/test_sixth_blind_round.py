"""What the sixth blind dev set of 2026-12-05 (dev_blind_11.jsonl) taught, in our own phrasings.

Every case of the first three tests failed on commit 6c0aac7: a go-ahead written as "lgtm" or an arrow after a
preview, "courriel" for e-mail, and work no tool does (a tier set by hand, a new flow, a user made an approver, a discount promised,
removing a schedule with "rm", a shell command). The last test guards the same words where a tool serves them.
"""

from __future__ import annotations

import pytest

from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.embedded.extract.synonyms import CHANNEL
from agent.backends.embedded.signals import unsupported
from tests.utils.embedded import decide

PREVIEWED = ("apply_rules", {"ruleset": "credit_hold", "dry_run": True}, None)


@pytest.mark.parametrize("text", ["lgtm", "looks right -> apply"])
def test_a_go_ahead_in_reviewer_shorthand_applies_the_preview(backend: EmbeddedBackend, text: str) -> None:
    decision = decide(backend, text, PREVIEWED)
    assert (decision.tool, decision.args.get("dry_run")) == ("apply_rules", False), decision


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("put Globex on silver status, they deserve it", "apply_rules"),
        ("create a new flow that mails the products list weekly", "schedule_flow"),
        ("make Maria an approver while Tom is on leave", "list_pending_approvals"),
        ("and give them 12% off on top, I promised", "create_order"),
        ("rm the customer_sync schedule", "schedule_flow"),
        ("`docker restart switchboard`", "send_notification"),
    ],
)
def test_work_no_tool_does_is_refused(text: str, tool: str) -> None:
    assert unsupported(text, tool)


def test_a_french_channel_word_is_email() -> None:
    assert "courriel" in CHANNEL["email"]


def test_the_same_words_where_a_tool_serves_them() -> None:
    assert not unsupported("why did their 600 unit order get 13% off?", "explain_rule")
    assert not unsupported("which customers have gold status", "run_report")
    assert not unsupported(
        "email the RM that the bank file is late", "send_notification"
    )  # a relationship manager
