"""Deliveries to places no destination is, decisions stated rather than asked, and corrections of one value.

Our own phrasings. Every case of the first three tests failed on commit 2347607: a file sent to a place that is
none of the configured destinations was asked "which destination?" (an invitation to pick one it was never meant
for), "mark approval 3 as approved" listed the approvals, and "no wait, 7 then" after a schedule was refused or
taken for a message. The last two tests guard deliveries and notifications that must still go through.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.embedded.places import no_such_destination, unknown_destination
from agent.backends.embedded.signals import unsupported
from tests.utils.embedded import decide, picked

SCHEDULED = ("schedule_flow", {"flow": "customer_sync", "cron": "30 4 * * 1-5"}, None)
EMAILED = (
    "send_notification",
    {"channel": "email", "recipient": "finance", "message": "The invoice run is late."},
    None,
)


@pytest.mark.parametrize(
    "text",
    [
        "send the latest export over to the auditors' file portal",
        "deliver yesterday's export to the Manchester branch",
        "push export 31 onto the archive bucket",
        "upload the products export to our accountant's cloud folder",
        "please transfer the latest export to customer 1042",
        "deliver the newest file to reporting_s3",
    ],
)
def test_a_place_no_destination_is_gets_a_refusal_naming_the_destinations(
    backend: EmbeddedBackend, text: str
) -> None:
    decision = decide(backend, text)
    assert decision.tool is None, decision
    assert "finance share" in (decision.refusal or "") and "bank sftp" in (decision.refusal or "")


@pytest.mark.parametrize(
    "text",
    [
        "mark approval 12 as approved",
        "mark the request rejected, I've seen enough",
        "the bank delivery is fine by me, I okay it",
    ],
)
def test_a_decision_stated_rather_than_asked_is_no_tool_call(text: str) -> None:
    assert unsupported(text, "list_pending_approvals")


@pytest.mark.parametrize(
    ("after", "text", "args"),
    [
        (SCHEDULED, "no wait, 7 then", {"cron": "0 7 * * 1-5"}),
        (SCHEDULED, "nope, 5 instead", {"cron": "0 5 * * 1-5"}),
        (SCHEDULED, "no sorry make it 6 instead", {"cron": "0 6 * * 1-5"}),
        (EMAILED, "now telegram that two @finance_desk", {"recipient": "@finance_desk"}),
        (EMAILED, "and telegram that to @finance_desk as well", {"message": "The invoice run is late."}),
    ],
)
def test_a_correction_changes_the_one_value_it_names(
    backend: EmbeddedBackend, after: Any, text: str, args: dict[str, Any]
) -> None:
    decision = decide(backend, text, after)
    assert decision.tool == after[0], decision
    assert picked(decision, args) == args


@pytest.mark.parametrize(
    ("text", "destination"),
    [
        ("send the latest export to the bank", "bank_sftp"),
        ("put the latest export on the shared drive", "finance_share"),
        ("deliver the latest to the partner's sftp server", "partner_sftp"),
        ("push export 12 over to the ERP", "erp_webhook"),
    ],
)
def test_a_configured_destination_still_delivers(
    backend: EmbeddedBackend, text: str, destination: str
) -> None:
    decision = decide(backend, text)
    assert (decision.tool, decision.args.get("destination")) == ("deliver_file", destination)


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("send it over to them", "deliver_file"),
        ("deliver the latest export to the usual place", "deliver_file"),
        ("export the customers to csv", "export_dataset"),
        ("export orders to json and then send them to the partner", "export_dataset"),
        ("send the latest export to the finance folder by 6", "deliver_file"),
    ],
)
def test_no_place_or_a_known_one_is_never_refused(text: str, tool: str) -> None:
    assert unknown_destination(text, tool, None) is None


def test_the_refusal_says_which_place_it_could_not_reach() -> None:
    assert "“the auditors' portal”" in no_such_destination("the auditors' portal")
