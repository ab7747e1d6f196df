"""Long messages, letters and multi-sentence follow-ups, in our own phrasings, on the shipped embedded backend.

What the third blind dev set of 2026-12-05 (dev_blind_8.jsonl) taught. Every case of the first eight tests failed on
commit f42053d: a focusing clause too thin to route alone ("I just need the figure"), a letter's sign-off read as
its last clause, a report asked for "once more", a request that opens a long message or ends it after a comma,
values said in an earlier sentence of background, "what about <name>? They …" after a lookup, search text that ran
past a sentence's end, a run id said twice, a cron followed by a comma, a preview asked for "first", a delivery that
says what it should not be ("not a second upload"), and work no tool does (formats, messengers, competitors, new
destinations, retry limits, the gold line, an approver deciding their own request). The last test guards requests
that share those words and must still reach a tool; it passed before too.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.embedded.extract.booleans import extract_dry_run
from agent.backends.embedded.extract.cron import extract_cron
from agent.backends.embedded.extract.queries import extract_query
from agent.backends.embedded.extract.slots import extract_args
from agent.backends.embedded.signals import unsupported
from tests.utils.embedded import decide, picked
from tools.registry import build_registry

STARTED = ("run_flow", {"flow": "customer_sync"}, 615)
QUOTED = ("quote_price", {"client_id": 1042, "product": "A100X", "quantity": 80}, None)
EXPORTED = ("export_dataset", {"dataset": "orders", "format": "csv", "period": "last_month"}, None)
TOP = ("run_report", {"report": "top_customers", "period": "this_year"}, None)
SALES = ("run_report", {"report": "sales_by_region", "period": "this_year"}, None)
LOOKED_UP = ("lookup_customer", {"query": "tailspin supplies"}, None)
EMAILED = (
    "send_notification",
    {"channel": "email", "recipient": "finance", "message": "Payroll is late."},
    None,
)
PREVIEWED = ("apply_rules", {"ruleset": "vip_tiering", "dry_run": True}, None)
FAILED = ("list_runs", {"status": "failed", "period": "yesterday"}, None)


@pytest.mark.parametrize(
    ("after", "text", "tool", "args"),
    [
        (
            None,
            "What would 80 of the A100X cost client 1042? Don't put an order in, I just need the figure.",
            "quote_price",
            {"client_id": 1042, "product": "A100X", "quantity": 80},
        ),
        (
            None,
            "would vip tiering change anything if we ran it? don't run it, only asking",
            "apply_rules",
            {"ruleset": "vip_tiering", "dry_run": True},
        ),
        (
            SALES,
            "Dear Switchboard,\n\nWould you kindly run that report once more?\n\nKind regards,\nMarta",
            "run_report",
            {"report": "sales_by_region", "period": "this_year"},
        ),
        (
            PREVIEWED,
            "Dear Switchboard,\n\nThe changes look right to me. Kindly carry them out.\n\nYours sincerely,\nH. Brandt",
            "apply_rules",
            {"ruleset": "vip_tiering", "dry_run": False},
        ),
    ],
)
def test_a_letter_or_a_thin_focus_still_says_what_it_asks(
    backend: EmbeddedBackend, after: Any, text: str, tool: str, args: dict[str, Any]
) -> None:
    decision = decide(backend, text, after)
    assert (decision.tool, picked(decision, args)) == (tool, args), decision


@pytest.mark.parametrize(
    ("after", "text", "tool", "args"),
    [
        (
            STARTED,
            "Any word on how that went? The auditors keep asking me about it.",
            "get_run_status",
            {"run_id": 615},
        ),
        (
            QUOTED,
            "Lovely, they're happy. Go on so, book it for them before the price changes on us.",
            "create_order",
            {"client_id": 1042, "product": "A100X", "quantity": 80},
        ),
        (
            EXPORTED,
            "Send that on to the bank, they have been waiting on it since Monday.",
            "deliver_file",
            {"destination": "bank_sftp"},
        ),
        (
            TOP,
            "That's only ten, sure. Make it the top 40, I want to see who is close behind.",
            "run_report",
            {"report": "top_customers", "limit": 40},
        ),
        (
            SALES,
            "My colleague says some invoices were posted late last week. Could you run that report again?",
            "run_report",
            {"report": "sales_by_region", "period": "this_year"},
        ),
        (
            EXPORTED,
            "Oh sorry, the bank wants the fixed-width dat file, not csv. Could you do it again like that?",
            "export_dataset",
            {"dataset": "orders", "format": "dat"},
        ),
        (
            LOOKED_UP,
            "Great. And what about Contoso Retail while you're at it? They never answer the phone.",
            "lookup_customer",
            {"query": "Contoso Retail"},
        ),
        (
            EMAILED,
            "Would you send that very same note to the ops team as well?",
            "send_notification",
            {"recipient": "ops", "message": "Payroll is late."},
        ),
        (
            FAILED,
            "that 4410 one is the SFTP upload, I think. give 4410 another try",
            "retry_run",
            {"run_id": 4410},
        ),
    ],
)
def test_a_long_follow_up_is_read_where_it_asks(
    backend: EmbeddedBackend, after: Any, text: str, tool: str, args: dict[str, Any]
) -> None:
    decision = decide(backend, text, after)
    assert (decision.tool, picked(decision, args)) == (tool, args), decision


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("I need to check the account of Bluewater Trading. Region and tier, please.", "Bluewater Trading"),
        ("hey - do we have northwind foods as a client? sales keeps asking", "northwind foods"),
        ("is lakeside dairy one of ours?", "lakeside dairy"),
    ],
)
def test_search_text_ends_where_the_name_does(text: str, query: str) -> None:
    assert extract_query(text) == query


def test_a_cron_written_out_before_a_comma_is_read() -> None:
    assert extract_cron("Create a schedule for customer_sync at 0 6 * * 2, Tuesdays 06:00 UTC") == "0 6 * * 2"


@pytest.mark.parametrize(
    ("text", "dataset"),
    [
        ("load orders_new.csv into the orders please, the customers are waiting on these", "orders"),
        ("could you get the product records in order, there are doubles everywhere", "products"),
    ],
)
def test_where_a_load_goes_or_an_idiom_does_not_confuse_the_dataset(text: str, dataset: str) -> None:
    tool = "ingest_file" if "load" in text else "normalize_dataset"
    schema = build_registry()[tool].args_model.model_json_schema()
    assert extract_args(text, schema=schema, today=date(2026, 11, 22)).values.get("dataset") == dataset


@pytest.mark.parametrize(
    ("after", "text", "dry_run"),
    [
        (None, "apply the credit hold now, but show me first", True),
        (("explain_rule", {"rule": "credit_hold"}, None), "now apply it, without touching anything", True),
    ],
)
def test_a_preview_asked_for_first_is_a_dry_run(
    backend: EmbeddedBackend, after: Any, text: str, dry_run: bool
) -> None:
    assert extract_dry_run(text) is dry_run
    assert decide(backend, text, after).args.get("dry_run") is dry_run


def test_what_a_delivery_should_not_be_does_not_hold_it_back(backend: EmbeddedBackend) -> None:
    decision = decide(
        backend, "Deliver export 31 to the bank. If it went already I want nothing, not a second upload."
    )
    assert (decision.tool, decision.args.get("destination")) == ("deliver_file", "bank_sftp")


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("export the customers as a pdf for the board", "export_dataset"),
        ("put the orders into parquet for the data team", "export_dataset"),
        ("send a whatsapp to the drivers that the depot is closed", "send_notification"),
        ("post it in slack for the sales people", "send_notification"),
        ("who is our main competitor in apac", "run_report"),
        ("add a new destination for the auditors' server and deliver the export there", "deliver_file"),
        ("bump the retry limit for the bank step to 6", "retry_run"),
        ("drop the gold line down to 180k for us", "explain_rule"),
        ("As the owner I'll approve the big order myself.", "list_pending_approvals"),
    ],
)
def test_work_no_tool_does_is_refused(text: str, tool: str) -> None:
    assert unsupported(text, tool)


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("export the orders as csv so I can open it in excel", "export_dataset"),
        ("which approvals can I sign off today", "list_pending_approvals"),
        ("tell the sales team that the report is out", "send_notification"),
        ("what's the gold tier threshold", "explain_rule"),
        ("retry run 88", "retry_run"),
    ],
)
def test_the_same_words_in_requests_a_tool_serves_pass(text: str, tool: str) -> None:
    assert not unsupported(text, tool)
