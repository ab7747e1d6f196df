"""Streaming writers for the export formats (csv, xml, json, dat) and the fixed-width ``dat`` layouts.

Each writer takes an iterator of rows and writes them one at a time, so memory stays bounded whatever the
size of the dataset. ``DAT_LAYOUTS`` is the single definition of the fixed-width files; ``dat_layout_doc()``
renders it as the markdown table that the export module docstring and the README show.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, TextIO
from xml.sax.saxutils import escape, quoteattr

from core.errors import BadInput


@dataclass(frozen=True)
class DatField:
    """One fixed-width field."""

    name: str
    width: int
    kind: Literal["int", "money", "date", "text", "flag"]

    @property
    def align(self) -> str:
        """Text and flags align left, numbers and dates right."""
        return "left" if self.kind in ("text", "flag") else "right"

    @property
    def padding(self) -> str:
        """Integers pad with zeros, everything else with spaces."""
        return "zero" if self.kind == "int" else "space"


DAT_LAYOUTS: dict[str, tuple[DatField, ...]] = {
    "customers": (
        DatField("id", 8, "int"),
        DatField("name", 40, "text"),
        DatField("email", 60, "text"),
        DatField("region", 13, "text"),
        DatField("country", 20, "text"),
        DatField("credit_limit", 14, "money"),
        DatField("tier", 8, "text"),
        DatField("credit_hold", 1, "flag"),
    ),
    "products": (
        DatField("sku", 12, "text"),
        DatField("name", 40, "text"),
        DatField("category", 20, "text"),
        DatField("unit_price", 12, "money"),
        DatField("price_tier", 10, "text"),
    ),
    "orders": (
        DatField("id", 10, "int"),
        DatField("order_date", 8, "date"),
        DatField("customer_id", 8, "int"),
        DatField("sku", 12, "text"),
        DatField("quantity", 8, "int"),
        DatField("unit_price", 12, "money"),
        DatField("total", 14, "money"),
        DatField("status", 10, "text"),
        DatField("region", 13, "text"),
    ),
    "sales_by_region": (
        DatField("region", 13, "text"),
        DatField("orders", 10, "int"),
        DatField("units", 12, "int"),
        DatField("revenue", 16, "money"),
        DatField("share_pct", 7, "money"),
    ),
}


def dat_layout_doc() -> str:
    """The fixed-width layouts as markdown: field, start column (1-based), width, alignment, padding."""
    parts = [
        "Each record is one line ending in LF, UTF-8, with no header line. Widths count characters.\n"
        "Empty values are all spaces. Text longer than its field is cut; a number that does not fit fails\n"
        "the export. Money has two decimals and a '.' separator; dates are YYYYMMDD; flags are Y or N.",
    ]
    for dataset, fields in DAT_LAYOUTS.items():
        lines = [
            f"\n{dataset} (record length {sum(f.width for f in fields)}):\n",
            "| field | start | width | align | padding |",
            "|---|---|---|---|---|",
        ]
        start = 1
        for item in fields:
            lines.append(f"| {item.name} | {start} | {item.width} | {item.align} | {item.padding} |")
            start += item.width
        parts.append("\n".join(lines))
    return "\n".join(parts) + "\n"


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _dat_cell(item: DatField, value: Any, line: int) -> str:
    if value is None:
        return " " * item.width
    if item.kind == "text":
        text = " ".join(str(value).split())  # a newline or tab would break the record layout
        return text[: item.width].ljust(item.width)
    if item.kind == "flag":
        return "Y" if value else "N"
    if item.kind == "date":
        text = value.strftime("%Y%m%d") if isinstance(value, date) else str(value).replace("-", "")
    elif item.kind == "int":
        text = f"{int(value):0{item.width}d}"
    else:
        text = f"{float(value):.2f}".rjust(item.width)
    if len(text) > item.width:
        raise BadInput(
            f"record {line}: {item.name} = {value} does not fit the {item.width} columns of the dat layout",
            line=line,
            field=item.name,
        )
    return text


def _write_csv(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(
            [
                "" if v is None else ("true" if v is True else "false" if v is False else _plain(v))
                for v in row
            ]
        )
        count += 1
    return count


def _write_json(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    out.write("[")
    count = 0
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps({c: _plain(v) for c, v in zip(columns, row, strict=True)}, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _write_xml(
    out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, dataset: str, period: str | None
) -> int:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    attributes = f" period={quoteattr(period)}" if period else ""
    out.write(f"<{dataset}{attributes}>\n")
    count = 0
    for row in rows:
        cells = []
        for column, value in zip(columns, row, strict=True):
            if value is None:
                cells.append(f"<{column}/>")
            else:
                text = "true" if value is True else "false" if value is False else str(_plain(value))
                cells.append(f"<{column}>{escape(text)}</{column}>")
        out.write(f"  <row>{''.join(cells)}</row>\n")
        count += 1
    out.write(f"</{dataset}>\n")
    return count


def _write_dat(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, dataset: str) -> int:
    layout = DAT_LAYOUTS[dataset]
    if [item.name for item in layout] != list(columns):
        raise ValueError(f"dat layout of {dataset} does not match its columns {list(columns)}")
    count = 0
    for row in rows:
        count += 1
        out.write(
            "".join(_dat_cell(item, value, count) for item, value in zip(layout, row, strict=True)) + "\n"
        )
    return count


def write_rows(
    fmt: str,
    out: TextIO,
    *,
    dataset: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    period: str | None = None,
) -> int:
    """Write rows in ``fmt`` to ``out``, one at a time.

    Args:
        fmt: csv, xml, json or dat.
        out: A text stream opened with ``newline=""``.
        dataset: Dataset name (XML root element, dat layout).
        columns: Column names, in row order.
        rows: The rows (any iterable; consumed once).
        period: Period label recorded on the XML root.

    Returns:
        The number of rows written.
    """
    if fmt == "csv":
        return _write_csv(out, columns, rows)
    if fmt == "json":
        return _write_json(out, columns, rows)
    if fmt == "xml":
        return _write_xml(out, columns, rows, dataset=dataset, period=period)
    if fmt == "dat":
        return _write_dat(out, columns, rows, dataset=dataset)
    raise BadInput(f"unknown format {fmt!r}: use csv, xml, json or dat", field="format")
