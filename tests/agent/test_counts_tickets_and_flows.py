"""Follow-ups that change a count or a format, ticket-style requests, and flows nobody configured, in our own words.

What the fourth blind dev set of 2026-12-05 (dev_blind_9.jsonl) taught. Every case of the first four tests failed on
commit 20bd81c: a question sentence before a remark ("And if they went to 150? That might reach the next band."),
"not in csv", a bare new count ("make it 25"), "the rest of the scope unchanged", "convert to order", "execute with
dry_run: false" after a preview, a delivery to another system after an export, "1,200 x", "with code 1377", "last
mo", "at 0415", "Try <name>", formats no export writes, approving someone's request, converting currencies, pausing
a run, a new report, and a flow that is none of the configured ones. The last test guards requests that share
those words and must still reach their tool.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.embedded.extract.cron import extract_cron
from agent.backends.embedded.extract.ids import extract_client_id, extract_quantity
from agent.backends.embedded.extract.periods import extract_period
from agent.backends.embedded.extract.queries import extract_query
from agent.backends.embedded.signals import unsupported
from tests.utils.embedded import decide, picked

QUOTED = ("quote_price", {"client_id": 1042, "product": "B200", "quantity": 80}, None)
FAILED_WEEK = ("list_runs", {"status": "failed", "period": "last_7_days"}, None)
EXPORTED_CSV = ("export_dataset", {"dataset": "customers", "format": "csv"}, None)
EXPORTED_JSON = ("export_dataset", {"dataset": "orders", "format": "json", "period": "last_7_days"}, None)
TOP = ("run_report", {"report": "top_customers", "period": "last_quarter", "limit": 10}, None)
PREVIEWED = ("normalize_dataset", {"dataset": "products", "dry_run": True}, None)
BY_REGION = ("run_report", {"report": "sales_by_region", "period": "last_month", "region": "emea"}, None)


@pytest.mark.parametrize(
    ("after", "text", "tool", "args"),
    [
        (
            QUOTED,
            "And if they went to 150 pieces? That might reach the next band.",
            "quote_price",
            {"quantity": 150},
        ),
        (
            FAILED_WEEK,
            "And also over the last 90 days? I want to see if it keeps happening.",
            "list_runs",
            {"period": "last_90_days"},
        ),
        (
            EXPORTED_CSV,
            "Sorry, the auditor needs it in json, not in csv.",
            "export_dataset",
            {"format": "json"},
        ),
        (TOP, "make it 25", "run_report", {"limit": 25}),
        (TOP, "30 instead", "run_report", {"limit": 30}),
        (
            EXPORTED_JSON,
            "Change: the format should be dat, the rest of the scope unchanged.",
            "export_dataset",
            {"format": "dat", "period": "last_7_days"},
        ),
        (QUOTED, "Client accepted. Convert to order.", "create_order", {"client_id": 1042, "quantity": 80}),
        (
            PREVIEWED,
            "Checked the diff with finance. Execute with dry_run: false.",
            "normalize_dataset",
            {"dataset": "products", "dry_run": False},
        ),
        (EXPORTED_CSV, "Follow-up: deliver it to our HubSpot account.", None, {}),
    ],
)
def test_a_follow_up_changes_what_it_names(
    backend: EmbeddedBackend, after: Any, text: str, tool: str | None, args: dict[str, Any]
) -> None:
    decision = decide(backend, text, after)
    assert (decision.tool, picked(decision, args)) == (tool, args), decision


def test_arguments_written_the_way_people_write_them() -> None:
    assert extract_quantity("quote 1,200 x B200 for client 1042") == 1200
    assert extract_client_id("I would need the details of the customer with code 1377") == 1377
    assert extract_period("sales by region last mo", today=date(2026, 11, 22)) == "last_month"
    assert extract_cron("schedule the invoice run daily at 0415, over") == "15 4 * * *"
    assert extract_query("Wrong one. Try Lakeside Dairy instead.") == "Lakeside Dairy"


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("export the products in xlsx format", "export_dataset"),
        ("I need the customers as an Excel file", "export_dataset"),
        ("please approve Maria's delivery request", "list_pending_approvals"),
        ("approve pending approval #57", "list_pending_approvals"),
        ("convert the totals into euros for me", "run_report"),
        ("pause the customer sync that's running", "run_flow"),
        ("build me a new report of margin by sales rep", "run_report"),
    ],
)
def test_work_no_tool_does_is_refused(text: str, tool: str) -> None:
    assert unsupported(text, tool)


@pytest.mark.parametrize(
    "text", ["run the payroll flow now", "schedule the fleet maintenance pipeline every monday at 6"]
)
def test_a_flow_nobody_configured_is_refused_with_the_flows_named(
    backend: EmbeddedBackend, text: str
) -> None:
    decision = decide(backend, text)
    assert decision.tool is None
    assert "customer sync" in (decision.refusal or "") and "invoice run" in (decision.refusal or "")


@pytest.mark.parametrize(
    ("after", "text", "tool", "args"),
    [
        (None, "load customers_update.xlsx into customers", "ingest_file", {"dataset": "customers"}),
        (None, "run the nightly flow", "run_flow", {"flow": "nightly_sales_export"}),
        (None, "kick off the customer sync flow", "run_flow", {"flow": "customer_sync"}),
        (None, "which requests can I approve", "list_pending_approvals", {}),
        (BY_REGION, "now drop the region filter", "run_report", {"region": None}),
        (
            ("quote_price", {"product": "B200", "quantity": 80}, None),
            "1090",
            "quote_price",
            {"client_id": 1090},
        ),
    ],
)
def test_the_same_words_still_reach_their_tool(
    backend: EmbeddedBackend, after: Any, text: str, tool: str, args: dict[str, Any]
) -> None:
    decision = decide(backend, text, after)
    assert (decision.tool, picked(decision, args)) == (tool, args), decision
