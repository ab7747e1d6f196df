"""Streaming readers: CSV, XLSX and JSON rows with their source lines; clear errors for malformed files."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from core.errors import BadInput, Forbidden, NotFound, TooLarge
from flows.ingest import readers
from flows.ingest.inbox import HashingFile, file_checksum, resolve_inbox_path
from flows.ingest.readers import detect_format, open_rows
from flows.ingest.rows import normalize_column


def read_all(path: Path, fmt: str = "") -> tuple[list[str] | None, list[tuple[int, dict, str | None]]]:
    fmt = fmt or detect_format(path)
    with open_rows(path, fmt, name=path.name) as source:  # type: ignore[arg-type]
        return source.columns, list(source.rows)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Customer ID", "customer_id"),
        ("  Unit-Price ", "unit_price"),
        ("\ufeffid", "id"),
        ("ORDER.DATE", "order_date"),
    ],
)
def test_column_names_are_case_and_space_insensitive(raw: str, expected: str) -> None:
    assert normalize_column(raw) == expected


def test_csv_rows_carry_their_source_line_in_header_order(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text('ID, Name ,Note\n1,"Acme",x\n\n2,"multi\nline",\n3,short\n4,b,c,,\n', encoding="utf-8")
    columns, rows = read_all(path)
    assert columns == ["id", "name", "note"]
    assert rows == [
        (2, ["1", "Acme", "x"], None),
        (4, ["2", "multi\nline", ""], None),
        (6, ["3", "short"], "has 2 fields, expected 3 (id, name, note)"),
        (7, ["4", "b", "c"], None),
    ]


def test_csv_unterminated_quote_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('id,name\n1,ok\n2,"never closed\n3,x\n', encoding="utf-8")
    with pytest.raises(BadInput, match=r"^bad\.csv: line 3: malformed CSV") as caught:
        read_all(path)
    assert caught.value.details == {"file": "bad.csv", "line": 3}


def test_csv_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,name\n1,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(BadInput, match=r"latin\.csv: .* is not valid UTF-8 text"):
        read_all(path)


def test_csv_with_blank_header_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"blank\.csv: line 1: the file is empty"):
        read_all(path)


def test_xlsx_rows_use_the_first_non_empty_row_as_header(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append([])
    sheet.append(["ID", "Order Date", "Total", None])
    sheet.append([1, datetime(2026, 11, 2), 10.5])
    sheet.append([None, None, None])
    sheet.append([2, "2026-11-03", "  ", "extra"])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    columns, rows = read_all(path)
    assert columns == ["id", "order_date", "total"]
    assert rows == [
        (3, [1, datetime(2026, 11, 2), 10.5], None),
        (5, [2, "2026-11-03", None, "extra"], "has values beyond the 3 header columns"),
    ]


@pytest.mark.parametrize("content", [b"this is not a workbook", b"PK\x03\x04 truncated zip"])
def test_xlsx_that_is_not_a_workbook_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(content)
    with pytest.raises(BadInput, match=r"^broken\.xlsx: not a readable XLSX workbook"):
        read_all(path)


def test_xlsx_zip_without_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a spreadsheet")
    with pytest.raises(BadInput, match=r"^other\.xlsx: not a readable XLSX workbook"):
        read_all(path)


def test_json_array_records_report_the_line_they_start_on(tmp_path: Path) -> None:
    path = tmp_path / "products.json"
    path.write_text(
        '[\n  {"SKU": "A100X", "Unit Price": 3, "category": null},\n  {\n    "sku": "B200"\n  },\n  7\n]\n'
    )
    columns, rows = read_all(path)
    assert columns is None
    assert rows == [
        (2, {"sku": "A100X", "unit_price": 3}, None),
        (3, {"sku": "B200"}, None),
        (6, {"value": 7}, "expected a JSON object, got int"),
    ]


def test_json_lines_are_read_one_object_per_line(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_text('{"id": 1}\n\n{"id": 2}\n{"id": 3}')
    assert [(line, values) for line, values, _ in read_all(path)[1]] == [
        (1, {"id": 1}),
        (3, {"id": 2}),
        (4, {"id": 3}),
    ]


@pytest.mark.parametrize(
    "text",
    [
        '[\n  {"id": 1},\n  {"id": 2,, "x": 1}\n]',
        '[{"id": 1}\n {"id": 2}]',
        '{"id": 1}\n{"id": 2\n{"id": 3}',
        '[{"id": "unterminated}]',
        '[{"id": 1}] trailing',
        '"just a string"',
        "[1, 2",
    ],
)
def test_malformed_json_names_line_and_column(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(BadInput, match=r"^bad\.json: line \d+, column \d+: malformed JSON") as caught:
        read_all(path)
    details = caught.value.details
    assert details["file"] == "bad.json"
    assert 1 <= details["line"] <= text.count("\n") + 1


def test_malformed_json_position_matches_the_json_module(tmp_path: Path) -> None:
    text = '[\n  {"id": 1},\n  {"id": 2, "name": "x" "oops": 3}\n]'
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(BadInput) as caught:
        read_all(path)
    assert (caught.value.details["line"], caught.value.details["column"]) == (
        expected.value.lineno,
        expected.value.colno,
    )


def test_json_stream_survives_tiny_buffers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "_JSON_CHUNK", 5)
    records = [
        {"id": n, "name": f"row {n}", "price": n * 1.25, "tags": ["a", {"b": n}]} for n in range(1, 60)
    ]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(records, indent=2))
    rows = read_all(path)[1]
    assert [values for _, values, _ in rows] == records
    starts = [n + 1 for n, line in enumerate(path.read_text().splitlines()) if line == "  {"]
    assert [line for line, _, _ in rows] == starts


def test_json_error_position_is_right_across_buffer_refills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "_JSON_CHUNK", 8)
    text = "\n".join(json.dumps({"id": n}) for n in range(40)) + '\n{"id": 40, "bad": tru}\n'
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text.splitlines()[40])
    path = tmp_path / "lines.jsonl"
    path.write_text(text)
    with pytest.raises(BadInput) as caught:
        read_all(path)
    assert (caught.value.details["line"], caught.value.details["column"]) == (41, expected.value.colno)


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_empty_json_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.json"
    path.write_text(text)
    with pytest.raises(BadInput, match=r"empty\.json: line 1: the file is empty"):
        read_all(path)


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"report\.pdf: unsupported file type '\.pdf'"):
        detect_format(tmp_path / "report.pdf")


def test_inbox_paths_resolve_inside_the_inbox(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "sub" / "a.csv").write_text("id\n1\n")
    (tmp_path / "secret.csv").write_text("id\n1\n")
    (inbox / "link.csv").symlink_to(tmp_path / "secret.csv")
    assert resolve_inbox_path("sub/a.csv", inbox=inbox, max_bytes=100) == (inbox / "sub" / "a.csv").resolve()
    assert resolve_inbox_path(str(inbox / "sub" / "a.csv"), inbox=inbox, max_bytes=100).name == "a.csv"
    for outside in (
        "../secret.csv",
        "sub/../../secret.csv",
        str(tmp_path / "secret.csv"),
        "link.csv",
        "/etc/passwd",
    ):
        with pytest.raises(Forbidden, match="only files inside the inbox folder"):
            resolve_inbox_path(outside, inbox=inbox, max_bytes=100)
    with pytest.raises(NotFound, match=r"^nope\.csv: no such file in the inbox folder"):
        resolve_inbox_path("nope.csv", inbox=inbox, max_bytes=100)
    with pytest.raises(BadInput, match=r"^sub: not a regular file"):
        resolve_inbox_path("sub", inbox=inbox, max_bytes=100)
    with pytest.raises(TooLarge, match=r"^sub/a\.csv: the file is 5 bytes, over the 4 bytes limit"):
        resolve_inbox_path("sub/a.csv", inbox=inbox, max_bytes=4)


def test_hashing_file_digest_matches_the_checksum_pass(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"id,name\n" + b"".join(f"{n},row {n}\n".encode() for n in range(50_000)))
    stream = HashingFile(path)
    stream.read(100)
    assert stream.finish() == file_checksum(path)[0]
    stream.close()
