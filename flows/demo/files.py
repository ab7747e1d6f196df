"""Sample inbox files for the demo: today's orders, a customer update workbook, new products, and a bad file.

* ``orders_today.csv``: 50 new orders dated ``today`` with fresh ids (two without a total);
* ``customers_update.xlsx``: 20 new customers under a title-case header, some with messy e-mails and one
  repeating an existing customer's e-mail (for normalize to merge);
* ``products.json``: five new products as a JSON array;
* ``orders_bad.csv``: ten orders of which four are invalid (bad date, negative quantity, unknown region,
  missing customer), to show quarantine.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date
from pathlib import Path
from typing import Any

ORDER_COLUMNS = (
    "id",
    "customer_id",
    "sku",
    "quantity",
    "unit_price",
    "total",
    "region",
    "order_date",
    "status",
)
NEW_PRODUCTS = (
    ("J100X", "Laser Distance Meter", "tools", 189.0, "premium"),
    ("J200", "Workbench Mat", "tools", 34.5, "standard"),
    ("J-55", "Marker Pens (10)", "office", 6.9, "economy"),
    ("K300", "Pallet Jack Wheel", "hydraulics", 58.0, "standard"),
    ("K-10", "Zip Bags (100)", "packaging", 4.25, "economy"),
)
_NEW_NAMES = (
    "Quasar Freight",
    "Nimbus Components",
    "Sable Trading",
    "Falcon Wholesale",
    "Aurora Retail",
    "Juniper Foods",
    "Pioneer Supplies",
    "Zenith Engineering",
    "Copperleaf Group",
    "Lighthouse Partners",
    "Basalt Industries",
    "Riverbend Logistics",
    "Magnolia Distribution",
    "Tundra Works",
    "Solstice Systems",
    "Kestrel Holdings",
    "Ember Manufacturing",
    "Harvest Trading",
    "Polar Components",
    "Mosaic Retail",
)


def _order_row(order: dict[str, Any]) -> list[Any]:
    row = [order[column] for column in ORDER_COLUMNS]
    return ["" if value is None else value.isoformat() if isinstance(value, date) else value for value in row]


def _new_orders(
    rng: random.Random,
    customers: list[dict[str, Any]],
    products: list[dict[str, Any]],
    first_id: int,
    count: int,
    day: date,
) -> list[dict[str, Any]]:
    orders = []
    for offset in range(count):
        customer, product = rng.choice(customers), rng.choice(products)
        quantity = rng.randint(1, 60) if rng.random() < 0.9 else rng.randint(100, 600)
        orders.append(
            {
                "id": first_id + offset,
                "customer_id": customer["id"],
                "sku": product["sku"],
                "quantity": quantity,
                "unit_price": product["unit_price"],
                "total": round(quantity * product["unit_price"], 2),
                "region": customer["region"],
                "order_date": day,
                "status": "open",
            }
        )
    return orders


def write_orders_csv(path: Path, orders: list[dict[str, Any]]) -> None:
    """Write orders with the canonical header."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(ORDER_COLUMNS)
        writer.writerows(_order_row(order) for order in orders)


def write_inbox_files(
    inbox: Path,
    rng: random.Random,
    *,
    customers: list[dict[str, Any]],
    products: list[dict[str, Any]],
    orders: list[dict[str, Any]],
    today: date,
) -> list[str]:
    """Write the four sample files; returns their names."""
    inbox.mkdir(parents=True, exist_ok=True)
    next_order = max(order["id"] for order in orders) + 1
    today_orders = _new_orders(rng, customers, products, next_order, 50, today)
    for order in rng.sample(today_orders, 2):
        order["total"] = None
    write_orders_csv(inbox / "orders_today.csv", today_orders)

    bad = _new_orders(rng, customers, products, next_order + 50, 10, today)
    bad[1]["order_date"] = "2026-13-45"
    bad[3]["quantity"] = -3
    bad[5]["region"] = "mars"
    bad[8]["customer_id"] = None
    write_orders_csv(inbox / "orders_bad.csv", bad)

    _write_customers_xlsx(inbox / "customers_update.xlsx", rng, customers)

    catalogue = [
        {"sku": sku, "name": name, "category": category, "unit_price": price, "price_tier": tier}
        for sku, name, category, price, tier in NEW_PRODUCTS
    ]
    (inbox / "products.json").write_text(json.dumps(catalogue, indent=2) + "\n", encoding="utf-8")
    return ["orders_today.csv", "customers_update.xlsx", "products.json", "orders_bad.csv"]


def _write_customers_xlsx(path: Path, rng: random.Random, customers: list[dict[str, Any]]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("customers")
    sheet.append(["ID", "Name", "Email", "Region", "Country", "Credit Limit"])
    first_id = max(customer["id"] for customer in customers) + 1
    regions = ("emea", "apac", "latam", "north_america")
    for offset, name in enumerate(_NEW_NAMES):
        region = rng.choice(regions)
        email = f"orders@{''.join(ch for ch in name.lower() if ch.isalnum())}.com"
        if offset % 7 == 3:
            email = email.upper()
        elif offset % 7 == 5:
            email = f" {email}  "
        sheet.append(
            [
                first_id + offset,
                name,
                email,
                region.upper() if offset % 4 == 0 else region,
                None,
                float(rng.choice((10_000, 25_000, 50_000))),
            ]
        )
    existing = rng.choice(customers)
    sheet.append(
        [
            first_id + len(_NEW_NAMES),
            existing["name"],
            existing["email"].strip().upper(),
            existing["region"],
            existing["country"],
            existing["credit_limit"],
        ]
    )
    book.save(path)


__all__ = ["NEW_PRODUCTS", "ORDER_COLUMNS", "write_inbox_files", "write_orders_csv"]
