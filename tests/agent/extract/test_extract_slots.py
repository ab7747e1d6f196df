"""Schema-driven extraction: schema shapes, routing by property name, masking, missing and ambiguous."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from agent.backends.embedded.extract import ExtractedArgs, KnownEntities, extract_args
from tools.registry import build_registry

TODAY = date(2026, 11, 22)
KNOWN = KnownEntities(
    skus=("A100X", "B200", "C-55"),
    customers={1042: "Acme Logistics", 1077: "Acme Foods Ltd", 2001: "Globex GmbH"},
)


class Region(StrEnum):
    EMEA = "emea"
    APAC = "apac"
    LATAM = "latam"
    NORTH_AMERICA = "north_america"


class ReportArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report: Literal["sales_by_region", "sales_by_product", "top_customers", "revenue_trend"]
    period: str = "last_30_days"
    region: Region | None = None
    limit: int = Field(default=10, ge=1)


class IngestArgs(BaseModel):
    path: str
    dataset: Literal["customers", "products", "orders"]
    mode: Literal["append", "replace"] = "append"


class OrderArgs(BaseModel):
    client_id: int
    product: str
    quantity: int


class NotifyArgs(BaseModel):
    channel: Literal["telegram", "email", "webhook"]
    recipient: str
    message: str


class ScheduleArgs(BaseModel):
    flow: Literal["nightly_sales_export", "customer_sync", "invoice_run"]
    cron: str


class DeliverArgs(BaseModel):
    file: str
    destination: Literal["bank_sftp", "partner_sftp", "finance_share", "erp_webhook"]


class StatusArgs(BaseModel):
    run_id: int | None = None
    flow: Literal["nightly_sales_export", "customer_sync", "invoice_run"] | None = None


class RulesArgs(BaseModel):
    ruleset: Literal["vip_tiering", "credit_hold"]
    dry_run: bool = False


class LookupArgs(BaseModel):
    query: str


def _extract(model: type[BaseModel], text: str, known: KnownEntities | None = KNOWN) -> ExtractedArgs:
    return extract_args(text, schema=model.model_json_schema(), today=TODAY, known=known)


@pytest.mark.parametrize(
    ("model", "text", "values", "missing"),
    [
        (
            ReportArgs,
            "show me last month's sales by region",
            {"report": "sales_by_region", "period": "last_month"},
            (),
        ),
        (
            ReportArgs,
            "top 5 customers in Europe for Q3",
            {"report": "top_customers", "period": "2026-07-01..2026-09-30", "region": "emea", "limit": 5},
            (),
        ),
        (
            ReportArgs,
            "revenue trend ytd for the US",
            {"report": "revenue_trend", "period": "2026-01-01..2026-11-22", "region": "north_america"},
            (),
        ),
        (ReportArgs, "sales please", {}, ("report",)),
        (
            IngestArgs,
            "load orders_today.csv into orders",
            {"path": "orders_today.csv", "dataset": "orders"},
            (),
        ),
        (
            IngestArgs,
            "ingest customers_update.xlsx, wipe and load",
            {"path": "customers_update.xlsx", "dataset": "customers", "mode": "replace"},
            (),
        ),
        (
            IngestArgs,
            "load /inbox/products.json into the catalogue",
            {"path": "/inbox/products.json", "dataset": "products"},
            (),
        ),
        (IngestArgs, "load today's orders file", {"dataset": "orders"}, ("path",)),
        (
            OrderArgs,
            "quote 12 A100X for client 1042",
            {"client_id": 1042, "product": "A100X", "quantity": 12},
            (),
        ),
        (
            OrderArgs,
            "how much for twelve c55 for Acme Logistics",
            {"client_id": 1042, "product": "C-55", "quantity": 12},
            (),
        ),
        (OrderArgs, "order 3 b200 for globex", {"client_id": 2001, "product": "B200", "quantity": 3}, ()),
        (OrderArgs, "order some B200", {"product": "B200"}, ("client_id", "quantity")),
        (
            NotifyArgs,
            "tell finance on telegram 'the bank file is late'",
            {"channel": "telegram", "recipient": "finance", "message": "the bank file is late"},
            (),
        ),
        (
            NotifyArgs,
            "email ops@acme.com saying the nightly export failed",
            {"channel": "email", "recipient": "ops@acme.com", "message": "the nightly export failed"},
            (),
        ),
        (
            NotifyArgs,
            "ping ops on telegram: the webhook to the erp is failing",
            {"channel": "telegram", "recipient": "ops", "message": "the webhook to the erp is failing"},
            (),
        ),
        (NotifyArgs, "send a notification", {}, ("channel", "recipient", "message")),
        (
            ScheduleArgs,
            "schedule the nightly sales export every weekday at 6pm",
            {"flow": "nightly_sales_export", "cron": "0 18 * * 1-5"},
            (),
        ),
        (
            ScheduleArgs,
            "run customer sync every 15 minutes",
            {"flow": "customer_sync", "cron": "*/15 * * * *"},
            (),
        ),
        (ScheduleArgs, "schedule the invoice run", {"flow": "invoice_run"}, ("cron",)),
        (
            DeliverArgs,
            "send the latest export to the bank",
            {"file": "latest", "destination": "bank_sftp"},
            (),
        ),
        (
            DeliverArgs,
            "deliver sales_by_region_2026-11-21.csv to the finance share",
            {"file": "sales_by_region_2026-11-21.csv", "destination": "finance_share"},
            (),
        ),
        (DeliverArgs, "send last month's report to the partner", {"destination": "partner_sftp"}, ("file",)),
        (StatusArgs, "what's the status of run 57", {"run_id": 57}, ()),
        (StatusArgs, "did the invoice run finish?", {"flow": "invoice_run"}, ()),
        (StatusArgs, "how did the last run go", {}, ()),
        (
            RulesArgs,
            "apply the vip tiering rules but just show me, don't change anything",
            {"ruleset": "vip_tiering", "dry_run": True},
            (),
        ),
        (RulesArgs, "run credit holds for real", {"ruleset": "credit_hold", "dry_run": False}, ()),
        (LookupArgs, "look up Acme Logistics please", {"query": "Acme Logistics"}, ()),
        (LookupArgs, "find customer #1042", {"query": "1042"}, ()),
    ],
)
def test_extract_args(
    model: type[BaseModel], text: str, values: dict[str, Any], missing: tuple[str, ...]
) -> None:
    found = _extract(model, text)
    assert (dict(found.values), found.missing, dict(found.ambiguous)) == (values, missing, {})
    if not missing:
        model.model_validate(found.values)


def test_ambiguous_enums_and_customers_are_reported_not_guessed() -> None:
    found = _extract(ReportArgs, "sales by region for Europe or Asia")
    assert (dict(found.values), found.missing, dict(found.ambiguous)) == (
        {"report": "sales_by_region"},
        (),
        {"region": ("emea", "apac")},
    )
    order = _extract(OrderArgs, "quote 5 B200 for acme")
    assert dict(order.ambiguous) == {"client_id": ("Acme Logistics (1042)", "Acme Foods Ltd (1077)")}
    assert order.missing == ()


def test_quoted_message_and_path_do_not_leak_into_other_arguments() -> None:
    notify = _extract(NotifyArgs, "email finance 'the telegram bot and the sales team are down'")
    assert dict(notify.values) == {
        "channel": "email",
        "recipient": "finance",
        "message": "the telegram bot and the sales team are down",
    }
    ingest = _extract(IngestArgs, "load customers_2025.csv into products")
    assert dict(ingest.values) == {"path": "customers_2025.csv", "dataset": "products"}


def test_quoted_words_still_count_for_tools_without_a_message() -> None:
    assert _extract(ReportArgs, "sales by region for 'EMEA'").values == {
        "report": "sales_by_region",
        "region": "emea",
    }
    assert _extract(RulesArgs, "tell me what the vip tiering would change").values == {
        "ruleset": "vip_tiering",
        "dry_run": True,
    }


@pytest.mark.parametrize(
    ("model", "text", "values"),
    [
        (OrderArgs, "1042", {"client_id": 1042, "quantity": 1042}),
        (StatusArgs, "#57", {"run_id": 57}),
        (OrderArgs, "twelve", {"client_id": 12, "quantity": 12}),
        (IngestArgs, "orders", {"dataset": "orders"}),
        (ReportArgs, "emea", {"region": "emea"}),
    ],
)
def test_short_answers_fill_what_they_can(model: type[BaseModel], text: str, values: dict[str, Any]) -> None:
    assert dict(_extract(model, text).values) == values


def test_names_need_the_known_entities() -> None:
    assert _extract(OrderArgs, "quote 2 A100X for Acme Logistics", known=None).missing == ("client_id",)
    assert _extract(OrderArgs, "quote 2 c55 for client 1", known=None).values["product"] == "C55"


def test_extract_args_with_the_real_tool_registry() -> None:
    registry = build_registry()

    def run(tool: str, text: str) -> dict[str, Any]:
        schema = registry[tool].args_model.model_json_schema()
        found = extract_args(text, schema=schema, today=TODAY, known=KNOWN)
        assert found.missing == () and dict(found.ambiguous) == {}, (tool, found)
        registry[tool].args_model.model_validate(found.values)
        return dict(found.values)

    assert run("run_report", "show me last month's sales by region") == {
        "report": "sales_by_region",
        "period": "last_month",
    }
    assert run("list_runs", "failed runs since monday") == {
        "status": "failed",
        "period": "2026-11-16..2026-11-22",
    }
    assert run("export_dataset", "export regional sales as xml for Q3") == {
        "dataset": "sales_by_region",
        "format": "xml",
        "period": "2026-07-01..2026-09-30",
    }
    assert run("normalize_dataset", "clean up the product catalogue, dry run") == {
        "dataset": "products",
        "dry_run": True,
    }
    assert run("retry_run", "retry job 57") == {"run_id": 57}
    assert run("explain_rule", "how does the bulk discount work") == {"rule": "bulk_discount"}
    assert run("create_order", "order a dozen A100X for client 1042") == {
        "client_id": 1042,
        "product": "A100X",
        "quantity": 12,
    }
    assert run("list_pending_approvals", "what is waiting for approval") == {}


MODELS = (
    ReportArgs,
    IngestArgs,
    OrderArgs,
    NotifyArgs,
    ScheduleArgs,
    DeliverArgs,
    StatusArgs,
    RulesArgs,
    LookupArgs,
)


@given(text=st.text(max_size=80), model=st.sampled_from(MODELS))
def test_extract_args_never_raises_and_reports_every_required_property(
    text: str, model: type[BaseModel]
) -> None:
    schema = model.model_json_schema()
    found = extract_args(text, schema=schema, today=TODAY, known=KNOWN)
    required = set(schema.get("required", ()))
    assert set(found.values) | set(found.missing) | set(found.ambiguous) >= required
    assert not set(found.values) & set(found.missing)
    assert set(found.values) <= set(schema["properties"])
