"""Export: customers, products, orders or sales by region as csv, xml, json or dat, with a sha256 manifest.

Rows stream from the database in batches (``flows.export.source``; csv on PostgreSQL goes through COPY,
``flows.export.pgcopy``) into a temporary file, hashed as it is written (bounded memory, one pass over the
bytes), which is then renamed into place under ``settings.artifacts`` with a deterministic name
(``orders_2026-10.dat``, ``sales_by_region_2026-11-21.csv``, ``orders_2026-11-01_2026-11-15.json``, or
today's date for a full export).
A ``<name>.manifest.json`` beside it records file, sha256, size, rows, dataset, format, period and created_at,
and an Artifact row makes the file addressable by id, by name, or as "latest" (``find_artifact``).

Formats: csv has a header line; json is an array of objects; xml has the dataset as root element (with a
``period`` attribute), one ``<row>`` per record and one child element per column, empty when the value is
missing; dat is fixed-width as below.

Fixed-width (dat) layout
------------------------

Each record is one line ending in LF, UTF-8, with no header line. Widths count characters.
Empty values are all spaces. Text longer than its field is cut; a number that does not fit fails
the export. Money has two decimals and a '.' separator; dates are YYYYMMDD; flags are Y or N.

customers (record length 164):

| field | start | width | align | padding |
|---|---|---|---|---|
| id | 1 | 8 | right | zero |
| name | 9 | 40 | left | space |
| email | 49 | 60 | left | space |
| region | 109 | 13 | left | space |
| country | 122 | 20 | left | space |
| credit_limit | 142 | 14 | right | space |
| tier | 156 | 8 | left | space |
| credit_hold | 164 | 1 | left | space |

products (record length 94):

| field | start | width | align | padding |
|---|---|---|---|---|
| sku | 1 | 12 | left | space |
| name | 13 | 40 | left | space |
| category | 53 | 20 | left | space |
| unit_price | 73 | 12 | right | space |
| price_tier | 85 | 10 | left | space |

orders (record length 95):

| field | start | width | align | padding |
|---|---|---|---|---|
| id | 1 | 10 | right | zero |
| order_date | 11 | 8 | right | space |
| customer_id | 19 | 8 | right | zero |
| sku | 27 | 12 | left | space |
| quantity | 39 | 8 | right | zero |
| unit_price | 47 | 12 | right | space |
| total | 59 | 14 | right | space |
| status | 73 | 10 | left | space |
| region | 83 | 13 | left | space |

sales_by_region (record length 58):

| field | start | width | align | padding |
|---|---|---|---|---|
| region | 1 | 13 | left | space |
| orders | 14 | 10 | right | zero |
| units | 24 | 12 | right | zero |
| revenue | 36 | 16 | right | space |
| share_pct | 52 | 7 | right | space |
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from core import tracing
from core.errors import BadInput, NotFound
from core.files import file_sha256
from core.periods import resolve_period
from core.store import rollups
from core.store.db import utcnow, write_session
from core.store.models import MAX_INTEGER, Artifact
from flows.export.formats import dat_layout_doc, write_batches
from flows.export.pgcopy import copy_csv
from flows.export.sink import HashingFile, Progress, Ticker, current_progress
from flows.export.source import Span, export_query, row_batches

logger = logging.getLogger(__name__)

EXPORT_DATASETS: tuple[str, ...] = ("customers", "products", "orders", "sales_by_region")
DAT_LAYOUT_DOC = dat_layout_doc()
"""The fixed-width layouts as markdown, for the README."""


@dataclass(frozen=True)
class ExportResult:
    """The artifact an export produced; ``reused`` when an identical file already existed."""

    artifact: Artifact
    reused: bool = False


@dataclass(frozen=True)
class ExportPreview:
    """What an export would write."""

    dataset: str
    format: str
    rows: int
    file_name: str


def _span(dataset: str, period: str | None, today: date) -> Span:
    if dataset not in EXPORT_DATASETS:
        raise BadInput(f"unknown dataset {dataset!r}: use {', '.join(EXPORT_DATASETS)}", field="dataset")
    if period is None:
        return Span(None)
    if dataset in ("customers", "products"):
        raise BadInput(
            f"a period applies to orders and sales_by_region only; export {dataset} without one",
            field="period",
        )
    try:
        start, end = resolve_period(period, today=today)
    except ValueError as exc:
        raise BadInput(str(exc), field="period") from None
    return Span(period, start, end)


def export_name(*, dataset: str, fmt: str, span: Span, today: date) -> str:
    """Deterministic file name: one day, a whole month, a range, or today's date for a full export."""
    if span.start is None or span.end is None:
        stamp = today.isoformat()
    elif span.start == span.end:
        stamp = span.start.isoformat()
    elif span.start.day == 1 and span.end == _month_end(span.start):
        stamp = span.start.strftime("%Y-%m")
    else:
        stamp = f"{span.start}_{span.end}"
    return f"{dataset}_{stamp}.{fmt}"


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def preview_export(
    *, engine: Engine, dataset: str, fmt: str, period: str | None, today: date
) -> ExportPreview:
    """Count the rows an export would write and name its file, without writing anything."""
    span = _span(dataset, period, today)
    with engine.connect() as conn:
        if dataset == "sales_by_region":
            rows = sum(len(batch) for batch in row_batches(conn, dataset, span)[1])
        elif dataset == "orders":  # a count would read millions of index entries; the day rollup has the sums
            rows = rollups.order_count(conn, span.start, span.end)
        else:
            query = export_query(dataset, span).subquery()
            rows = int(conn.execute(select(func.count()).select_from(query)).scalar_one())
    return ExportPreview(dataset, fmt, rows, export_name(dataset=dataset, fmt=fmt, span=span, today=today))


@dataclass(frozen=True)
class _Written:
    temporary: Path
    rows: int
    sha256: str
    size: int


def _write(
    engine: Engine, folder: Path, dataset: str, fmt: str, span: Span, progress: Progress | None
) -> _Written:
    temporary = folder / f".export-{uuid.uuid4().hex}.tmp"
    tick = Ticker(progress)
    try:
        with engine.connect() as conn, HashingFile(temporary) as sink:
            rows = None
            if fmt == "csv" and dataset != "sales_by_region" and conn.dialect.name == "postgresql":
                rows = copy_csv(conn, dataset=dataset, span=span, out=sink, tick=tick)
            if rows is None:
                columns, batches = row_batches(conn, dataset, span)
                with sink.text() as out:
                    rows = write_batches(
                        fmt,
                        out,
                        dataset=dataset,
                        columns=columns,
                        batches=batches,
                        period=span.period,
                        tick=tick,
                    )
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    tick.done(rows)
    return _Written(temporary, rows, sink.sha256, sink.size)


def _write_manifest(path: Path, content: dict[str, Any]) -> Path:
    manifest = path.with_name(f"{path.name}.manifest.json")
    temporary = manifest.with_name(f".{manifest.name}.{uuid.uuid4().hex[:8]}.tmp")
    temporary.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, manifest)
    return manifest


def _existing(engine: Engine, name: str, sha256: str) -> Artifact | None:
    with Session(engine) as session:
        query = orm_select(Artifact).where(col(Artifact.name) == name, col(Artifact.sha256) == sha256)
        return session.exec(query.order_by(col(Artifact.id).desc()).limit(1)).first()


@tracing.traced("flows.export", stage="export", params=("dataset", "run_id"))
def export_dataset(
    *,
    engine: Engine,
    artifacts_dir: Path,
    dataset: str,
    fmt: str,
    period: str | None,
    today: date,
    run_id: int | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Export a dataset to a file under ``artifacts_dir`` with a sha256 manifest; record it as an Artifact.

    The file is written under a temporary name while rows stream from the database, then renamed into place.
    When a file of the same name already holds the same bytes, that artifact is returned (``reused``); when it
    holds different bytes, the new file gets a suffix from its own hash. The file is hashed while it is
    written; an existing file of the same name is read only when its size matches.

    ``progress``, when given (or installed with ``export_progress``), is called with the rows written so
    far, at most every quarter second and once at the end.

    Raises:
        BadInput: unknown dataset or format, a period on customers or products, or a value that does not fit
            the dat layout.
    """
    span = _span(dataset, period, today)
    name = export_name(dataset=dataset, fmt=fmt, span=span, today=today)
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    written = _write(engine, artifacts_dir, dataset, fmt, span, current_progress(progress))
    temporary, rows, sha256, size = written.temporary, written.rows, written.sha256, written.size
    target = artifacts_dir / name
    # Different sizes mean different bytes; only a file of the same size has to be read to compare.
    if target.exists() and (target.stat().st_size != size or file_sha256(target)[0] != sha256):
        stem, _, extension = name.rpartition(".")
        name = f"{stem}_{sha256[:8]}.{extension}"
        target = artifacts_dir / name
    if target.exists():
        temporary.unlink()
        found = _existing(engine, name, sha256)
        if found is not None:
            logger.info("export unchanged", extra={"artifact": found.id, "file": name})
            return ExportResult(found, reused=True)
    else:
        os.replace(temporary, target)
    created = utcnow()
    manifest = _write_manifest(
        target,
        {
            "file": name,
            "sha256": sha256,
            "size": size,
            "rows": rows,
            "dataset": dataset,
            "format": fmt,
            "period": None
            if span.start is None
            else {"name": span.period, "start": span.start.isoformat(), "end": str(span.end)},
            "created_at": created.isoformat(),
        },
    )
    artifact = Artifact(
        name=name,
        path=str(target),
        kind="export",
        format=fmt,
        dataset=dataset,
        sha256=sha256,
        size=size,
        rows=rows,
        manifest_path=str(manifest),
        run_id=run_id,
        created_at=created,
    )
    with write_session(engine) as session:
        session.add(artifact)
        session.flush()
        session.refresh(artifact)
        session.expunge(artifact)
    logger.info("export written", extra={"artifact": artifact.id, "file": name, "rows": rows})
    return ExportResult(artifact)


def find_artifact(engine: Engine, ref: str) -> Artifact:
    """Find an artifact by id, by name, or ``latest`` (the most recently recorded one).

    Raises:
        NotFound: naming the reference, with the closest artifact names when there are any.
    """
    text = ref.strip()
    with Session(engine) as session:
        newest = orm_select(Artifact).order_by(col(Artifact.id).desc())
        if text.casefold() == "latest":
            found = session.exec(newest.limit(1)).first()
            if found is None:
                raise NotFound("there are no artifacts yet; export a dataset first", artifact=text)
            return found
        if text.isascii() and text.isdigit():
            # An id no INTEGER column can hold names no artifact (and must not reach the query).
            found = session.get(Artifact, int(text)) if int(text) <= MAX_INTEGER else None
            if found is None:
                raise NotFound(f"artifact {text} does not exist", artifact=text)
            return found
        found = session.exec(newest.where(func.lower(col(Artifact.name)) == text.casefold()).limit(1)).first()
        if found is not None:
            return found
        names = list(session.exec(orm_select(Artifact.name).order_by(col(Artifact.id).desc()).limit(500)))
    close = difflib.get_close_matches(text, list(dict.fromkeys(names)), n=3, cutoff=0.75)
    hint = (
        f"; did you mean {', '.join(close)}?" if close else "; use an artifact id, its file name, or 'latest'"
    )
    raise NotFound(f"no artifact named {text!r}{hint}", artifact=text)
