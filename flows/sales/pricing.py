"""Pricing with the bulk_discount ruleset: quotes, order creation and the order value the policy weighs.

The discount is the quantity break reached (the highest ``min_quantity`` not above the quantity) plus the VIP
extra for the customer's tier. The net unit price is rounded half-up to cents and the line total is the net
unit price times the quantity, so a quote and the order it becomes always agree to the cent.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from core.errors import BadInput, Forbidden, NotFound
from core.store.audit import AuditEvent, append_in
from core.store.db import write_session
from core.store.models import Customer, Order, Product
from flows.config import BulkDiscount, Rulesets

logger = logging.getLogger(__name__)

_o = Order.__table__  # type: ignore[attr-defined]
_c = Customer.__table__  # type: ignore[attr-defined]
_p = Product.__table__  # type: ignore[attr-defined]
_CENT = Decimal("0.01")
_ID_ATTEMPTS = 5
_ORDER_ID_LOCK = 0x5357_4F52  # arbitrary constant naming the order-id advisory lock


class Quote(BaseModel):
    """A priced order line."""

    model_config = ConfigDict(extra="forbid")

    client_id: int
    customer: str
    tier: str | None
    sku: str
    product: str
    quantity: int
    list_price: float
    discount_pct: float
    unit_price: float
    line_total: float
    rule_version: str

    @property
    def summary(self) -> str:
        """One sentence for the operator."""
        price = f"{self.unit_price:,.2f} each"
        if self.discount_pct:
            price += f" after {self.discount_pct:g}% off {self.list_price:,.2f}"
        return (
            f"{self.quantity} × {self.sku} for {self.customer} (#{self.client_id}): {price}, "
            f"total {self.line_total:,.2f} (bulk_discount {self.rule_version})."
        )


@dataclass(frozen=True)
class CreatedOrder:
    """An order created from a quote."""

    order_id: int
    order_date: date
    region: str
    status: str
    quote: Quote


def normalize_sku(sku: str) -> str:
    """Canonical SKU form: trimmed, upper case (``a100x`` → ``A100X``)."""
    return sku.strip().upper()


def discount_for(*, rules: BulkDiscount, quantity: int, tier: str | None) -> Decimal:
    """The discount fraction for a quantity and tier (capped at 100 %)."""
    reached = [Decimal(str(rate)) for minimum, rate in sorted(rules.breaks) if quantity >= minimum]
    base = reached[-1] if reached else Decimal(0)
    extra = Decimal(str(rules.vip_extra.get(tier, 0.0))) if tier else Decimal(0)
    return min(base + extra, Decimal(1))


def _customer(conn: Connection, client_id: int) -> tuple[str, str | None, bool, str]:
    row = conn.execute(
        select(_c.c.name, _c.c.tier, _c.c.credit_hold, _c.c.region).where(_c.c.id == client_id)
    ).first()
    if row is None:
        raise NotFound(
            f"customer {client_id} does not exist; look the customer up by name or email first",
            field="client_id",
            client_id=client_id,
        )
    return str(row[0]), row[1], bool(row[2]), str(row[3])


def _product(conn: Connection, sku: str) -> tuple[str, float]:
    row = conn.execute(select(_p.c.name, _p.c.unit_price).where(_p.c.sku == sku)).first()
    if row is None:
        known = list(conn.execute(select(_p.c.sku)).scalars())
        close = difflib.get_close_matches(sku, known, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise NotFound(f"unknown product {sku!r}{hint}", field="product", sku=sku)
    return str(row[0]), float(row[1])


def _quote(
    conn: Connection, rulesets: Rulesets, client_id: int, sku: str, quantity: int
) -> tuple[Quote, bool, str]:
    if quantity < 1:
        raise BadInput(f"quantity must be at least 1, got {quantity}", field="quantity")
    sku = normalize_sku(sku)
    name, tier, on_hold, region = _customer(conn, client_id)
    product, list_price = _product(conn, sku)
    rules = rulesets.bulk_discount
    discount = discount_for(rules=rules, quantity=quantity, tier=tier)
    unit = (Decimal(str(list_price)) * (1 - discount)).quantize(_CENT, rounding=ROUND_HALF_UP)
    quote = Quote(
        client_id=client_id,
        customer=name,
        tier=tier,
        sku=sku,
        product=product,
        quantity=quantity,
        list_price=list_price,
        discount_pct=float(discount * 100),
        unit_price=float(unit),
        line_total=float(unit * quantity),
        rule_version=rules.version,
    )
    return quote, on_hold, region


def quote_price(*, engine: Engine, rulesets: Rulesets, client_id: int, sku: str, quantity: int) -> Quote:
    """Price ``quantity`` units of ``sku`` for a customer.

    Raises:
        NotFound: Unknown customer, or unknown SKU (with the closest SKUs).
        BadInput: Quantity below 1.
    """
    with engine.connect() as conn:
        return _quote(conn, rulesets, client_id, sku, quantity)[0]


def order_value(*, engine: Engine, rulesets: Rulesets, client_id: int, sku: str, quantity: int) -> float:
    """The line total an order would have (the policy asks for approval above a configured value)."""
    return quote_price(
        engine=engine, rulesets=rulesets, client_id=client_id, sku=sku, quantity=quantity
    ).line_total


def create_order(
    *,
    engine: Engine,
    rulesets: Rulesets,
    client_id: int,
    sku: str,
    quantity: int,
    today: date,
    actor: str = "system",
) -> CreatedOrder:
    """Create an open order priced by bulk_discount, with the region of the customer and the next order id.

    Raises:
        Forbidden: The customer is on credit hold.
        NotFound: Unknown customer or SKU.
        BadInput: Quantity below 1.
    """
    for attempt in range(1, _ID_ATTEMPTS + 1):
        try:
            return _insert_order(engine, rulesets, client_id, sku, quantity, today, actor)
        except IntegrityError:
            # Two writers took the same next id on PostgreSQL; the loser simply takes the one after.
            if attempt == _ID_ATTEMPTS:
                raise
            logger.info("order id taken, retrying", extra={"attempt": attempt})
    raise AssertionError("unreachable")


def _insert_order(
    engine: Engine, rulesets: Rulesets, client_id: int, sku: str, quantity: int, today: date, actor: str
) -> CreatedOrder:
    with write_session(engine) as session:
        conn = session.connection()
        quote, on_hold, region = _quote(conn, rulesets, client_id, sku, quantity)
        if on_hold:
            raise Forbidden(
                f"customer {client_id} ({quote.customer}) is on credit hold, so new orders are refused until "
                "the overdue invoices are paid and the hold is lifted",
                client_id=client_id,
            )
        if conn.dialect.name == "postgresql":
            # Serialise id allocation between concurrent creators (SQLite's BEGIN IMMEDIATE already does);
            # the IntegrityError retry above still covers rows inserted by ingest meanwhile.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ORDER_ID_LOCK})
        order_id = int(conn.execute(select(func.coalesce(func.max(_o.c.id), 0))).scalar_one()) + 1
        conn.execute(
            insert(_o).values(
                id=order_id,
                customer_id=client_id,
                sku=quote.sku,
                quantity=quantity,
                unit_price=quote.unit_price,
                total=quote.line_total,
                region=region,
                order_date=today,
                status="open",
            )
        )
        append_in(
            session,
            [
                AuditEvent(
                    "order.created",
                    actor,
                    f"order:{order_id}",
                    {
                        "client_id": client_id,
                        "sku": quote.sku,
                        "quantity": quantity,
                        "total": quote.line_total,
                        "bulk_discount_version": quote.rule_version,
                    },
                )
            ],
        )
    logger.info(
        "order created", extra={"order_id": order_id, "client_id": client_id, "total": quote.line_total}
    )
    return CreatedOrder(order_id=order_id, order_date=today, region=region, status="open", quote=quote)
