r"""CSV exports on PostgreSQL through ``COPY (SELECT ...) TO STDOUT``, byte for byte what Python's csv writes.

The server formats every value, and the bytes go from psycopg straight to the file. Where PostgreSQL's text
differs from what ``csv.writer`` writes for the same value, the SELECT formats the value instead:

- floats: both print the shortest text that reads back as the same double, but Python adds ``.0`` to a whole
  number (``12.0`` where PostgreSQL prints ``12``), writes 1e15 <= |x| < 1e16 without an exponent, and spells
  infinities and NaN ``inf``, ``-inf`` and ``nan``;
- booleans: ``true``/``false`` (``::text``) rather than COPY's ``t``/``f``;
- dates: ISO (``DateStyle`` is set to ISO for the transaction);
- empty text: COPY quotes an empty string (``""``) to tell it from NULL, Python writes nothing for both,
  so empty text is selected as NULL.

Python quotes a field holding ``,``, ``"`` or ``\n``; PostgreSQL also quotes one holding ``\r``. The rare row
with a carriage return is re-quoted the Python way (parsed and written again by ``csv``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import ColumnElement, Numeric, Text, case, cast, func, literal_column
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from flows.export.formats import DAT_LAYOUTS, DatField
from flows.export.sink import HashingFile
from flows.export.source import Span, export_query

_ROWS_PER_WRITE = 4096  # COPY hands over one row at a time; join them into fewer, larger writes


def _float_text(value: ColumnElement[Any]) -> ColumnElement[Any]:
    text = cast(value, Text)
    point = case((value == func.trunc(value), literal_column("'.0'")), else_=literal_column("''"))
    return case(
        (func.abs(value) < literal_column("1e15"), text.concat(point)),
        (func.abs(value) < literal_column("1e16"), cast(cast(text, Numeric), Text).concat(point)),
        (value == literal_column("'Infinity'::float8"), literal_column("'inf'")),
        (value == literal_column("'-Infinity'::float8"), literal_column("'-inf'")),
        (value == literal_column("'NaN'::float8"), literal_column("'nan'")),
        else_=text,
    )


def _python_text(column: ColumnElement[Any], field: DatField) -> ColumnElement[Any]:
    if field.kind == "money":
        return _float_text(column)
    if field.kind == "text":
        return func.nullif(column, literal_column("''"))
    if field.kind in ("flag", "date"):
        return cast(column, Text)
    return column


def _python_quoting(row: bytes) -> bytes:
    fields = next(csv.reader(io.StringIO(row.decode("utf-8"), newline="")))
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(fields)
    return text.getvalue().encode("utf-8")


def _flush(out: HashingFile, chunks: list[Any]) -> int:
    block = b"".join(chunks)
    if b"\r" in block:
        block = b"".join(_python_quoting(raw) if b"\r" in (raw := bytes(c)) else raw for c in chunks)
    out.write(block)
    count = len(chunks)
    chunks.clear()
    return count


def copy_csv(
    conn: Connection, *, dataset: str, span: Span, out: HashingFile, tick: Callable[[int], None]
) -> int | None:
    """Write a table dataset as csv through COPY; the number of rows, or None when COPY cannot be used.

    COPY needs psycopg and a UTF-8 client encoding (the file is UTF-8); the caller falls back to the Python
    writer otherwise.
    """
    dbapi: Any = conn.connection.dbapi_connection
    if conn.dialect.driver != "psycopg" or dbapi.info.encoding != "utf-8":
        return None
    # For this transaction only: ISO dates, and the shortest exact text for floats (the session may differ).
    conn.exec_driver_sql("SET LOCAL datestyle TO 'ISO, YMD'")
    conn.exec_driver_sql("SET LOCAL extra_float_digits TO 1")
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow([f.name for f in DAT_LAYOUTS[dataset]])
    out.write(header.getvalue().encode("utf-8"))
    compiled = export_query(dataset, span, wrap=_python_text).compile(dialect=conn.dialect)
    # Parameters are bound client-side (COPY takes none), as psycopg's own copy() does.
    statement = psycopg.ClientCursor(dbapi).mogrify(
        f"COPY ({compiled}) TO STDOUT (FORMAT csv)", compiled.params
    )
    try:
        return _stream(dbapi.pgconn, statement, out, tick)
    except BaseException as exc:
        # The connection may be stopped mid-COPY (an error, Ctrl-C); it cannot be used again.
        conn.invalidate()
        if isinstance(exc, psycopg.Error):  # the error type every other query raises
            raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
        raise


def _stream(pgconn: Any, statement: str, out: HashingFile, tick: Callable[[int], None]) -> int:
    """Run COPY TO STDOUT on libpq directly: psycopg's copy iterator costs a few microseconds per row."""
    pgconn.send_query(statement.encode("utf-8"))
    started = pgconn.get_result()
    if started.status != pq.ExecStatus.COPY_OUT:
        _finish(pgconn, started)  # raises the error that kept COPY from starting
        return 0
    rows = 0
    chunks: list[Any] = []
    get = pgconn.get_copy_data
    while True:
        size, chunk = get(0)  # blocking: one row per call, -1 at the end
        if size < 0:
            break
        chunks.append(chunk)
        if len(chunks) == _ROWS_PER_WRITE:
            rows += _flush(out, chunks)
            tick(rows)
    rows += _flush(out, chunks)
    _finish(pgconn, pgconn.get_result())
    return rows


def _finish(pgconn: Any, result: Any) -> None:
    """Read the results up to the end of the statement; raise the error one of them reports."""
    failed = None
    while result is not None:
        if failed is None and result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.COPY_OUT):
            failed = psycopg.errors.error_from_result(result, encoding="utf-8")
        result = pgconn.get_result()
    if failed is not None:
        raise failed
