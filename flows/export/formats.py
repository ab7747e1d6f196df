"""Streaming writers for the export formats (csv, xml, json, dat) and the fixed-width ``dat`` layouts.

Each writer takes batches of rows and writes a batch at a time, so memory stays bounded whatever the size
of the dataset, and the per-row work runs in C where it can (``csv.writer.writerows``, one reused json encoder,
XML cells built a column at a time). ``DAT_LAYOUTS`` is the single definition of the fixed-width files; ``dat_layout_doc()``
renders it as the markdown table that the export module docstring and the README show.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, TextIO
from xml.sax.saxutils import escape, quoteattr

from core.errors import BadInput

Batch = Sequence[Sequence[Any]]
Tick = Callable[[int], None]


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


def _iso(value: Any) -> Any:
    """The json encoder's fallback: dates as ISO text."""
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


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


def _kinds(dataset: str, columns: Sequence[str]) -> list[str]:
    known = {item.name: item.kind for item in DAT_LAYOUTS.get(dataset, ())}
    return [known.get(column, "any") for column in columns]


def _flag_text(values: Sequence[Any]) -> list[Any]:
    return [None if v is None else "true" if v else "false" for v in values]


def _write_csv(
    out: TextIO, columns: Sequence[str], batches: Iterable[Batch], kinds: list[str], tick: Tick
) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    flags = [index for index, kind in enumerate(kinds) if kind == "flag"]
    count = 0
    for batch in batches:
        rows: Iterable[Sequence[Any]] = batch
        if flags:  # csv.writer writes None as nothing and dates as ISO; only booleans need words
            cells: list[Sequence[Any]] = list(zip(*batch, strict=True))
            for index in flags:
                cells[index] = _flag_text(cells[index])
            rows = zip(*cells, strict=True)
        writer.writerows(rows)
        count += len(batch)
        tick(count)
    return count


def _write_json(out: TextIO, columns: Sequence[str], batches: Iterable[Batch], tick: Tick) -> int:
    encode = json.JSONEncoder(ensure_ascii=False, default=_iso).encode  # one encoder, not one per row
    out.write("[")
    count = 0
    for batch in batches:
        if not batch:
            continue
        out.write(",\n" if count else "\n")
        out.write(",\n".join([encode(dict(zip(columns, row, strict=True))) for row in batch]))
        count += len(batch)
        tick(count)
    out.write("\n]\n" if count else "]\n")
    return count


def _xml_cells(column: str, kind: str, values: Sequence[Any]) -> list[str]:
    empty, opening, closing = f"<{column}/>", f"<{column}>", f"</{column}>"
    if kind in ("int", "money", "text"):
        return [empty if v is None else f"{opening}{escape(str(v))}{closing}" for v in values]
    return [empty if v is None else f"{opening}{escape(_xml_text(v))}{closing}" for v in values]


def _xml_text(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(_plain(value))


def _write_xml(
    out: TextIO,
    columns: Sequence[str],
    batches: Iterable[Batch],
    kinds: list[str],
    tick: Tick,
    *,
    dataset: str,
    period: str | None,
) -> int:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    attributes = f" period={quoteattr(period)}" if period else ""
    out.write(f"<{dataset}{attributes}>\n")
    count = 0
    for batch in batches:
        if not batch:
            continue
        cells = [
            _xml_cells(column, kind, values)
            for column, kind, values in zip(columns, kinds, zip(*batch, strict=True), strict=True)
        ]
        out.write("".join([f"  <row>{''.join(row)}</row>\n" for row in zip(*cells, strict=True)]))
        count += len(batch)
        tick(count)
    out.write(f"</{dataset}>\n")
    return count


def _dat_column(item: DatField, values: Sequence[Any]) -> list[str]:
    """One field of a batch, formatted as ``_dat_cell`` does, without the width check."""
    width, blank = item.width, " " * item.width
    if item.kind == "text":
        return [blank if v is None else " ".join(str(v).split())[:width].ljust(width) for v in values]
    if item.kind == "flag":
        return [blank if v is None else "Y" if v else "N" for v in values]
    if item.kind == "date":
        return [
            blank if v is None else v.strftime("%Y%m%d") if isinstance(v, date) else str(v).replace("-", "")
            for v in values
        ]
    if item.kind == "int":
        spec = f"0{width}d"
        return [blank if v is None else format(int(v), spec) for v in values]
    return [blank if v is None else format(float(v), ".2f").rjust(width) for v in values]


def _dat_lines(layout: Sequence[DatField], batch: Batch) -> list[str] | None:
    """The batch's records a column at a time; None when a value does not fit (or cannot be formatted)."""
    try:
        cells = [
            _dat_column(item, values) for item, values in zip(layout, zip(*batch, strict=True), strict=True)
        ]
    except (TypeError, ValueError, AttributeError, OverflowError):
        return None
    for item, column in zip(layout, cells, strict=True):
        if item.kind not in ("text", "flag") and max(map(len, column)) > item.width:
            return None
    return ["".join(row) for row in zip(*cells, strict=True)]


def _write_dat(
    out: TextIO, columns: Sequence[str], batches: Iterable[Batch], tick: Tick, *, dataset: str
) -> int:
    layout = DAT_LAYOUTS[dataset]
    if [item.name for item in layout] != list(columns):
        raise ValueError(f"dat layout of {dataset} does not match its columns {list(columns)}")
    count = 0
    for batch in batches:
        if not batch:
            continue
        lines = _dat_lines(layout, batch)
        if lines is None:  # cell by cell, to fail on the first value in record order, with its line number
            lines = [
                "".join(
                    [_dat_cell(item, value, count + line) for item, value in zip(layout, row, strict=True)]
                )
                for line, row in enumerate(batch, start=1)
            ]
        out.write("\n".join(lines) + "\n")
        count += len(batch)
        tick(count)
    return count


def _no_tick(_rows: int) -> None:
    pass


def write_batches(
    fmt: str,
    out: TextIO,
    *,
    dataset: str,
    columns: Sequence[str],
    batches: Iterable[Batch],
    period: str | None = None,
    tick: Tick = _no_tick,
) -> int:
    """Write rows, batch by batch, in ``fmt`` to ``out``.

    Args:
        fmt: csv, xml, json or dat.
        out: A text stream opened with ``newline=""``.
        dataset: Dataset name (XML root element, dat layout, which columns are dates and flags).
        columns: Column names, in row order.
        batches: Lists of rows (any iterable; consumed once). A date may be a ``date`` or ISO text.
        period: Period label recorded on the XML root.
        tick: Called with the number of rows written after each batch.

    Returns:
        The number of rows written.
    """
    if fmt == "csv":
        return _write_csv(out, columns, batches, _kinds(dataset, columns), tick)
    if fmt == "json":
        return _write_json(out, columns, batches, tick)
    if fmt == "xml":
        return _write_xml(
            out, columns, batches, _kinds(dataset, columns), tick, dataset=dataset, period=period
        )
    if fmt == "dat":
        return _write_dat(out, columns, batches, tick, dataset=dataset)
    raise BadInput(f"unknown format {fmt!r}: use csv, xml, json or dat", field="format")
