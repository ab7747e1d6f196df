"""The load stage of ingest: validate rows, catch duplicate keys, bulk-insert good rows, quarantine the rest.

Rows of headed files (CSV, XLSX) are validated as tuples in the file's column order (see ``rows.positional``);
JSON records are validated as dicts against the row model. Valid rows go to ``BulkInserter`` one chunk at a
time, rejected rows to the quarantine table, all on the caller's connection and transaction. Memory stays
bounded: one chunk of rows at a time, plus the set of keys seen so far (to catch a key repeated in the file).
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from core.errors import BadInput
from core.store.bulk import BulkInserter, ExistingKeys
from core.store.db import utcnow
from core.store.models import Quarantine
from core.store.rollups import BulkRollup
from core.text import clip_join, clip_repr
from flows.ingest.readers import Row, RowSource
from flows.ingest.rows import DatasetSpec, describe_row_error, positional

CHUNK_ROWS = 5_000
SAMPLES = 20
_NAME_CHARS = 100  # a column name quoted in a message (header names of the datasets are under 20)
_QUARANTINE_COLUMNS = ("batch_id", "dataset", "source", "line", "field_name", "reason", "raw", "created_at")


class RowLoader:
    """Validates and loads the rows of one ingest batch.

    Attributes:
        loaded: Rows inserted.
        quarantined: Rows rejected into the quarantine table.
        samples: The first rejected rows as (line, field, reason).
    """

    def __init__(
        self,
        conn: Connection,
        spec: DatasetSpec,
        *,
        batch_id: int,
        source: RowSource,
        check_existing: bool,
        rollup: BulkRollup | None = None,
    ) -> None:
        self.spec, self.batch_id, self.source, self.rollup = spec, batch_id, source, rollup
        defaults = spec.table_defaults()
        if source.columns is not None:
            self.shape = positional(spec, source.columns)
            columns = [*source.columns, *self.shape.extra, *defaults]
            self.tail = (*self.shape.extra_values, *defaults.values())
        else:
            columns = [*spec.columns, *defaults]
            self.tail = tuple(defaults.values())
        self.key_index = columns.index(spec.key)
        self.inserter = BulkInserter(conn, spec.table, columns)
        quarantine: Table = Quarantine.__table__  # type: ignore[attr-defined]
        self.quarantine = BulkInserter(conn, quarantine, _QUARANTINE_COLUMNS)
        self.existing = ExistingKeys(conn, spec.table, spec.key) if check_existing else None
        self.loaded = self.quarantined = 0
        self.samples: list[tuple[int, str | None, str]] = []
        self._seen: set[Any] = set()
        # Pending rows and their lines live in two flat lists: tuples of plain values get untracked by the
        # cyclic GC, whereas (line, cells, row) records kept it re-scanning every pending row (+40% CPU).
        self._lines: list[int] = []
        self._rows: list[tuple[Any, ...]] = []
        self.columns = columns
        self._rejected: list[tuple[Any, ...]] = []

    def run(self, rows: Iterable[Row]) -> None:
        """Consume every row; raises BadInput for a fatal problem (an unknown field in a JSON record)."""
        if self.source.columns is None:
            self._run_records(rows)
            return
        # The hot loop of a large CSV: kept flat, with everything it touches in locals.
        validate, blanks, columns = self.shape.validate, self.shape.blanks, self.shape.columns
        key, seen, lines, pending, tail, chunk = (
            self.key_index,
            self._seen,
            self._lines,
            self._rows,
            self.tail,
            CHUNK_ROWS,
        )
        for line, cells, problem in rows:
            if problem is not None:
                self.reject(line, None, problem, cells)
                continue
            if "" in cells or None in cells:
                cells = [
                    blank if cell is None or cell == "" else cell
                    for cell, blank in zip(cells, blanks, strict=True)
                ]
            try:
                row = validate(cells)
            except ValidationError as exc:
                self.reject(line, *describe_row_error(exc, columns), cells)
                continue
            if row[key] in seen:
                self._repeated(line, row[key], cells)
                continue
            seen.add(row[key])
            lines.append(line)
            pending.append(row + tail if tail else row)
            if len(pending) >= chunk:
                self.flush()
        self.flush()

    def _run_records(self, rows: Iterable[Row]) -> None:
        validate = self.spec.model.__pydantic_validator__.validate_python
        get = operator.itemgetter(*self.spec.columns)
        allowed = frozenset(self.spec.columns)
        for line, values, problem in rows:
            if problem is not None:
                self.reject(line, None, problem, values)
                continue
            if not values.keys() <= allowed:
                self._unknown_fields(line, values, allowed)
            try:
                row = get(validate(values).__dict__) + self.tail
            except ValidationError as exc:
                self.reject(line, *describe_row_error(exc), values)
                continue
            if row[self.key_index] in self._seen:
                self._repeated(line, row[self.key_index], values)
                continue
            self._seen.add(row[self.key_index])
            self._lines.append(line)
            self._rows.append(row)
            if len(self._rows) >= CHUNK_ROWS:
                self.flush()
        self.flush()

    def _repeated(self, line: int, value: Any, values: Any) -> None:
        reason = f"duplicate {self.spec.key} {value!r}: it appears earlier in this file"
        self.reject(line, self.spec.key, reason, values)

    def flush(self) -> None:
        """Insert the pending chunk (minus keys that already exist) and the pending quarantine rows."""
        lines, pending = self._lines.copy(), self._rows.copy()
        self._lines.clear()  # cleared in place: run() holds references to these lists
        self._rows.clear()
        if pending and self.existing is not None:
            key = self.key_index
            clash = self.existing.present([row[key] for row in pending])
            if clash:
                for line, row in zip(lines, pending, strict=True):
                    if row[key] in clash:
                        reason = f"{self.spec.key} {row[key]!r} already exists in {self.spec.name}"
                        values = {
                            c: v for c, v in zip(self.columns, row, strict=True) if c in self.spec.columns
                        }
                        self.reject(line, self.spec.key, reason + " (use mode replace to reload)", values)
                pending = [row for row in pending if row[key] not in clash]
        self.loaded += self.inserter.insert(pending)
        if self.rollup is not None and pending:
            self.rollup.add(self.columns, pending)
        self._flush_rejected()

    def _flush_rejected(self) -> None:
        rejected, self._rejected = self._rejected, []
        self.quarantined += self.quarantine.insert(rejected)

    def reject(self, line: int, field: str | None, reason: str, values: Any) -> None:
        """Queue one row for the quarantine table."""
        if len(self.samples) < SAMPLES:
            self.samples.append((line, field, reason))
        raw = _jsonable(values if isinstance(values, Mapping) else self._as_mapping(values))
        self._rejected.append(
            (self.batch_id, self.spec.name, self.source.name, line, field, reason, raw, utcnow())
        )
        if len(self._rejected) >= CHUNK_ROWS:
            self._flush_rejected()

    def _as_mapping(self, cells: Sequence[Any]) -> dict[str, Any]:
        columns = self.source.columns or []
        named = {name: cell for name, cell in zip(columns, cells, strict=False) if cell not in ("", None)}
        if len(cells) > len(columns):
            named["(extra)"] = [cell for cell in cells[len(columns) :] if cell not in ("", None)]
        return named

    def raise_if_nothing_loaded(self) -> None:
        """A file that loads no row at all is an error, not a success with zero rows."""
        if self.loaded:
            return
        name, unit = self.source.name, self.source.unit
        if not self.quarantined:
            raise BadInput(f"{name}: the file has no data rows", file=name)
        line, field, reason = self.samples[0]
        where = f"{unit} {line}" + (f", field '{field}'" if field else "")
        raise BadInput(
            f"{name}: every row was rejected ({self.quarantined}); first at {where}: {reason}",
            file=name,
            line=line,
            field=field,
        )

    def _unknown_fields(self, line: int, values: Mapping[str, Any], allowed: frozenset[str]) -> None:
        unknown = sorted(set(values) - allowed)[0]
        raise BadInput(
            f"{self.source.name}: {self.source.unit} {line}: unknown field {clip_repr(unknown, _NAME_CHARS)} "
            f"for {self.spec.name} "
            f"(expected: {', '.join(self.spec.columns)})",
            file=self.source.name,
            line=line,
            field=unknown,
        )


def check_columns(spec: DatasetSpec, source: RowSource) -> None:
    """A header must name only known columns, each once, and every required one.

    Linear in the header's width (readers already refused a header over ``MAX_COLUMNS``), and the message
    quotes at most a bounded number of names, each clipped (``core.text``).

    Raises:
        BadInput: naming the file, line 1 and the first wrong column.
    """
    columns = source.columns
    if columns is None:
        return
    counts = Counter(columns)
    known = frozenset(spec.columns)
    blank = [str(index) for index, name in enumerate(columns, start=1) if not name]
    unknown = [name for name in columns if name and name not in known]
    repeated = sorted(name for name, count in counts.items() if name and count > 1)
    missing = [name for name in spec.required if name not in counts]
    problems: list[str] = []
    if blank:
        problems.append(f"column {clip_join(blank)} has no name")
    if unknown:
        problems.append("unknown column " + clip_join([clip_repr(name, _NAME_CHARS) for name in unknown]))
    if repeated:
        problems.append("repeated column " + clip_join([clip_repr(name, _NAME_CHARS) for name in repeated]))
    if missing:
        problems.append("missing required column " + ", ".join(repr(name) for name in missing))
    if problems:
        first: str | None = (unknown or repeated or missing)[0] if unknown or repeated or missing else None
        raise BadInput(
            f"{source.name}: line 1: wrong columns for {spec.name}: {'; '.join(problems)} "
            f"(expected: {', '.join(spec.columns)})",
            file=source.name,
            line=1,
            field=first,
        )


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or isinstance(value, str | bool | int):
            out[str(key)] = value
        elif isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out


__all__ = ["CHUNK_ROWS", "RowLoader", "check_columns"]
