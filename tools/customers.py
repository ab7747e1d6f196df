"""Customer tools: look a customer up, quote a price with the bulk discount, and create an order."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from core.errors import NotFound
from flows.sales.lookup import lookup_customers
from flows.sales.pricing import Quote, create_order, normalize_sku, quote_price
from tools.arguments import OneLine, Quantity, RecordId
from tools.base import Preview, Table, ToolArgs, ToolContext, ToolResult, ToolSpec

QUOTE_COLUMNS = [
    "client_id",
    "customer",
    "tier",
    "sku",
    "product",
    "quantity",
    "list_price",
    "discount_pct",
    "unit_price",
    "line_total",
]


class LookupCustomerArgs(ToolArgs):
    """Who to look for."""

    query: OneLine = Field(
        min_length=1,
        max_length=200,
        description="The customer to find: a customer id such as 1042, an e-mail address, or (part of) the "
        "company name such as 'Acme Logistics'.",
    )


class _OrderLine(ToolArgs):
    client_id: RecordId = Field(description="The customer id, e.g. 1042 (use lookup_customer to find it).")
    product: OneLine = Field(
        min_length=1, max_length=64, description="The product SKU, e.g. A100X, B200 or C-55."
    )
    quantity: Quantity = Field(description="Number of units, from 1 to 1,000,000.")

    @field_validator("product")
    @classmethod
    def _canonical_sku(cls, value: str) -> str:
        return normalize_sku(value)


class QuotePriceArgs(_OrderLine):
    """The order line to price."""


class CreateOrderArgs(_OrderLine):
    """The order line to create."""


def _quote_table(quote: Quote) -> Table:
    row = [
        quote.client_id,
        quote.customer,
        quote.tier,
        quote.sku,
        quote.product,
        quote.quantity,
        quote.list_price,
        quote.discount_pct,
        quote.unit_price,
        quote.line_total,
    ]
    return Table(title=f"Quote for {quote.customer}", columns=QUOTE_COLUMNS, rows=[row])


def _quote_data(quote: Quote) -> dict[str, Any]:
    return {
        **quote.model_dump(mode="json"),
        "ruleset": "bulk_discount",
        "ruleset_version": quote.rule_version,
    }


def _lookup_customer(ctx: ToolContext, args: LookupCustomerArgs) -> ToolResult:
    try:
        matches = lookup_customers(engine=ctx.engine, query=args.query)
    except NotFound as exc:
        return ToolResult(summary=exc.message[0].upper() + exc.message[1:] + ".", data={"matches": []})
    rows: list[list[Any]] = [
        [m.id, m.name, m.email, m.region, m.tier, m.credit_hold, m.score] for m in matches
    ]
    best = matches[0]
    summary = (
        f"Found {best.name} (#{best.id}, {best.region})."
        if len(matches) == 1
        else f"{len(matches)} customers match {args.query!r}; best is {best.name} (#{best.id})."
    )
    return ToolResult(
        summary=summary,
        table=Table(
            title=f"Customers matching {args.query!r}",
            columns=["id", "name", "email", "region", "tier", "credit_hold", "score"],
            rows=rows,
        ),
        data={"matches": [m.id for m in matches]},
    )


def _quote(ctx: ToolContext, args: _OrderLine) -> Quote:
    return quote_price(
        engine=ctx.engine,
        rulesets=ctx.settings.rulesets,
        client_id=args.client_id,
        sku=args.product,
        quantity=args.quantity,
    )


def _quote_price(ctx: ToolContext, args: QuotePriceArgs) -> ToolResult:
    quote = _quote(ctx, args)
    return ToolResult(summary=quote.summary, table=_quote_table(quote), data=_quote_data(quote))


def _create_order(ctx: ToolContext, args: CreateOrderArgs) -> ToolResult:
    created = create_order(
        engine=ctx.engine,
        rulesets=ctx.settings.rulesets,
        client_id=args.client_id,
        sku=args.product,
        quantity=args.quantity,
        today=ctx.today,
        actor=ctx.actor,
    )
    quote = created.quote
    return ToolResult(
        summary=f"Created order {created.order_id}: {quote.summary}",
        table=_quote_table(quote),
        data={
            **_quote_data(quote),
            "order_id": created.order_id,
            "status": created.status,
            "region": created.region,
            "order_date": created.order_date.isoformat(),
        },
    )


def _preview_order(ctx: ToolContext, args: CreateOrderArgs) -> Preview:
    quote = _quote(ctx, args)
    return Preview(
        summary=f"It would order {quote.summary}",
        rows_affected=1,
        value=quote.line_total,
        details=_quote_data(quote),
    )


def _order_value(ctx: ToolContext, args: CreateOrderArgs) -> float:
    return _quote(ctx, args).line_total


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name="lookup_customer",
        description="Find a customer by id, e-mail address or company name (fuzzy), showing id, contact, "
        "region, VIP tier and credit hold. Read-only.",
        args_model=LookupCustomerArgs,
        risk="read",
        func=_lookup_customer,
    ),
    ToolSpec(
        name="quote_price",
        description="Price a quantity of a product (SKU) for a customer, applying the bulk discount and the "
        "customer's VIP extra. Read-only: nothing is ordered.",
        args_model=QuotePriceArgs,
        risk="read",
        func=_quote_price,
    ),
    ToolSpec(
        name="create_order",
        description="Place an order for a customer: a quantity of one product (SKU), priced with the bulk "
        "discount. Refused for customers on credit hold; large orders need approval.",
        args_model=CreateOrderArgs,
        risk="write",
        func=_create_order,
        preview=_preview_order,
        value_of=_order_value,
    ),
)
