"""The shipped demo domain: a small B2B distributor, generated deterministically from a seed and a date.

About 500 customers across emea, apac, latam and north_america (some with upper-case or padded e-mails, about
15 duplicates by e-mail under other ids), about 40 products with SKUs such as A100X, B200 and C-55 in economy,
standard and premium price tiers, and about 20,000 orders over the 18 months ending at ``today`` (about 2%
without a total). The same seed and date always give the same data. ``load_demo`` also writes sample files
into the inbox.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Table, func, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from core.store import rollups
from core.store.audit import AuditEvent, append_in
from core.store.bulk import BulkInserter
from core.store.db import utcnow, write_session
from core.store.models import Customer, IngestBatch, Order, Product, Quarantine
from core.store.schema import init_db
from flows.config import FlowSettings
from flows.demo.files import write_inbox_files

CUSTOMERS = 500
DUPLICATES = 15
ORDERS = 20_000
FIRST_CUSTOMER_ID = 1001
REGION_WEIGHTS = {"emea": 35, "north_america": 30, "apac": 20, "latam": 15}
COUNTRIES = {
    "emea": ("DE", "FR", "GB", "NL", "ES", "IT", "SE", "PL", "AE", "ZA"),
    "apac": ("AU", "JP", "SG", "IN", "NZ", "KR"),
    "latam": ("BR", "MX", "AR", "CL", "CO", "PE"),
    "north_america": ("US", "US", "US", "CA"),
}
_NAME_HEADS = tuple(
    "Acme Globex Initech Umbrella Northwind Contoso Fabrikam Tailspin Litware Wingtip Vandelay Stark "
    "Wayne Hooli Soylent Cyberdyne Tyrell Wonka Gringotts Oceanic Pinnacle Summit Harbor Redwood "
    "Bluewater Ironclad Silverline Keystone Evergreen Meridian Atlas Orion Vertex Crescent Sterling "
    "Beacon Cobalt Granite Horizon".split()
)
_NAME_TAILS = tuple(
    "Logistics Trading Supplies Industries Retail Foods Systems Wholesale Partners Group Manufacturing "
    "Distribution Engineering Holdings Components Works".split()
)
_CONTACTS = ("orders", "purchasing", "accounts", "procurement", "buying", "ap")
_TLDS = {"emea": ".eu", "apac": ".asia", "latam": ".lat", "north_america": ".com"}
CATEGORIES = {
    "A": ("fasteners", ("Hex Bolt M8", "Wood Screw 4x40", "Anchor Plug 10mm", "Rivet Pack", "Washer Set")),
    "B": ("packaging", ("Carton 40x30", "Stretch Film", "Pallet Wrap", "Bubble Roll", "Tape Case")),
    "C": ("tools", ("Cordless Drill", "Socket Set", "Torque Wrench", "Utility Knife", "Spirit Level")),
    "D": ("electrical", ("Cable Reel 50m", "Circuit Breaker", "LED Panel", "Junction Box", "Cable Ties")),
    "E": ("safety", ("Hard Hat", "Safety Gloves", "Hi-Vis Vest", "Ear Defenders", "Safety Goggles")),
    "F": ("hydraulics", ("Hydraulic Hose", "Pressure Gauge", "Ball Valve", "Pump Seal Kit", "Quick Coupler")),
    "G": ("adhesives", ("Epoxy Resin", "Contact Glue", "Silicone Sealant", "Threadlocker", "Spray Adhesive")),
    "H": ("office", ("Copy Paper A4", "Toner Cartridge", "Label Roll", "Archive Box", "Desk Organizer")),
}
_SKU_PATTERNS = ("{l}100X", "{l}200", "{l}-55", "{l}300", "{l}-10")
_TIER_OF_PATTERN = ("premium", "standard", "economy", "standard", "economy")
TIER_PRICES = {"economy": (2.0, 25.0), "standard": (15.0, 140.0), "premium": (90.0, 650.0)}


class DemoSummary(BaseModel):
    """What ``load_demo`` loaded and wrote."""

    customers: int
    products: int
    orders: int
    duplicate_customers: int
    messy_emails: int
    missing_totals: int
    first_order_date: date
    last_order_date: date
    inbox_files: list[str] = Field(default_factory=list)
    kept_existing: bool = False
    seconds: float = 0.0

    def describe(self) -> str:
        """A short paragraph for the CLI."""
        head = (
            "Kept the existing data"
            if self.kept_existing
            else (
                f"Loaded {self.customers} customers ({self.duplicate_customers} duplicates by e-mail, "
                f"{self.messy_emails} messy e-mails), {self.products} products and {self.orders} orders "
                f"from {self.first_order_date} to {self.last_order_date} "
                f"({self.missing_totals} without a total)"
            )
        )
        return f"{head}; wrote {', '.join(self.inbox_files)} to the inbox in {self.seconds:.2f} s."


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def make_customers(rng: random.Random) -> list[dict[str, Any]]:
    """About 500 customers; ``DUPLICATES`` of them repeat an earlier customer's e-mail in a messier form."""
    names = [f"{head} {tail}" for head in _NAME_HEADS for tail in _NAME_TAILS]
    rng.shuffle(names)
    names.remove("Acme Logistics")
    names.insert(0, "Acme Logistics")
    regions = rng.choices(list(REGION_WEIGHTS), weights=list(REGION_WEIGHTS.values()), k=CUSTOMERS)
    originals: list[dict[str, Any]] = []
    for index in range(CUSTOMERS - DUPLICATES):
        region = regions[index]
        email = f"{rng.choice(_CONTACTS)}@{_slug(names[index])}{_TLDS[region]}"
        roll = rng.random()
        if roll < 0.06:
            email = email.upper()
        elif roll < 0.10:
            email = f"  {email} "
        elif roll < 0.13:
            email = email.capitalize()
        originals.append(
            {
                "name": names[index],
                "email": email,
                "region": region,
                "country": rng.choice(COUNTRIES[region]),
                "credit_limit": float(rng.choice((10_000, 25_000, 50_000, 100_000, 250_000))),
            }
        )
    duplicates = []
    for source in rng.sample(originals, DUPLICATES):
        clean = source["email"].strip().lower()
        messy = rng.choice((clean.upper(), f" {clean}", clean.title(), f"{clean}  "))
        duplicates.append({**source, "email": messy if messy != source["email"] else clean.upper() + " "})
    everyone = originals + duplicates
    rng.shuffle(everyone)
    created = utcnow()
    for offset, customer in enumerate(everyone):
        customer.update(id=FIRST_CUSTOMER_ID + offset, tier=None, credit_hold=False, created_at=created)
    return everyone


def make_products(rng: random.Random) -> list[dict[str, Any]]:
    """40 products: eight categories of five, SKUs such as A100X, B200 and C-55."""
    products = []
    for letter, (category, names) in CATEGORIES.items():
        for pattern, tier, name in zip(_SKU_PATTERNS, _TIER_OF_PATTERN, names, strict=True):
            low, high = TIER_PRICES[tier]
            products.append(
                {
                    "sku": pattern.format(l=letter),
                    "name": name,
                    "category": category,
                    "unit_price": round(rng.uniform(low, high), 2),
                    "price_tier": tier,
                }
            )
    return products


def _status(rng: random.Random, age_days: int) -> str:
    table = (
        (7, (("open", 50), ("shipped", 40), ("invoiced", 10))),
        (30, (("shipped", 30), ("invoiced", 50), ("paid", 20))),
        (60, (("invoiced", 35), ("paid", 60), ("cancelled", 5))),
        (10**6, (("paid", 93), ("cancelled", 5), ("invoiced", 2))),
    )
    for limit, weights in table:
        if age_days <= limit:
            return rng.choices([s for s, _ in weights], weights=[w for _, w in weights])[0]
    raise AssertionError("unreachable")


def first_order_day(today: date) -> date:
    """The first day of the 18 months ending at ``today``."""
    index = today.year * 12 + today.month - 1 - 18
    year, month = divmod(index, 12)
    day = min(today.day, 28)
    return date(year, month + 1, day) + timedelta(days=1)


def make_orders(
    rng: random.Random,
    customers: list[dict[str, Any]],
    products: list[dict[str, Any]],
    today: date,
    *,
    count: int = ORDERS,
    first_id: int = 1,
) -> list[dict[str, Any]]:
    """Orders spread over the 18 months ending at ``today`` (slowly growing, quieter at weekends)."""
    start = first_order_day(today)
    days = [start + timedelta(days=n) for n in range((today - start).days + 1)]
    day_weights = [
        (1 + 0.6 * n / len(days)) * (0.25 if d.weekday() >= 5 else 1.0) for n, d in enumerate(days)
    ]
    dates = sorted(rng.choices(days, weights=day_weights, k=count))
    buyers = rng.choices(customers, weights=[rng.lognormvariate(0, 1.1) for _ in customers], k=count)
    items = rng.choices(
        products, weights=[3 if p["price_tier"] == "economy" else 2 for p in products], k=count
    )
    orders = []
    for offset, (day, customer, product) in enumerate(zip(dates, buyers, items, strict=True)):
        roll = rng.random()
        quantity = (
            rng.randint(1, 40)
            if roll < 0.8
            else rng.randint(50, 300)
            if roll < 0.97
            else rng.randint(500, 1200)
        )
        price = product["unit_price"]
        orders.append(
            {
                "id": first_id + offset,
                "customer_id": customer["id"],
                "sku": product["sku"],
                "quantity": quantity,
                "unit_price": price,
                "total": None if rng.random() < 0.02 else round(quantity * price, 2),
                "region": customer["region"],
                "order_date": day,
                "status": _status(rng, (today - day).days),
            }
        )
    return orders


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def load_demo(
    *, engine: Engine, settings: FlowSettings, today: date, seed: int = 7, reset: bool = True
) -> DemoSummary:
    """Generate the demo distributor, load it with Core bulk inserts, and write sample files into the inbox.

    Args:
        engine: Database engine (the schema is created if missing).
        settings: Provides the inbox folder.
        today: Reference date; orders cover the 18 months ending on it.
        seed: Random seed; the same seed and date give the same data.
        reset: Delete existing customers, products, orders, ingest batches and quarantine first. Without
            it, an already loaded database is kept as it is (only the inbox files are rewritten).
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    customers, products = make_customers(rng), make_products(rng)
    orders = make_orders(rng, customers, products, today)
    init_db(engine)
    kept = False
    with write_session(engine) as session:
        conn = session.connection()
        with rollups.bulk(conn) as rollup:
            if reset:
                for model in (Order, Customer, Product, Quarantine, IngestBatch):
                    conn.execute(_table(model).delete())
                rollups.clear(conn)
            elif conn.execute(select(func.count()).select_from(Customer)).scalar_one():
                kept = True
            if not kept:
                for model, rows in ((Customer, customers), (Product, products), (Order, orders)):
                    table = _table(model)
                    inserter = BulkInserter(conn, table, [column.name for column in table.columns])
                    for start in range(0, len(rows), 5_000):
                        inserter.insert_mappings(rows[start : start + 5_000])
                rollup.add_mappings(orders)
        summary = DemoSummary(
            customers=len(customers),
            products=len(products),
            orders=len(orders),
            duplicate_customers=DUPLICATES,
            messy_emails=sum(1 for c in customers if c["email"] != c["email"].strip().lower()),
            missing_totals=sum(1 for o in orders if o["total"] is None),
            first_order_date=orders[0]["order_date"],
            last_order_date=orders[-1]["order_date"],
            kept_existing=kept,
        )
        append_in(
            session,
            [
                AuditEvent(
                    "demo.loaded",
                    "system",
                    "demo",
                    {
                        "seed": seed,
                        "today": today.isoformat(),
                        "reset": reset,
                        "kept_existing": kept,
                        "customers": summary.customers,
                        "products": summary.products,
                        "orders": summary.orders,
                    },
                )
            ],
        )
    inbox = Path(settings.inbox)
    summary.inbox_files = write_inbox_files(
        inbox, random.Random(seed + 1), customers=customers, products=products, orders=orders, today=today
    )
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


__all__ = ["DemoSummary", "first_order_day", "load_demo", "make_customers", "make_orders", "make_products"]
