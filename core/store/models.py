"""Domain tables: customers, products, orders, ingest batches and the quarantine of rejected rows.

Bulk data goes through SQLAlchemy Core (``Model.__table__``), never ``session.add_all``; these models double as
the schema for that.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.store.db import utcnow

# The largest value an INTEGER column holds (PostgreSQL's is 32-bit): ids and quantities that users or files
# supply are checked against it before they reach a query.
MAX_INTEGER = 2_147_483_647


class CustomerBase(SQLModel):
    """Fields of a customer as ingested."""

    name: str = Field(index=True)
    email: str = Field(index=True)
    region: str = Field(index=True)
    country: str | None = None
    credit_limit: float | None = None


class Customer(CustomerBase, table=True):
    """A B2B customer account."""

    id: int = Field(primary_key=True)
    tier: str | None = Field(default=None, description="VIP tier set by the vip_tiering ruleset.")
    credit_hold: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class ProductBase(SQLModel):
    """Fields of a product as ingested."""

    name: str
    category: str | None = None
    unit_price: float
    price_tier: str = "standard"


class Product(ProductBase, table=True):
    """A catalogue item, keyed by SKU (A100X, B200, C-55)."""

    sku: str = Field(primary_key=True)


class OrderBase(SQLModel):
    """Fields of an order line as ingested; ``total`` may be missing and is filled by normalize."""

    customer_id: int = Field(index=True)
    sku: str = Field(index=True)
    quantity: int
    unit_price: float
    total: float | None = None
    region: str = Field(index=True)
    order_date: date = Field(index=True)
    status: str = "open"


class Order(OrderBase, table=True):
    """An order line."""

    id: int = Field(primary_key=True)


class IngestBatch(SQLModel, table=True):
    """One ingested file or body; the content checksum makes re-ingesting the same content a no-op."""

    __table_args__ = (UniqueConstraint("dataset", "checksum", name="uq_ingest_dataset_checksum"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset: str
    source: str
    checksum: str
    mode: str
    rows_loaded: int = 0
    rows_quarantined: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class Quarantine(SQLModel, table=True):
    """A rejected input row with the reason and where it came from."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int | None = Field(default=None, index=True)
    dataset: str
    source: str
    line: int
    field_name: str | None = None
    reason: str
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class Artifact(SQLModel, table=True):
    """A file Switchboard produced (export, chart), addressable by id or name."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    path: str
    kind: str = "export"
    format: str
    dataset: str | None = None
    sha256: str
    size: int
    rows: int | None = None
    manifest_path: str | None = None
    run_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Delivery(SQLModel, table=True):
    """One (artifact, destination) delivery; unique, so delivering twice is a no-op."""

    __table_args__ = (
        UniqueConstraint("artifact_id", "destination", name="uq_delivery_artifact_destination"),
    )

    id: int | None = Field(default=None, primary_key=True)
    artifact_id: int = Field(index=True)
    destination: str
    status: str = "pending"
    attempts: int = 0
    remote_path: str | None = None
    sha256: str | None = None
    error: str | None = None
    claimed_by: str | None = Field(default=None, description="Who is sending it (see core.store.outbox).")
    claimed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class Notification(SQLModel, table=True):
    """Outbox row: one message to one recipient, sent at most once per idempotency key."""

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True)
    channel: str
    recipient: str
    message: str
    status: str = "pending"
    attempts: int = 0
    error: str | None = None
    claimed_by: str | None = Field(default=None, description="Who is sending it (see core.store.outbox).")
    claimed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class Schedule(SQLModel, table=True):
    """A cron schedule for a named flow."""

    __table_args__ = (UniqueConstraint("flow", "cron", name="uq_schedule_flow_cron"),)

    id: int | None = Field(default=None, primary_key=True)
    flow: str = Field(index=True)
    cron: str
    paused: bool = False
    created_by: str = "system"
    created_at: datetime = Field(default_factory=utcnow)
    last_run_at: datetime | None = None
    next_run_at: datetime | None = None


class AlertState(SQLModel, table=True):
    """Debounce memory: when an alert key last notified, and how many were suppressed since."""

    key: str = Field(primary_key=True)
    last_sent_at: datetime
    suppressed: int = 0
