"""Ingest: load a CSV, XLSX or JSON inbox file (or a posted JSON body) into customers, products or orders.

Every row is validated against the dataset's row model; valid rows load in bulk (Core executemany, COPY on
PostgreSQL) and invalid ones go to the quarantine table with the reason, field and source line. The whole
input loads in one transaction, so a fatal problem (malformed file, wrong columns, every row invalid) leaves
nothing behind. Re-ingesting the same content (same sha256 for the same dataset) is a no-op reported as such.
Large files stream through in bounded memory: one chunk of rows at a time, and the checksum is computed in its
own pass.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Table, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from core.errors import BadInput, Conflict, SwitchboardError
from core.store import rollups
from core.store.audit import AuditEvent, AuditLog, append_in
from core.store.bulk import refresh_statistics, vacuum_if_bloated
from core.store.db import read_session, write_session
from core.store.models import IngestBatch
from flows.config import FlowSettings
from flows.ingest.inbox import HashingFile, file_checksum, resolve_inbox_path
from flows.ingest.load import RowLoader, check_columns
from flows.ingest.readers import RowSource, detect_format, open_rows
from flows.ingest.rows import DatasetSpec, dataset_spec, normalize_column

logger = logging.getLogger(__name__)

IngestMode = Literal["append", "replace"]


class QuarantinedRow(BaseModel):
    """One rejected row, as reported back (the full raw row is in the quarantine table)."""

    line: int
    field: str | None = None
    reason: str


class IngestReport(BaseModel):
    """What an ingest did."""

    dataset: str
    source: str
    mode: IngestMode
    checksum: str
    size_bytes: int = 0
    batch_id: int | None = None
    already_ingested: bool = False
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_replaced: int = Field(default=0, description="Rows deleted first in replace mode.")
    quarantined: list[QuarantinedRow] = Field(default_factory=list, description="The first rejected rows.")
    seconds: float = 0.0

    def describe(self) -> str:
        """One sentence for the operator."""
        if self.already_ingested:
            return f"{self.source} was already ingested (batch {self.batch_id}); nothing to do."
        noun = self.dataset if self.rows_loaded != 1 else self.dataset.removesuffix("s")
        verb = f"Replaced {self.rows_replaced} {self.dataset} with" if self.mode == "replace" else "Loaded"
        text = f"{verb} {self.rows_loaded} {noun} from {self.source}"
        if self.rows_quarantined:
            rows = "row" if self.rows_quarantined == 1 else "rows"
            return f"{text}; {self.rows_quarantined} {rows} quarantined (batch {self.batch_id})."
        return f"{text} (batch {self.batch_id})."


class FileInfo(BaseModel):
    """What ingesting a file would do, without doing it (for approval previews)."""

    dataset: str
    source: str
    format: str
    size_bytes: int
    rows: int
    checksum: str
    already_ingested_batch: int | None = None
    existing_rows: int = 0


def ingest_file(
    *,
    engine: Engine,
    settings: FlowSettings,
    path: str,
    dataset: str,
    mode: str = "append",
    actor: str = "system",
) -> IngestReport:
    """Ingest one file from the inbox.

    Args:
        engine: Database engine.
        settings: Provides ``inbox`` and ``max_file_bytes``.
        path: File name inside the inbox (or a path that resolves inside it).
        dataset: customers, products or orders.
        mode: ``append`` adds rows (an existing key is a quarantined row); ``replace`` deletes the dataset
            first.
        actor: Who asked, for the audit log.

    Raises:
        NotFound: unknown dataset or missing file.
        Forbidden: the path resolves outside the inbox.
        TooLarge: the file exceeds ``settings.max_file_bytes``.
        BadInput: malformed file, wrong columns, empty file, or every row invalid (nothing written).
    """
    name = str(path)
    try:
        spec, mode = _check(dataset, mode)
        file = resolve_inbox_path(path, inbox=settings.inbox, max_bytes=settings.max_file_bytes)
        name = file.relative_to(settings.inbox.resolve()).as_posix()
        fmt = detect_format(file)
        checksum, size = file_checksum(file)

        @contextmanager
        def source() -> Iterator[RowSource]:
            binary = None if fmt == "xlsx" else HashingFile(file)
            with open_rows(file, fmt, name=name, binary=binary, sheet=spec.name) as rows:
                yield rows
                # The file must not change between the checksum and load passes, or the batch would lie.
                if binary is not None and binary.finish() != checksum:
                    raise BadInput(
                        f"{name} changed while it was being read; try again once complete", file=name
                    )

        load = _Load(spec=spec, mode=mode, name=name, checksum=checksum, size=size, actor=actor)
        return _ingest(engine, load, source)
    except SwitchboardError as exc:
        _audit_rejection(engine, actor=actor, dataset=dataset, source=name, exc=exc)
        raise


def ingest_records(
    *,
    engine: Engine,
    records: Iterable[Any],
    dataset: str,
    mode: str = "append",
    source: str = "webhook",
    actor: str = "system",
) -> IngestReport:
    """Ingest a posted JSON body: a list of objects, one per row (positions are reported as "record N").

    Raises:
        NotFound: unknown dataset.
        BadInput: the body is empty, has unknown fields, or every record is invalid (nothing written).
    """
    try:
        spec, mode = _check(dataset, mode)
        items = records if isinstance(records, list) else list(records)
        digest, size = hashlib.sha256(), 0
        for item in items:
            chunk = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str).encode() + b"\n"
            digest.update(chunk)
            size += len(chunk)
        if not items:
            raise BadInput(f"{source}: the body holds no records", file=source)

        @contextmanager
        def rows() -> Iterator[RowSource]:
            yield RowSource(source, "record", None, _record_rows(items))

        load = _Load(spec=spec, mode=mode, name=source, checksum=digest.hexdigest(), size=size, actor=actor)
        return _ingest(engine, load, rows)
    except SwitchboardError as exc:
        _audit_rejection(engine, actor=actor, dataset=dataset, source=source, exc=exc)
        raise


def inspect_file(*, engine: Engine, settings: FlowSettings, path: str, dataset: str) -> FileInfo:
    """Size, row count and checksum of an inbox file, and whether it was ingested before; writes nothing."""
    spec, _ = _check(dataset, "append")
    file = resolve_inbox_path(path, inbox=settings.inbox, max_bytes=settings.max_file_bytes)
    fmt = detect_format(file)
    checksum, size = file_checksum(file)
    name = file.relative_to(settings.inbox.resolve()).as_posix()
    with open_rows(file, fmt, name=name, sheet=spec.name) as source:
        rows = sum(1 for _ in source.rows)
    with read_session(engine) as session:
        batch = _find_batch(session, spec.name, checksum)
        existing = session.execute(select(func.count()).select_from(spec.table)).scalar_one()
    return FileInfo(
        dataset=spec.name,
        source=name,
        format=fmt,
        size_bytes=size,
        rows=rows,
        checksum=checksum,
        already_ingested_batch=batch,
        existing_rows=existing,
    )


def _check(dataset: str, mode: str) -> tuple[DatasetSpec, IngestMode]:
    spec = dataset_spec(dataset)
    if mode not in ("append", "replace"):
        raise BadInput(f"unknown ingest mode {mode!r}; use append or replace", field="mode")
    return spec, mode  # type: ignore[return-value]


def _record_rows(items: list[Any]) -> Iterator[tuple[int, dict[str, Any], str | None]]:
    for number, item in enumerate(items, start=1):
        if isinstance(item, Mapping):
            yield number, {normalize_column(k): v for k, v in item.items() if v is not None}, None
        else:
            yield number, {"value": item}, f"expected a JSON object, got {type(item).__name__}"


@dataclass(frozen=True)
class _Load:
    """One ingest about to run: what, where from, and its content checksum."""

    spec: DatasetSpec
    mode: IngestMode
    name: str
    checksum: str
    size: int
    actor: str


_AUDITED = {"source", "mode", "checksum", "batch_id", "rows_loaded", "rows_quarantined", "rows_replaced"}


def _ingest(
    engine: Engine, load: _Load, open_source: Callable[[], AbstractContextManager[RowSource]]
) -> IngestReport:
    started, spec = time.perf_counter(), load.spec
    report = IngestReport(
        dataset=spec.name, source=load.name, mode=load.mode, checksum=load.checksum, size_bytes=load.size
    )
    try:
        with write_session(engine) as session:
            done = _find_batch(session, spec.name, load.checksum)
            if done is not None:
                return report.model_copy(update={"already_ingested": True, "batch_id": done})
            batch = IngestBatch(dataset=spec.name, source=load.name, checksum=load.checksum, mode=load.mode)
            session.add(batch)
            session.flush()
            assert batch.id is not None
            conn = session.connection()
            with rollups.bulk_for(conn, spec.table) as rollup, open_source() as source:
                replaced = 0
                if load.mode == "replace":
                    replaced = conn.execute(spec.table.delete()).rowcount
                    if rollup is not None:
                        rollups.clear(conn)
                check_columns(spec, source)
                loader = RowLoader(
                    conn,
                    spec,
                    batch_id=batch.id,
                    source=source,
                    check_existing=load.mode == "append",
                    rollup=rollup,
                )
                loader.run(source.rows)
            loader.raise_if_nothing_loaded()
            batch.rows_loaded, batch.rows_quarantined = loader.loaded, loader.quarantined
            samples = [
                QuarantinedRow(line=line, field=field, reason=why) for line, field, why in loader.samples
            ]
            report.batch_id, report.rows_replaced, report.quarantined = batch.id, replaced or 0, samples
            report.rows_loaded, report.rows_quarantined = loader.loaded, loader.quarantined
            data = report.model_dump(mode="json", include=_AUDITED)
            append_in(session, [AuditEvent("ingest.loaded", load.actor, f"dataset:{spec.name}", data)])
            tables = [spec.table, *(rollups.TABLES if rollup is not None else ())]
            refresh_statistics(conn, tables, rows_loaded=loader.loaded + (replaced or 0))
    except IntegrityError:
        # Another ingest of the same content committed first (PostgreSQL), or rows raced in under our keys.
        with read_session(engine) as session:
            done = _find_batch(session, spec.name, load.checksum)
        if done is not None:
            return report.model_copy(update={"already_ingested": True, "batch_id": done, "rows_loaded": 0})
        raise Conflict(f"{load.name}: {spec.name} changed while loading; try again", file=load.name) from None
    vacuum_if_bloated(engine, [spec.table, *rollups.UPDATED])
    report.seconds = round(time.perf_counter() - started, 3)
    counts = {"dataset": spec.name, "loaded": report.rows_loaded, "quarantined": report.rows_quarantined}
    logger.info("ingested %s as batch %s", load.name, report.batch_id, extra=counts)
    return report


def _find_batch(session: Any, dataset: str, checksum: str) -> int | None:
    batches: Table = IngestBatch.__table__  # type: ignore[attr-defined]
    query = select(batches.c.id).where(batches.c.dataset == dataset, batches.c.checksum == checksum)
    found = session.execute(query).scalar()
    return int(found) if found is not None else None


def _audit_rejection(engine: Engine, *, actor: str, dataset: str, source: str, exc: SwitchboardError) -> None:
    """Record a fatal rejection in its own transaction (the ingest's own transaction was rolled back)."""
    try:
        AuditLog(engine).append(
            "ingest.rejected",
            actor=actor,
            subject=f"dataset:{dataset}",
            data={"file": source, "code": exc.code, "reason": exc.message, **exc.details},
        )
    except SwitchboardError:
        logger.exception("could not audit the rejected ingest of %s", source)


__all__ = [
    "FileInfo",
    "IngestMode",
    "IngestReport",
    "QuarantinedRow",
    "ingest_file",
    "ingest_records",
    "inspect_file",
]
