"""Streaming readers for CSV, XLSX and JSON files: each yields ``(line, values, problem)`` one row at a time.

Nothing here holds a whole file in memory: CSV is read through ``csv.reader``, XLSX through openpyxl's
read-only mode, and JSON (an array of objects or JSON Lines) through an incremental ``raw_decode`` loop over a
bounded buffer. A file that cannot be parsed at all raises ``BadInput`` naming the file, line and (where
known) column; a single odd row is yielded with a ``problem`` so ingest can quarantine it and carry on.

Reading costs time linear in the file's size, and every unit of it is bounded (``flows.ingest.limits``): a
header, a line (a JSON record) and a CSV cell. A file over a limit is refused as soon as the reader gets there,
with a ``BadInput`` naming the limit, before anything quotes its content.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from core.errors import BadInput
from core.text import clip
from flows.ingest.limits import MAX_CELL_CHARS, MAX_COLUMNS, MAX_HEADER_CHARS, MAX_LINE_CHARS, header_columns
from flows.ingest.rows import normalize_column

FileFormat = Literal["csv", "xlsx", "json"]
# (line, values, problem): values are the row's cells in header order (CSV, XLSX) or a dict keyed by
# normalised field name (JSON); problem is set when the row cannot be read as a row at all (then quarantined).
Row = tuple[int, Any, str | None]
EXTENSIONS: dict[str, FileFormat] = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_JSON_CHUNK = 64 * 1024
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
# The csv module's limit is per process; ingest is its only user in this project.
csv.field_size_limit(MAX_CELL_CHARS)


def detect_format(path: Path) -> FileFormat:
    """File format from the extension.

    Raises:
        BadInput: for an extension that is not CSV, XLSX or JSON.
    """
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(EXTENSIONS))
        raise BadInput(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; use one of {known}",
            file=path.name,
        )
    return fmt


@dataclass
class RowSource:
    """An open file: its header (None for JSON, whose keys are per record) and its rows.

    Attributes:
        name: File name used in messages.
        unit: What a position is called in messages ("line", "row", "record").
        columns: Normalised header names, or None when each record names its own fields.
        rows: Iterator of ``(line, values, problem)``: cells in header order when ``columns`` is set (blank
            CSV cells are ``""``, blank XLSX cells None), otherwise a dict keyed by normalised field name.
    """

    name: str
    unit: str
    columns: list[str] | None
    rows: Iterator[Row]


def open_rows(
    path: Path, fmt: FileFormat, *, name: str, binary: IO[bytes] | None = None, sheet: str | None = None
) -> AbstractContextManager[RowSource]:
    """Open ``path`` for streaming.

    Args:
        path: The file.
        fmt: Its format.
        name: Display name for messages.
        binary: Optional open binary stream to read CSV or JSON from (e.g. one that hashes as it reads).
        sheet: Preferred XLSX sheet name (falls back to the first sheet).
    """
    readers: dict[FileFormat, Callable[..., AbstractContextManager[RowSource]]] = {
        "csv": _CsvSource,
        "xlsx": _XlsxSource,
        "json": _JsonSource,
    }
    return readers[fmt](path, name=name, binary=binary, sheet=sheet)


class _Source(AbstractContextManager[RowSource]):
    def __init__(self, path: Path, *, name: str, binary: IO[bytes] | None, sheet: str | None) -> None:
        self.path, self.name, self.binary, self.sheet = path, name, binary, sheet
        self._closers: list[Callable[[], object]] = []

    def _text(self) -> IO[str]:
        raw = self.binary if self.binary is not None else self.path.open("rb")
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        # Held here (not only by the row generator) so the stream stays open until the source is closed.
        self._closers.append(text.close)
        return text

    def __exit__(self, *exc: object) -> None:
        for close in reversed(self._closers):
            close()

    def fail(self, where: str, reason: str, **details: Any) -> BadInput:
        return BadInput(f"{self.name}: {where}: {reason}", file=self.name, **details)


def _decode_error(name: str, line: int | None) -> BadInput:
    where = f"line {line}" if line else "the file"
    return BadInput(f"{name}: {where} is not valid UTF-8 text", file=name, line=line)


class _CsvSource(_Source):
    def __enter__(self) -> RowSource:
        reader = csv.reader(self._lines(self._text()), strict=True)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise self._parse_error(exc, 1) from None
        if header is None or not any(cell.strip() for cell in header):
            raise self.fail("line 1", "the file is empty (no header row)", line=1)
        columns = header_columns(header, name=self.name)
        return RowSource(self.name, "line", columns, self._rows(reader, columns))

    def _lines(self, text: IO[str]) -> Iterator[str]:
        """The file's lines, each read with a bound: a file with no line breaks is refused at the limit."""
        readline, number, limit = text.readline, 1, MAX_HEADER_CHARS
        while line := readline(limit + 1):
            if len(line) > limit:
                what = "the header" if number == 1 else "the line"
                raise self.fail(
                    f"line {number}",
                    f"{what} is longer than the limit of {limit:,} characters (is this the right file?)",
                    line=number,
                    limit=limit,
                )
            yield line
            number, limit = number + 1, MAX_LINE_CHARS

    def _parse_error(self, exc: Exception, line: int) -> BadInput:
        if isinstance(exc, UnicodeDecodeError):
            return _decode_error(self.name, line)
        if "field larger than field limit" in str(exc):
            return self.fail(
                f"line {line}",
                f"a cell is longer than the limit of {MAX_CELL_CHARS:,} characters",
                line=line,
                limit=MAX_CELL_CHARS,
            )
        return self.fail(f"line {line}", f"malformed CSV ({clip(str(exc))})", line=line)

    def _rows(self, reader: Any, columns: list[str]) -> Iterator[Row]:
        width = len(columns)
        last = reader.line_num
        try:
            for cells in reader:
                start, last = last + 1, reader.line_num
                if len(cells) != width:
                    if not cells or (len(cells) == 1 and not cells[0].strip()):
                        continue  # a blank line
                    if len(cells) < width or any(cell.strip() for cell in cells[width:]):
                        problem = f"has {len(cells)} fields, expected {width} ({', '.join(columns)})"
                        yield start, cells, problem
                        continue
                    cells = cells[:width]  # trailing empty cells are harmless
                yield start, cells, None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise self._parse_error(exc, last + 1) from None


class _XlsxSource(_Source):
    def __enter__(self) -> RowSource:
        from openpyxl import load_workbook

        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
            raise BadInput(
                f"{self.name}: not a readable XLSX workbook ({type(exc).__name__}: {exc})", file=self.name
            ) from None
        except Exception as exc:  # openpyxl raises its own types for corrupt parts
            raise BadInput(
                f"{self.name}: not a readable XLSX workbook ({type(exc).__name__})", file=self.name
            ) from None
        self._closers.append(book.close)
        sheet = book[self.sheet] if self.sheet and self.sheet in book.sheetnames else book.worksheets[0]
        rows = self._guarded(sheet.iter_rows(values_only=True))
        for number, values in rows:
            if any(_present(cell) for cell in values):
                columns = header_columns(list(values), name=self.name, where=f"row {number}")
                return RowSource(self.name, "row", columns, self._rows(rows, columns))
        raise self.fail("row 1", "the sheet is empty (no header row)", line=1)

    def _guarded(self, rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, tuple[Any, ...]]]:
        number = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # a corrupt sheet part surfaces mid-iteration
                raise self.fail(
                    f"row {number + 1}", f"corrupt worksheet ({type(exc).__name__})", line=number + 1
                ) from None
            number += 1
            yield number, values

    def _rows(self, rows: Iterator[tuple[int, tuple[Any, ...]]], columns: list[str]) -> Iterator[Row]:
        width = len(columns)
        for number, values in rows:
            cells = [cell if _present(cell) else None for cell in values]
            if not any(cell is not None for cell in cells):
                continue
            if any(cell is not None for cell in cells[width:]):
                yield number, cells, f"has values beyond the {width} header columns"
                continue
            yield number, cells[:width] + [None] * (width - len(cells)), None


def _present(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


class _JsonSource(_Source):
    def __enter__(self) -> RowSource:
        stream = _JsonStream(self._text(), self.name)
        return RowSource(self.name, "line", None, self._rows(stream))

    def _rows(self, stream: _JsonStream) -> Iterator[Row]:
        keys: dict[str, str] = {}
        for line, item in stream:
            if not isinstance(item, dict):
                yield line, {"value": item}, f"expected a JSON object, got {type(item).__name__}"
                continue
            values: dict[str, Any] = {}
            for key, value in item.items():
                if value is None:
                    continue
                column = keys.get(key)
                if column is None:
                    column = keys.setdefault(key, normalize_column(key))
                values[column] = value
            yield line, values, None


class _JsonStream:
    """Incremental JSON reader: an array of values, or values one after another (JSON Lines)."""

    def __init__(self, text: IO[str], name: str) -> None:
        self.text, self.name = text, name
        self.decoder = json.JSONDecoder()
        self.buf, self.pos, self.eof = "", 0, False
        self.line, self.col = 1, 0  # position of buf[0]: 1-based line, 0-based column

    def _fill(self) -> None:
        consumed = self.buf[: self.pos]
        newlines = consumed.count("\n")
        if newlines:
            self.line += newlines
            self.col = len(consumed) - consumed.rfind("\n") - 1
        else:
            self.col += len(consumed)
        try:
            more = self.text.read(max(_JSON_CHUNK, len(self.buf)))
        except UnicodeDecodeError:
            raise _decode_error(self.name, self.line) from None
        self.buf, self.pos = self.buf[self.pos :] + more, 0
        self.eof = not more

    def where(self, index: int) -> tuple[int, int]:
        """1-based (line, column) of ``buf[index]``."""
        before = self.buf[:index]
        newlines = before.count("\n")
        if newlines:
            return self.line + newlines, index - before.rfind("\n")
        return self.line, self.col + index + 1

    def fail(self, index: int, reason: str) -> BadInput:
        line, col = self.where(index)
        return BadInput(
            f"{self.name}: line {line}, column {col}: malformed JSON ({reason})",
            file=self.name,
            line=line,
            column=col,
        )

    def _peek(self) -> str:
        """Next non-space character ('' at end of file), leaving ``pos`` on it."""
        while True:
            self.pos = _JSON_SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if self.eof:
                return ""
            self._fill()

    def _value(self) -> tuple[int, Any]:
        if not self._peek():
            raise self.fail(self.pos, "unexpected end of file")
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                # The error may only mean the buffer ends mid-record; read on, up to the record limit.
                if self.eof:
                    raise self.fail(exc.pos, exc.msg) from None
                if len(self.buf) - self.pos > MAX_LINE_CHARS:
                    cut_off = exc.pos >= len(self.buf) - 1 or exc.msg.startswith("Unterminated string")
                    raise (self._too_long() if cut_off else self.fail(exc.pos, exc.msg)) from None
                self._fill()
                continue
            except ValueError:  # Python refuses to convert an integer of more than 4,300 digits
                raise self.fail(self.pos, "a number has too many digits") from None
            except RecursionError:
                raise self.fail(self.pos, "values are nested too deeply") from None
            if end == len(self.buf) and not self.eof:  # a number may continue in the next chunk
                self._fill()
                continue
            if end - self.pos > MAX_LINE_CHARS:
                raise self._too_long()
            line = self.where(self.pos)[0]
            self.pos = end
            return line, value

    def _too_long(self) -> BadInput:
        line = self.where(self.pos)[0]
        return BadInput(
            f"{self.name}: line {line}: a record is longer than the limit of {MAX_LINE_CHARS:,} characters",
            file=self.name,
            line=line,
            limit=MAX_LINE_CHARS,
        )

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        first = self._peek()
        if not first:
            raise BadInput(f"{self.name}: line 1: the file is empty", file=self.name, line=1)
        if first not in "[{":
            raise self.fail(self.pos, "expected an array of objects or one object per line (JSON Lines)")
        if first == "{":
            while self._peek():
                yield self._value()
            return
        self.pos += 1
        if self._peek() == "]":
            self.pos += 1
        else:
            while True:
                yield self._value()
                sep = self._peek()
                self.pos += 1
                if sep == "]":
                    break
                if sep != ",":
                    raise self.fail(self.pos - 1, "expected ',' or ']' after an array item")
        if self._peek():
            raise self.fail(self.pos, "unexpected data after the closing ']'")


__all__ = [
    "EXTENSIONS",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_HEADER_CHARS",
    "MAX_LINE_CHARS",
    "FileFormat",
    "RowSource",
    "detect_format",
    "header_columns",
    "open_rows",
]
