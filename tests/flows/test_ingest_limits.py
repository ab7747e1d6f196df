"""Ingest's input limits (issue 15): reading is linear in the file's size, every unit of it is bounded, and what is
refused is quoted only up to the documented bound; text cells with control characters are quarantined."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.errors import BadInput
from core.store.audit import AuditLog
from core.store.db import read_session
from core.store.models import Customer, IngestBatch, Quarantine
from core.text import MESSAGE_LIMIT
from flows.ingest.load import check_columns
from flows.ingest.pipeline import ingest_file, ingest_records
from flows.ingest.readers import RowSource
from flows.ingest.rows import dataset_spec
from switchboard.settings import Settings

CUSTOMERS = "id,name,email,region\n"


def write(settings: Settings, name: str, text: str) -> Path:
    path = settings.inbox / name
    path.write_text(text, encoding="utf-8")
    return path


def rows(engine: Engine, model: Any) -> list[dict[str, Any]]:
    with read_session(engine) as session:
        return [dict(row._mapping) for row in session.execute(select(model.__table__))]


def audit(engine: Engine) -> list[tuple[str, dict[str, Any], int]]:
    return [(r.event, json.loads(r.data), len(r.data)) for r in AuditLog(engine).iter_records()]


def refused(engine: Engine, settings: Settings, name: str, dataset: str = "orders") -> BadInput:
    with pytest.raises(BadInput) as caught:
        ingest_file(engine=engine, settings=settings, path=name, dataset=dataset, actor="olive")
    assert not rows(engine, IngestBatch) and not rows(engine, Quarantine) and not rows(engine, Customer)
    return caught.value


def test_a_ten_megabyte_header_with_no_newline_is_refused_at_the_header_limit(
    any_engine: Engine, settings: Settings
) -> None:
    write(settings, "orders.csv", "x" * (10 * 1024 * 1024))

    started = time.perf_counter()
    error = refused(any_engine, settings, "orders.csv")

    assert time.perf_counter() - started < 5
    message = "orders.csv: line 1: the header is longer than the limit of 16,384 characters (is this the right file?)"
    assert error.message == message
    assert error.details == {"file": "orders.csv", "line": 1, "limit": 16_384}
    [(event, data, size)] = audit(any_engine)
    assert (event, data["reason"], size < 1_000) == ("ingest.rejected", message, True)


@pytest.mark.parametrize("names", [40_000, 200_000])
def test_a_header_of_many_names_is_refused_quickly_and_briefly(
    engine: Engine, settings: Settings, names: int
) -> None:
    write(settings, "orders.csv", ",".join(f"col{i}" for i in range(names)) + "\n1\n")
    started = time.perf_counter()
    error = refused(engine, settings, "orders.csv")
    assert time.perf_counter() - started < 5
    assert error.message.startswith("orders.csv: line 1: the header is longer than the limit of 16,384")


def test_a_header_over_the_column_limit_is_refused(engine: Engine, settings: Settings) -> None:
    write(settings, "orders.csv", ",".join(f"c{i}" for i in range(150)) + "\n1\n")
    assert refused(engine, settings, "orders.csv").message == (
        "orders.csv: line 1: the header has 150 columns, over the limit of 100 (is this the right file?)"
    )


def test_check_columns_is_linear_and_quotes_a_bounded_number_of_names() -> None:
    columns = [f"col{i}" for i in range(200_000)]
    started = time.perf_counter()
    with pytest.raises(BadInput) as caught:
        check_columns(dataset_spec("orders"), RowSource("wide.csv", "line", columns, iter(())))
    assert time.perf_counter() - started < 2  # quadratic: 11 minutes of CPU for these 200,000 names
    assert caught.value.message.startswith(
        "wide.csv: line 1: wrong columns for orders: unknown column 'col0', 'col1', 'col2', "
    )
    assert "'col48', 'col49' (and 199,950 more); missing required column 'id', " in caught.value.message
    assert len(caught.value.message) <= MESSAGE_LIMIT


def test_a_line_over_the_line_limit_is_refused(engine: Engine, settings: Settings) -> None:
    write(
        settings, "customers.csv", CUSTOMERS + "1,Acme,a@example.com,emea\n" + "2," + "y" * 1_100_000 + "\n"
    )
    assert refused(engine, settings, "customers.csv", "customers").message == (
        "customers.csv: line 3: the line is longer than the limit of 1,048,576 characters (is this the right file?)"
    )


def test_a_cell_over_the_cell_limit_is_refused(engine: Engine, settings: Settings) -> None:
    cell = '"' + ("z" * 1_000 + "\n") * 70 + '"'  # one quoted cell over many short lines
    write(settings, "customers.csv", CUSTOMERS + f"1,{cell},a@example.com,emea\n")
    assert refused(engine, settings, "customers.csv", "customers").message == (
        "customers.csv: line 2: a cell is longer than the limit of 65,536 characters"
    )


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"id": 1, "name": "n" * 1_100_000}) + "\n",  # whole, in a JSON Lines file
        '[{"id": 1, "name": "' + "n" * 3_000_000,  # cut off, in an array
    ],
)
def test_a_json_record_over_the_record_limit_is_refused(
    engine: Engine, settings: Settings, text: str
) -> None:
    write(settings, "customers.json", '{"id": 7, "name": "Seven"}\n' + text)
    assert refused(engine, settings, "customers.json", "customers").message == (
        "customers.json: line 2: a record is longer than the limit of 1,048,576 characters"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"id": ' + "9" * 5_000 + "}\n", "a number has too many digits"),
        ('{"id": 1, "name": ' + "[" * 100_000 + "\n", "values are nested too deeply"),
    ],
)
def test_json_python_cannot_decode_is_malformed_not_a_crash(
    engine: Engine, settings: Settings, text: str, reason: str
) -> None:
    write(settings, "customers.jsonl", text)
    error = refused(engine, settings, "customers.jsonl", "customers")
    assert error.message.startswith("customers.jsonl: line 1, column ")
    assert error.message.endswith(f": malformed JSON ({reason})")


def test_an_xlsx_header_over_the_column_limit_is_refused(engine: Engine, settings: Settings) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([None])
    sheet.append([f"c{i}" for i in range(120)])
    book.save(settings.inbox / "customers.xlsx")
    assert refused(engine, settings, "customers.xlsx", "customers").message == (
        "customers.xlsx: row 2: the header has 120 columns, over the limit of 100 (is this the right file?)"
    )


def test_control_characters_in_text_cells_are_quarantined_not_stored(
    any_engine: Engine, settings: Settings
) -> None:
    write(
        settings,
        "customers.csv",
        CUSTOMERS
        + "1,Acme\x00 Corp,acme@example.com,emea\n"
        + "2,Borealis,sales\x1b[8m@borealis.example,apac\n"
        + '3,"Two\nLines",two@example.com,latam\n'
        + "4,Delta Freight,delta@example.com,north_america\n"
        + "5,Ünïcode – Ltd,u@example.com,emea\n",
    )
    report = ingest_file(engine=any_engine, settings=settings, path="customers.csv", dataset="customers")

    assert [(c["id"], c["name"]) for c in rows(any_engine, Customer)] == [
        (4, "Delta Freight"),
        (5, "Ünïcode – Ltd"),
    ]
    assert [(q.line, q.field, q.reason) for q in report.quarantined] == [
        (2, "name", "must not contain control characters (found U+0000) (got 'Acme\\x00 Corp')"),
        (
            3,
            "email",
            "must not contain control characters (found U+001B) (got 'sales\\x1b[8m@borealis.example')",
        ),
        (4, "name", "must not contain control characters (found U+000A) (got 'Two\\nLines')"),
    ]


def test_control_characters_in_posted_records_are_quarantined(any_engine: Engine) -> None:
    records = [
        {"id": 1, "name": "Acme\x00", "email": "a@example.com", "region": "emea"},
        {"id": 2, "name": "Borealis", "email": "b@example.com", "region": "apac", "country": "N\x07O"},
        {"id": 3, "name": "Cobalt", "email": "c@example.com", "region": "emea"},
    ]
    report = ingest_records(engine=any_engine, records=records, dataset="customers", source="erp")
    assert [c["id"] for c in rows(any_engine, Customer)] == [3]
    assert [(q.line, q.field, q.reason) for q in report.quarantined] == [
        (1, "name", "must not contain control characters (found U+0000) (got 'Acme\\x00')"),
        (2, "country", "must not contain control characters (found U+0007) (got 'N\\x07O')"),
    ]


def test_ids_beyond_an_integer_column_are_quarantined(any_engine: Engine, settings: Settings) -> None:
    write(
        settings,
        "customers.csv",
        CUSTOMERS + "2147483648,Too Big,big@example.com,emea\n2147483647,Max,max@example.com,emea\n",
    )
    report = ingest_file(engine=any_engine, settings=settings, path="customers.csv", dataset="customers")
    assert [c["id"] for c in rows(any_engine, Customer)] == [2_147_483_647]
    assert [(q.line, q.field, q.reason) for q in report.quarantined] == [
        (2, "id", "Input should be less than or equal to 2147483647 (got '2147483648')")
    ]
