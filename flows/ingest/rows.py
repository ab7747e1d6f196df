"""Row models per dataset: the columns a file may carry, which are required, and how each value is checked.

Ingest validates every input row against one of these pydantic models. The models are deliberately lax about
representation (numbers may arrive as strings from CSV or as floats from XLSX, enum-like values in any case)
and strict about meaning (a quantity must be a positive integer, a date must be an ISO date). Text columns
such as names and e-mails are kept exactly as given: cleaning them is normalize's job, and it reports what it
changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from sqlalchemy import Table
from sqlmodel import SQLModel

from core.errors import NotFound
from core.store.models import MAX_INTEGER, Customer, Order, Product
from core.text import control_message, find_control
from core.vocabulary import DATASETS, REGIONS

PriceTier = Literal["economy", "standard", "premium"]
OrderStatus = Literal["open", "shipped", "invoiced", "paid", "cancelled"]
PRICE_TIERS: tuple[str, ...] = ("economy", "standard", "premium")
ORDER_STATUSES: tuple[str, ...] = ("open", "shipped", "invoiced", "paid", "cancelled")

_COLUMN_SEPARATORS = re.compile(r"[\s\-./]+")


def normalize_column(name: object) -> str:
    """Canonical column name: trimmed, lower case, spaces and dashes as "_" ("Unit Price" -> unit_price)."""
    text = str(name).strip().lstrip("\ufeff").strip().lower()
    return _COLUMN_SEPARATORS.sub("_", text).strip("_")


def _one_of(values: tuple[str, ...]) -> str:
    """Pattern for enum-like text: any case, surrounding spaces allowed (stored trimmed and lower case)."""
    return rf"^\s*(?i:{'|'.join(values)})\s*$"


# Every constraint below is enforced inside pydantic-core (no Python validator per value): ingest validates
# hundreds of thousands of rows, and Python-level validators made it three times slower.
# Text columns hold one line: control characters (NUL, ESC, line breaks, ...) are refused, the row quarantined
# (README, "Input limits"); the patterns run in pydantic-core's linear-time regex engine.
_C = r"\x00-\x1f\x7f-\x9f"
Text = Annotated[str, StringConstraints(max_length=500, pattern=rf"^[^{_C}]*[^\s{_C}][^{_C}]*$")]
OptText = Annotated[str, StringConstraints(max_length=500, pattern=rf"^[^{_C}]*$")] | None
Email = Annotated[str, StringConstraints(max_length=320, pattern=rf"^[^{_C}]*[^\s{_C}]@[^\s{_C}][^{_C}]*$")]
Sku = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, min_length=1, max_length=64, pattern=rf"^[^{_C}]*$"
    ),
]
Id = Annotated[int, Field(gt=0, le=MAX_INTEGER)]
Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]
RegionCode = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=_one_of(REGIONS))]
TierCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=_one_of(PRICE_TIERS))
]
StatusCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=_one_of(ORDER_STATUSES))
]
_PATTERN_MESSAGES = {
    "region": f"must be one of {', '.join(REGIONS)}",
    "status": f"must be one of {', '.join(ORDER_STATUSES)}",
    "price_tier": f"must be one of {', '.join(PRICE_TIERS)}",
    "email": "not an e-mail address",
}


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)
    # Absent and blank values never reach a model: readers drop them, so a default applies or "missing" is
    # raised.


class CustomerRow(_Row):
    """A customers row: id, name, email, region, and optionally country and credit_limit."""

    id: Id
    name: Text
    email: Email
    region: RegionCode
    country: OptText = None
    credit_limit: Money | None = None


class ProductRow(_Row):
    """A products row: sku, name, unit_price, and optionally category and price_tier."""

    sku: Sku
    name: Text
    category: OptText = None
    unit_price: Money
    price_tier: TierCode = "standard"


class OrderRow(_Row):
    """An orders row; ``total`` may be missing (normalize fills it) and ``status`` defaults to open."""

    id: Id
    customer_id: Id
    sku: Sku
    quantity: Annotated[int, Field(gt=0, le=MAX_INTEGER)]
    unit_price: Money
    total: Money | None = None
    region: RegionCode
    order_date: date
    status: StatusCode = "open"


@dataclass(frozen=True)
class DatasetSpec:
    """What ingest needs to know about one dataset.

    Attributes:
        name: Dataset name (customers, products, orders).
        model: The pydantic row model.
        table: The SQLAlchemy table rows load into.
        key: Primary-key column; a second row with the same key is a duplicate.
        columns: Columns a file may carry, in table order.
        required: Columns a file must carry.
        record: The SQLModel table class (for defaults of columns a file does not carry).
    """

    name: str
    model: type[_Row]
    table: Table
    record: type[SQLModel]
    key: str
    columns: tuple[str, ...] = field(default=())
    required: tuple[str, ...] = field(default=())

    def table_defaults(self) -> dict[str, Any]:
        """Values for the table's columns that rows do not carry (tier, credit_hold, created_at)."""
        fields = self.record.model_fields
        return {
            column.name: fields[column.name].get_default(call_default_factory=True)
            for column in self.table.columns
            if column.name not in self.columns
        }


def _spec(name: str, model: type[_Row], record: type[SQLModel], key: str) -> DatasetSpec:
    fields = model.model_fields
    return DatasetSpec(
        name=name,
        model=model,
        table=record.__table__,  # type: ignore[attr-defined]
        record=record,
        key=key,
        columns=tuple(fields),
        required=tuple(column for column, info in fields.items() if info.is_required()),
    )


def dataset_spec(dataset: str) -> DatasetSpec:
    """The spec of a dataset.

    Raises:
        NotFound: for a name that is not customers, products or orders.
    """
    specs: dict[str, tuple[type[_Row], type[SQLModel], str]] = {
        "customers": (CustomerRow, Customer, "id"),
        "products": (ProductRow, Product, "sku"),
        "orders": (OrderRow, Order, "id"),
    }
    if dataset not in specs:
        raise NotFound(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}", dataset=dataset)
    model, record, key = specs[dataset]
    return _spec(dataset, model, record, key)


@dataclass(frozen=True)
class Positional:
    """Validates the rows of a headed file (CSV, XLSX) as tuples in the file's own column order.

    The same field types and constraints as the row model, applied position by position: about twice as fast
    as building a dict per row and a model from it, which matters at hundreds of thousands of rows.

    Attributes:
        columns: The file's columns, in file order.
        validate: Validates one row (a sequence of cells) into a tuple of typed values.
        blanks: Per column, the value a blank cell stands for (the default, or None: required or optional).
        extra: Model columns the file lacks (all optional), appended after the file's columns.
        extra_values: Their defaults.
    """

    columns: tuple[str, ...]
    validate: Callable[[Sequence[Any]], tuple[Any, ...]]
    blanks: tuple[Any, ...]
    extra: tuple[str, ...]
    extra_values: tuple[Any, ...]


def positional(spec: DatasetSpec, columns: Sequence[str]) -> Positional:
    """A positional validator for a file whose (checked) header is ``columns``."""
    fields = spec.model.model_fields
    types = tuple(
        Annotated[(fields[name].annotation, *fields[name].metadata)]
        if fields[name].metadata
        else fields[name].annotation
        for name in columns
    )
    adapter: TypeAdapter[tuple[Any, ...]] = TypeAdapter(
        tuple[types],  # type: ignore[valid-type]
        config=ConfigDict(coerce_numbers_to_str=True),
    )
    blanks = tuple(None if fields[name].is_required() else fields[name].default for name in columns)
    extra = tuple(name for name in spec.columns if name not in columns)
    return Positional(
        columns=tuple(columns),
        validate=adapter.validator.validate_python,
        blanks=blanks,
        extra=extra,
        extra_values=tuple(fields[name].default for name in extra),
    )


def describe_row_error(exc: ValidationError, columns: Sequence[str] = ()) -> tuple[str | None, str]:
    """The first problem of a rejected row as (field, reason) with the offending value quoted.

    Args:
        exc: The validation error.
        columns: Column names by position, for errors from a positional validator.
    """
    error = exc.errors(include_url=False)[0]
    where = error["loc"][0] if error["loc"] else None
    field_name = columns[where] if isinstance(where, int) and where < len(columns) else where
    field_name = str(field_name) if field_name is not None else None
    value = error.get("input")
    if error["type"] == "missing" or value is None:
        return field_name, "a value is required"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "string_pattern_mismatch":
        control = find_control(value, single_line=True) if isinstance(value, str) else None
        message = (
            control_message(control)
            if control
            else _PATTERN_MESSAGES.get(field_name or "", "must not be blank")
        )
    if isinstance(value, Mapping):
        return field_name, message
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return field_name, f"{message} (got {shown})"


__all__ = [
    "ORDER_STATUSES",
    "PRICE_TIERS",
    "CustomerRow",
    "DatasetSpec",
    "OrderRow",
    "OrderStatus",
    "Positional",
    "PriceTier",
    "ProductRow",
    "dataset_spec",
    "describe_row_error",
    "normalize_column",
    "positional",
]
