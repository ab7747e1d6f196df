"""The order rollups: the sums that reports read instead of the order lines.

Three grains, each the smallest that its reports need:

- ``rollup_day``: day × region × status. Sales by region, the revenue trend, order status and the order counts of
  data quality. A few dozen rows a day whatever the order count.
- ``rollup_sku``: day or month × region × cancelled × sku. Sales by product, and orders of unknown products.
- ``rollup_customer``: day or month × region × cancelled × customer. Top customers, and orders of unknown
  customers.

``grain`` is ``d`` (``bucket`` is the day) or ``m`` (``bucket`` is the first of the month): a period reads whole
months from the month rows and only its ragged ends from the day rows, so a year costs twelve buckets, not 365.
``core.store.rollups`` keeps them current in the transaction that changes an order, and can rebuild them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

# On SQLite the rows live in their key's order (no rowid), so a range of buckets is one contiguous read.
_CLUSTERED = {"sqlite_with_rowid": False}


def _count() -> int:
    return Field(default=0, sa_column=Column(BigInteger, nullable=False))  # type: ignore[no-any-return]


class RollupDay(SQLModel, table=True):
    """Orders, units, value and lines still missing a total, per day, region and status."""

    __tablename__ = "rollup_day"
    __table_args__ = _CLUSTERED

    day: date = Field(primary_key=True)
    region: str = Field(primary_key=True)
    status: str = Field(primary_key=True)
    orders: int = _count()
    units: int = _count()
    revenue: float = 0.0
    missing_total: int = _count()


class RollupSku(SQLModel, table=True):
    """Orders, units and value per day or month, region, cancelled or not, and sku."""

    __tablename__ = "rollup_sku"
    __table_args__ = _CLUSTERED

    grain: str = Field(primary_key=True, max_length=1)
    bucket: date = Field(primary_key=True)
    region: str = Field(primary_key=True)
    cancelled: bool = Field(primary_key=True)
    sku: str = Field(primary_key=True)
    orders: int = _count()
    units: int = _count()
    revenue: float = 0.0


class RollupCustomer(SQLModel, table=True):
    """Orders and value per day or month, region, cancelled or not, and customer."""

    __tablename__ = "rollup_customer"
    __table_args__ = _CLUSTERED

    grain: str = Field(primary_key=True, max_length=1)
    bucket: date = Field(primary_key=True)
    region: str = Field(primary_key=True)
    cancelled: bool = Field(primary_key=True)
    customer_id: int = Field(primary_key=True)
    orders: int = _count()
    revenue: float = 0.0


class RollupPause(SQLModel, table=True):
    """While a transaction holds a row here, the order triggers leave the rollups to it (bulk loads)."""

    __tablename__ = "rollup_pause"

    holder: str = Field(primary_key=True)


__all__ = ["RollupCustomer", "RollupDay", "RollupPause", "RollupSku"]
