"""Order files for the scale benchmark: a distributor's daily CSV files, generated fast and ingested for real.

The demo's customers and products stay as they are; only orders grow. A *round* is one branch's daily files for
the 18 months ending at the reference date: one file per day, ``ROUND_ROWS`` orders in all, shared out between
the days as the demo shares its orders (slowly growing, a quarter as many at weekends). Growing the table by
more than a round sends several rounds, one after the other, so every file in every size step has the same size
distribution (about 330 rows on a weekday) and the ingest rates of the steps compare like with like.

Rows have the demo's shape: a demo customer (and its region), a demo SKU at its list price, the demo's quantity
mix and status by age, and about 5 % of totals empty. Ids continue from the largest id in the table and only
increase. Each file is generated, written, ingested through ``flows.ingest.pipeline.ingest_file`` (append mode)
and deleted before the next one, so memory stays bounded whatever the size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core.store.models import Customer, Order, Product
from flows.config import FlowSettings
from flows.demo.data import first_order_day
from flows.ingest.pipeline import ingest_file

ROUND_ROWS = 180_000  # one branch's 18 months of daily files: nine times the demo's orders
MISSING_TOTAL = 0.05
HEADER = "id,customer_id,sku,quantity,unit_price,total,region,order_date,status\n"
# The demo's status mix by the order's age in days (flows.demo.data._status).
_STATUS_BY_AGE = (
    (7, ("open", "shipped", "invoiced"), (50, 40, 10)),
    (30, ("shipped", "invoiced", "paid"), (30, 50, 20)),
    (60, ("invoiced", "paid", "cancelled"), (35, 60, 5)),
    (10**6, ("paid", "cancelled", "invoiced"), (93, 5, 2)),
)


@dataclass
class Catalogue:
    """What generated orders draw from: the demo's customers and products, and the days they fall on."""

    customer_ids: np.ndarray[Any, Any]
    customer_regions: np.ndarray[Any, Any]
    customer_weights: np.ndarray[Any, Any]
    skus: np.ndarray[Any, Any]
    prices: np.ndarray[Any, Any]
    product_weights: np.ndarray[Any, Any]
    days: list[date]
    day_weights: np.ndarray[Any, Any]
    today: date
    next_id: int


@dataclass
class IngestTally:
    """Files and rows ingested, and the seconds spent inside ``ingest_file``."""

    files: int = 0
    rows: int = 0
    seconds: float = 0.0

    @property
    def rows_per_s(self) -> int | None:
        """Rows ingested per second of ingest, or None when nothing was ingested."""
        return round(self.rows / self.seconds) if self.seconds else None


def read_catalogue(engine: Engine, *, today: date, rng: np.random.Generator) -> Catalogue:
    """The loaded demo's customers and products, the 18 months of days, and the next free order id."""
    customers, products, orders = Customer.__table__, Product.__table__, Order.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        people = conn.execute(select(customers.c.id, customers.c.region).order_by(customers.c.id)).all()
        items = conn.execute(
            select(products.c.sku, products.c.unit_price, products.c.price_tier).order_by(products.c.sku)
        ).all()
        last_id = conn.execute(select(func.max(orders.c.id))).scalar() or 0
    start = first_order_day(today)
    days = [start + timedelta(days=n) for n in range((today - start).days + 1)]
    # As the demo: business grows by 60 % over the 18 months, and weekends are a quarter as busy.
    day_weights = np.array(
        [(1 + 0.6 * n / len(days)) * (0.25 if d.weekday() >= 5 else 1.0) for n, d in enumerate(days)]
    )
    buyers = rng.lognormal(0, 1.1, len(people))
    return Catalogue(
        customer_ids=np.array([row[0] for row in people]),
        customer_regions=np.array([row[1] for row in people], dtype=object),
        customer_weights=buyers / buyers.sum(),
        skus=np.array([row[0] for row in items], dtype=object),
        prices=np.array([float(row[1]) for row in items]),
        product_weights=_normalised([3.0 if row[2] == "economy" else 2.0 for row in items]),
        days=days,
        day_weights=day_weights / day_weights.sum(),
        today=today,
        next_id=int(last_id) + 1,
    )


def _normalised(values: list[float]) -> np.ndarray[Any, Any]:
    array = np.array(values)
    return array / array.sum()


def _statuses(rng: np.random.Generator, ages: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    out = np.empty(len(ages), dtype=object)
    lower = -1
    for limit, names, weights in _STATUS_BY_AGE:
        mask = (ages > lower) & (ages <= limit)
        if mask.any():
            out[mask] = rng.choice(
                np.array(names, dtype=object), size=int(mask.sum()), p=_normalised(list(weights))
            )
        lower = limit
    return out


def order_lines(cat: Catalogue, rng: np.random.Generator, dates: list[date]) -> str:
    """CSV lines (no header) for one order per entry of ``dates``, with fresh increasing ids."""
    count = len(dates)
    ids = range(cat.next_id, cat.next_id + count)
    cat.next_id += count
    who = rng.choice(len(cat.customer_ids), size=count, p=cat.customer_weights)
    what = rng.choice(len(cat.skus), size=count, p=cat.product_weights)
    roll = rng.random(count)
    # The demo's quantities: mostly 1-40, some 50-300, a few 500-1200.
    quantity = np.where(
        roll < 0.8,
        rng.integers(1, 41, count),
        np.where(roll < 0.97, rng.integers(50, 301, count), rng.integers(500, 1201, count)),
    )
    price = cat.prices[what]
    totals = [
        "" if empty else f"{value:.2f}"
        for empty, value in zip(rng.random(count) < MISSING_TOTAL, np.round(quantity * price, 2), strict=True)
    ]
    ages = np.array([(cat.today - day).days for day in dates])
    statuses = _statuses(rng, ages)
    customer_ids, regions, skus = cat.customer_ids[who], cat.customer_regions[who], cat.skus[what]
    return "".join(
        f"{i},{c},{s},{q},{p:.2f},{t},{r},{d.isoformat()},{st}\n"
        for i, c, s, q, p, t, r, d, st in zip(
            ids, customer_ids, skus, quantity, price, totals, regions, dates, statuses, strict=True
        )
    )


def _ingest(
    engine: Engine, settings: FlowSettings, name: str, body: str, rows: int, tally: IngestTally
) -> None:
    path = Path(settings.inbox) / name
    path.write_text(HEADER + body, encoding="utf-8")
    started = time.perf_counter()
    report = ingest_file(engine=engine, settings=settings, path=name, dataset="orders", mode="append")
    tally.seconds += time.perf_counter() - started
    path.unlink()
    if report.rows_loaded != rows or report.rows_quarantined:
        raise RuntimeError(
            f"{name}: loaded {report.rows_loaded} of {rows} rows ({report.rows_quarantined} quarantined)"
        )
    tally.files += 1
    tally.rows += rows


def ingest_daily_files(
    *,
    engine: Engine,
    settings: FlowSettings,
    cat: Catalogue,
    rng: np.random.Generator,
    rows: int,
    branch: int,
) -> tuple[IngestTally, int]:
    """Grow the orders by ``rows`` in rounds of daily files; returns the tally and the next branch number."""
    tally = IngestTally()
    Path(settings.inbox).mkdir(parents=True, exist_ok=True)
    while rows > 0:
        size = min(rows, ROUND_ROWS)
        per_day = rng.multinomial(size, cat.day_weights)
        for day, count in zip(cat.days, per_day, strict=True):
            if count:
                body = order_lines(cat, rng, [day] * int(count))
                _ingest(
                    engine, settings, f"orders_b{branch:03d}_{day.isoformat()}.csv", body, int(count), tally
                )
        rows -= size
        branch += 1
    return tally, branch


def ingest_scattered_file(
    *, engine: Engine, settings: FlowSettings, cat: Catalogue, rng: np.random.Generator, rows: int
) -> IngestTally:
    """One file of ``rows`` orders whose dates fall anywhere in the 18 months, in no order (the worst case)."""
    tally = IngestTally()
    picks = rng.choice(len(cat.days), size=rows, p=cat.day_weights)
    _ingest(
        engine,
        settings,
        "orders_scattered.csv",
        order_lines(cat, rng, [cat.days[i] for i in picks]),
        rows,
        tally,
    )
    return tally
