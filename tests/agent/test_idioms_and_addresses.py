"""Regional idiom, words that are nouns not acts, and addresses no destination is, in our own phrasings.

What the fifth blind dev set of 2026-12-05 (dev_blind_10.jsonl) taught. Every case of the first four tests failed
on commit d086781: British "half eleven", Nigerian "revert" (reply), Welsh "tidy" (fine), "for the refund" (a
thing, not an act), messengers we have no channel for, a partner's own SFTP host, "real quick", "identification
number", "kindly also check 1290", "is the rerun done", and a file forwarded through someone's portal after a
delivery. The last test guards the acts those words still name.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.embedded.extract.cron import extract_cron
from agent.backends.embedded.extract.ids import extract_client_id
from agent.backends.embedded.extract.queries import extract_query
from agent.backends.embedded.places import target_refusal
from agent.backends.embedded.signals import unsupported
from tests.utils.embedded import decide, picked

LOOKED_UP = ("lookup_customer", {"query": "1203"}, None)
RETRIED = ("retry_run", {"run_id": 41}, 97)
REPORTED = ("run_report", {"report": "sales_by_region", "period": "last_month"}, None)
DELIVERED = ("deliver_file", {"file": "latest", "destination": "partner_sftp"}, None)


def test_idiom_is_read_as_meant() -> None:
    assert extract_cron("run the invoice run every night at half eleven") == "30 23 * * *"
    assert extract_cron("every day at half seven") == "30 7 * * *"
    assert not unsupported("Kindly look up customer 1042 and revert.", "lookup_customer")
    assert not unsupported("I need their id for the refund, look up Acme Freight", "lookup_customer")
    assert extract_query("look up vandelay foods real quick") == "vandelay foods"
    assert extract_client_id("check the customer with identification number 1203") == 1203


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("snapchat the ops team that the van is here", "send_notification"),
        ("can you pull it back off the partner server before they load it", "deliver_file"),
    ],
)
def test_work_no_tool_does_is_refused(text: str, tool: str) -> None:
    assert unsupported(text, tool)


def test_a_partners_own_host_is_no_destination() -> None:
    refusal = target_refusal(
        "deliver the latest export to the SFTP server of Lagos Freight at sftp.lagosfreight.example",
        "deliver_file",
        {},
    )
    assert refusal is not None and "bank sftp" in refusal


@pytest.mark.parametrize(
    ("after", "text", "tool", "args"),
    [
        (LOOKED_UP, "Kindly also check 1290.", "lookup_customer", {"query": "1290"}),
        (RETRIED, "is the rerun done", "get_run_status", {"run_id": 97}),
        (REPORTED, "tidy, now just the emea lot", "run_report", {"region": "emea"}),
        (
            DELIVERED,
            "Kindly also forward it to our contact at Lagos Bank through the bank's web portal.",
            None,
            {},
        ),
    ],
)
def test_a_follow_up_in_someone_elses_idiom(
    backend: EmbeddedBackend, after: Any, text: str, tool: str | None, args: dict[str, Any]
) -> None:
    decision = decide(backend, text, after)
    assert (decision.tool, picked(decision, args)) == (tool, args), decision


def test_the_acts_those_words_name_are_still_refused_or_asked() -> None:
    assert unsupported("revert the last change to the customers", "normalize_dataset")
    assert unsupported("refund customer 1042", "lookup_customer")
    assert (
        target_refusal("send the latest export to the sftp", "deliver_file", {}) is None
    )  # which one is asked
    assert extract_cron("every day at half past eleven") == "30 11 * * *"
