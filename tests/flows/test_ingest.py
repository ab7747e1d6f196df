"""Ingest: bulk load with quarantine, idempotency by checksum, append/replace, all-or-nothing fatal errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

import flows.ingest.pipeline as ingest_module
from core.errors import BadInput, Conflict, Forbidden, NotFound, TooLarge
from core.store import bulk
from core.store.audit import AuditLog
from core.store.db import read_session
from core.store.models import Customer, IngestBatch, Order, Product, Quarantine
from flows.ingest import load as ingest_load
from flows.ingest.pipeline import ingest_file, ingest_records, inspect_file
from switchboard.settings import Settings

HEADER = "id,customer_id,sku,quantity,unit_price,total,region,order_date,status\n"


def order_line(n: int, **overrides: Any) -> str:
    values = {
        "id": n,
        "customer_id": 1000 + n % 7,
        "sku": "a100x",
        "quantity": n % 9 + 1,
        "unit_price": 2.5,
        "total": "",
        "region": "EMEA",
        "order_date": "2026-11-02",
        "status": "paid",
    }
    values.update(overrides)
    return ",".join(str(value) for value in values.values()) + "\n"


def write(settings: Settings, name: str, text: str) -> Path:
    path = settings.inbox / name
    path.write_text(text, encoding="utf-8")
    return path


def table_rows(engine: Engine, model: Any) -> list[dict[str, Any]]:
    with read_session(engine) as session:
        return [dict(row._mapping) for row in session.execute(select(model.__table__))]


def events(engine: Engine, name: str) -> list[dict[str, Any]]:
    return [json.loads(rec.data) for rec in AuditLog(engine).iter_records() if rec.event == name]


def nothing_written(engine: Engine) -> bool:
    return not (
        table_rows(engine, Order) or table_rows(engine, IngestBatch) or table_rows(engine, Quarantine)
    )


def test_csv_loads_valid_rows_and_quarantines_bad_ones(any_engine: Engine, settings: Settings) -> None:
    write(
        settings,
        "orders_today.csv",
        HEADER
        + order_line(1)
        + order_line(2, quantity=-3)
        + order_line(3)
        + order_line(4, order_date="2026-13-45")
        + order_line(5, customer_id="")
        + order_line(6, total=9),
    )
    report = ingest_file(
        engine=any_engine, settings=settings, path="orders_today.csv", dataset="orders", actor="alice"
    )
    assert report.describe() == "Loaded 3 orders from orders_today.csv; 3 rows quarantined (batch 1)."
    assert [(row.line, row.field) for row in report.quarantined] == [
        (3, "quantity"),
        (5, "order_date"),
        (6, "customer_id"),
    ]
    loaded = sorted(table_rows(any_engine, Order), key=lambda row: row["id"])
    assert loaded[0] == {
        "id": 1,
        "customer_id": 1001,
        "sku": "A100X",
        "quantity": 2,
        "unit_price": 2.5,
        "total": None,
        "region": "emea",
        "order_date": date(2026, 11, 2),
        "status": "paid",
    }
    assert [row["id"] for row in loaded] == [1, 3, 6]
    assert loaded[2]["total"] == 9.0
    quarantined = sorted(table_rows(any_engine, Quarantine), key=lambda row: row["line"])
    assert [(q["line"], q["field_name"], q["reason"], q["batch_id"], q["source"]) for q in quarantined] == [
        (3, "quantity", "Input should be greater than 0 (got '-3')", 1, "orders_today.csv"),
        (
            5,
            "order_date",
            "Input should be a valid date or datetime, month value is outside expected range of "
            "1-12 (got '2026-13-45')",
            1,
            "orders_today.csv",
        ),
        (6, "customer_id", "a value is required", 1, "orders_today.csv"),
    ]
    assert quarantined[0]["raw"]["quantity"] == "-3"
    batch = table_rows(any_engine, IngestBatch)[0]
    assert (batch["rows_loaded"], batch["rows_quarantined"], batch["checksum"]) == (3, 3, report.checksum)
    assert events(any_engine, "ingest.loaded") == [
        {
            "batch_id": 1,
            "checksum": report.checksum,
            "mode": "append",
            "rows_loaded": 3,
            "rows_quarantined": 3,
            "rows_replaced": 0,
            "source": "orders_today.csv",
        }
    ]


def test_same_content_twice_is_a_no_op(engine: Engine, settings: Settings) -> None:
    write(settings, "a.csv", HEADER + order_line(1) + order_line(2))
    write(settings, "copy.csv", HEADER + order_line(1) + order_line(2))
    first = ingest_file(engine=engine, settings=settings, path="a.csv", dataset="orders")
    again = ingest_file(engine=engine, settings=settings, path="a.csv", dataset="orders")
    renamed = ingest_file(engine=engine, settings=settings, path="copy.csv", dataset="orders")
    assert again.describe() == "a.csv was already ingested (batch 1); nothing to do."
    assert (again.already_ingested, again.batch_id, renamed.already_ingested) == (True, first.batch_id, True)
    assert len(table_rows(engine, Order)) == 2
    assert len(table_rows(engine, IngestBatch)) == 1


def test_append_quarantines_keys_that_exist_or_repeat(any_engine: Engine, settings: Settings) -> None:
    write(settings, "one.csv", HEADER + order_line(1) + order_line(2))
    ingest_file(engine=any_engine, settings=settings, path="one.csv", dataset="orders")
    write(
        settings,
        "two.csv",
        HEADER + order_line(2, quantity=5) + order_line(3) + order_line(3) + order_line(4),
    )
    report = ingest_file(engine=any_engine, settings=settings, path="two.csv", dataset="orders")
    assert (report.rows_loaded, report.rows_quarantined) == (2, 2)
    assert [(q.line, q.field, q.reason) for q in report.quarantined] == [
        (4, "id", "duplicate id 3: it appears earlier in this file"),
        (2, "id", "id 2 already exists in orders (use mode replace to reload)"),
    ]
    assert sorted(row["id"] for row in table_rows(any_engine, Order)) == [1, 2, 3, 4]


def test_append_checks_existing_keys_beyond_one_chunk(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_load, "CHUNK_ROWS", 3)
    write(settings, "one.csv", HEADER + "".join(order_line(n) for n in (2, 4, 6, 8)))
    ingest_file(engine=engine, settings=settings, path="one.csv", dataset="orders")
    write(settings, "two.csv", HEADER + "".join(order_line(n) for n in range(1, 11)))
    report = ingest_file(engine=engine, settings=settings, path="two.csv", dataset="orders")
    assert (report.rows_loaded, report.rows_quarantined) == (6, 4)
    assert sorted(q.line - 1 for q in report.quarantined) == [2, 4, 6, 8]


def test_replace_deletes_the_dataset_and_loads_the_file(any_engine: Engine, settings: Settings) -> None:
    write(settings, "one.csv", HEADER + order_line(1) + order_line(2) + order_line(3))
    ingest_file(engine=any_engine, settings=settings, path="one.csv", dataset="orders")
    write(settings, "two.csv", HEADER + order_line(2, quantity=7) + order_line(9))
    report = ingest_file(
        engine=any_engine, settings=settings, path="two.csv", dataset="orders", mode="replace"
    )
    assert report.describe() == "Replaced 3 orders with 2 orders from two.csv (batch 2)."
    assert sorted((row["id"], row["quantity"]) for row in table_rows(any_engine, Order)) == [(2, 7), (9, 1)]


def test_a_fatal_error_after_a_loaded_chunk_leaves_nothing(
    any_engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_load, "CHUNK_ROWS", 10)
    text = HEADER + "".join(order_line(n) for n in range(1, 40)) + '40,1,B200,1,2.0,,emea,2026-11-02,"open\n'
    write(settings, "broken.csv", text)
    with pytest.raises(BadInput, match=r"^broken\.csv: line 41: malformed CSV") as caught:
        ingest_file(engine=any_engine, settings=settings, path="broken.csv", dataset="orders", actor="bob")
    assert caught.value.details == {"file": "broken.csv", "line": 41}
    assert nothing_written(any_engine)
    assert events(any_engine, "ingest.rejected") == [
        {
            "code": "bad_input",
            "file": "broken.csv",
            "line": 41,
            "reason": "broken.csv: line 41: malformed CSV (unexpected end of data)",
        }
    ]


def test_every_row_invalid_is_fatal_and_names_the_first(engine: Engine, settings: Settings) -> None:
    write(settings, "bad.csv", HEADER + order_line(1, region="mars") + order_line(2, quantity="two"))
    with pytest.raises(BadInput) as caught:
        ingest_file(engine=engine, settings=settings, path="bad.csv", dataset="orders")
    assert caught.value.message == (
        "bad.csv: every row was rejected (2); first at line 2, field 'region': must be one of emea, apac, "
        "latam, "
        "north_america (got 'mars')"
    )
    assert caught.value.details == {"file": "bad.csv", "line": 2, "field": "region"}
    assert nothing_written(engine)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id,customer,sku\n1,2,A\n",
            "bad.csv: line 1: wrong columns for orders: unknown column 'customer'; missing required column "
            "'customer_id', 'quantity', 'unit_price', 'region', 'order_date' (expected: id, customer_id, "
            "sku, quantity, unit_price, total, region, order_date, status)",
        ),
        (
            "ID,Customer ID,SKU,Quantity,Unit Price,Region,Order Date,id\n",
            "bad.csv: line 1: wrong columns for orders: repeated column 'id' (expected: id, customer_id, "
            "sku, quantity, unit_price, total, region, order_date, status)",
        ),
        (HEADER, "bad.csv: the file has no data rows"),
    ],
)
def test_wrong_columns_or_no_rows_are_fatal(
    engine: Engine, settings: Settings, text: str, message: str
) -> None:
    write(settings, "bad.csv", text)
    with pytest.raises(BadInput) as caught:
        ingest_file(engine=engine, settings=settings, path="bad.csv", dataset="orders")
    assert caught.value.message == message
    assert nothing_written(engine)


def test_path_size_and_dataset_problems_are_refused_and_audited(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    write(settings, "a.csv", HEADER + order_line(1))
    (tmp_path / "outside.csv").write_text(HEADER + order_line(1))
    with pytest.raises(Forbidden, match=r"^\.\./\.\./outside\.csv: only files inside the inbox folder"):
        ingest_file(engine=engine, settings=settings, path="../../outside.csv", dataset="orders")
    with pytest.raises(NotFound, match=r"^missing\.csv: no such file in the inbox folder"):
        ingest_file(engine=engine, settings=settings, path="missing.csv", dataset="orders")
    with pytest.raises(
        NotFound, match=r"^unknown dataset 'invoices'; choose one of customers, products, orders$"
    ):
        ingest_file(engine=engine, settings=settings, path="a.csv", dataset="invoices")
    small = settings.model_copy(update={"max_file_bytes": 50})
    with pytest.raises(TooLarge, match=r"^a\.csv: the file is \d+ bytes, over the 50 bytes limit"):
        ingest_file(engine=engine, settings=small, path="a.csv", dataset="orders")
    write(settings, "empty.csv", "")
    with pytest.raises(BadInput, match=r"^empty\.csv: line 1: the file is empty$"):
        ingest_file(engine=engine, settings=settings, path="empty.csv", dataset="orders")
    rejected = events(engine, "ingest.rejected")
    assert [(event["code"], event["file"]) for event in rejected] == [
        ("forbidden", "../../outside.csv"),
        ("not_found", "missing.csv"),
        ("not_found", "a.csv"),
        ("too_large", "a.csv"),
        ("bad_input", "empty.csv"),
    ]
    assert nothing_written(engine)


def test_a_file_changed_between_passes_is_refused(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(settings, "a.csv", HEADER + order_line(1))
    monkeypatch.setattr(ingest_module, "file_checksum", lambda path: ("0" * 64, path.stat().st_size))
    with pytest.raises(BadInput, match=r"^a\.csv changed while it was being read"):
        ingest_file(engine=engine, settings=settings, path="a.csv", dataset="orders")
    assert nothing_written(engine)


def test_xlsx_customers_with_messy_headers(any_engine: Engine, settings: Settings) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["ID", "Name", " EMAIL ", "Region", "Credit Limit"])
    sheet.append([1042.0, "Acme Logistics", " Orders@Acme.COM", "EMEA", 25000])
    sheet.append([1043, "Globex", "no-at-sign", "apac", None])
    book.save(settings.inbox / "customers_update.xlsx")
    report = ingest_file(
        engine=any_engine, settings=settings, path="customers_update.xlsx", dataset="customers"
    )
    assert report.describe() == "Loaded 1 customer from customers_update.xlsx; 1 row quarantined (batch 1)."
    assert [(q.line, q.field, q.reason) for q in report.quarantined] == [
        (3, "email", "not an e-mail address (got 'no-at-sign')")
    ]
    (row,) = table_rows(any_engine, Customer)
    assert {
        k: row[k] for k in ("id", "name", "email", "region", "country", "credit_limit", "tier", "credit_hold")
    } == {
        "id": 1042,
        "name": "Acme Logistics",
        "email": " Orders@Acme.COM",
        "region": "emea",
        "country": None,
        "credit_limit": 25000.0,
        "tier": None,
        "credit_hold": False,
    }


def test_malformed_xlsx_is_fatal(engine: Engine, settings: Settings) -> None:
    write(settings, "customers.xlsx", "id,name\n1,x\n")
    with pytest.raises(BadInput, match=r"^customers\.xlsx: not a readable XLSX workbook"):
        ingest_file(engine=engine, settings=settings, path="customers.xlsx", dataset="customers")


def test_json_products_and_unknown_fields(any_engine: Engine, settings: Settings) -> None:
    write(
        settings,
        "products.json",
        json.dumps(
            [
                {"sku": " j100x", "name": "Laser", "unit_price": 189, "price_tier": "Premium"},
                {"sku": "K-10", "name": "Bags", "unit_price": "4.25", "category": None},
                {"sku": "K-11", "name": "Bad", "unit_price": -1},
            ],
            indent=1,
        ),
    )
    report = ingest_file(engine=any_engine, settings=settings, path="products.json", dataset="products")
    assert (report.rows_loaded, report.rows_quarantined) == (2, 1)
    assert sorted((p["sku"], p["price_tier"], p["unit_price"]) for p in table_rows(any_engine, Product)) == [
        ("J100X", "premium", 189.0),
        ("K-10", "standard", 4.25),
    ]
    write(
        settings,
        "more.jsonl",
        '{"sku": "X1", "name": "a", "unit_price": 1}\n{"sku": "X2", "colour": "red"}\n',
    )
    with pytest.raises(
        BadInput, match=r"^more\.jsonl: line 2: unknown field 'colour' for products \(expected: sku"
    ):
        ingest_file(engine=any_engine, settings=settings, path="more.jsonl", dataset="products")


def test_malformed_json_is_fatal_with_line_and_column(engine: Engine, settings: Settings) -> None:
    write(settings, "products.json", '[\n {"sku": "A", "name": "a", "unit_price": 1},\n {"sku": }\n]')
    with pytest.raises(BadInput) as caught:
        ingest_file(engine=engine, settings=settings, path="products.json", dataset="products")
    assert caught.value.message == "products.json: line 3, column 10: malformed JSON (Expecting value)"
    assert not table_rows(engine, Product)


def test_ingest_records_from_a_posted_body(any_engine: Engine) -> None:
    body = [
        {"ID": 7, "Name": "Acme", "Email": "a@acme.com", "Region": "latam"},
        "nonsense",
        {"id": 8, "name": "B", "email": "b@b.com", "region": "apac", "country": None},
    ]
    report = ingest_records(engine=any_engine, records=body, dataset="customers", source="erp-webhook")
    assert report.describe() == "Loaded 2 customers from erp-webhook; 1 row quarantined (batch 1)."
    assert [(q.line, q.reason) for q in report.quarantined] == [(2, "expected a JSON object, got str")]
    again = ingest_records(engine=any_engine, records=list(body), dataset="customers", source="erp-webhook")
    assert again.already_ingested
    with pytest.raises(BadInput, match=r"^erp-webhook: the body holds no records$"):
        ingest_records(engine=any_engine, records=[], dataset="customers", source="erp-webhook")
    with pytest.raises(BadInput, match=r"^erp-webhook: record 1: unknown field 'vat'"):
        ingest_records(
            engine=any_engine, records=[{"id": 9, "vat": "x"}], dataset="customers", source="erp-webhook"
        )
    assert sorted(row["id"] for row in table_rows(any_engine, Customer)) == [7, 8]


def test_inspect_file_counts_without_writing(engine: Engine, settings: Settings) -> None:
    write(settings, "a.csv", HEADER + order_line(1) + order_line(2, quantity=-1))
    info = inspect_file(engine=engine, settings=settings, path="a.csv", dataset="orders")
    assert (info.rows, info.format, info.already_ingested_batch, info.existing_rows) == (2, "csv", None, 0)
    assert nothing_written(engine)
    ingest_file(engine=engine, settings=settings, path="a.csv", dataset="orders")
    info = inspect_file(engine=engine, settings=settings, path="a.csv", dataset="orders")
    assert (info.already_ingested_batch, info.existing_rows) == (1, 1)


def test_rows_that_race_in_under_our_keys_are_a_conflict(
    any_engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(settings, "one.csv", HEADER + order_line(1) + order_line(2))
    ingest_file(engine=any_engine, settings=settings, path="one.csv", dataset="orders")
    # As if another writer committed id 2 after our duplicate check looked.
    monkeypatch.setattr(bulk.ExistingKeys, "present", lambda self, keys: set())
    write(settings, "two.csv", HEADER + order_line(2) + order_line(3))
    with pytest.raises(Conflict, match=r"^two\.csv: orders changed while loading; try again$"):
        ingest_file(engine=any_engine, settings=settings, path="two.csv", dataset="orders")
    assert sorted(row["id"] for row in table_rows(any_engine, Order)) == [1, 2]
    assert len(table_rows(any_engine, IngestBatch)) == 1


def test_an_append_ingest_never_scans_the_orders_table_on_sqlite(engine: Engine, settings: Settings) -> None:
    """Issue 18: a daily file's cost must not grow with the table, so no statement may walk all of orders."""
    write(settings, "history.csv", HEADER + "".join(order_line(n) for n in range(1, 3001)))
    ingest_file(engine=engine, settings=settings, path="history.csv", dataset="orders", mode="append")
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and not many:
            statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        write(settings, "today.csv", HEADER + "".join(order_line(n) for n in range(3001, 3101)))
        report = ingest_file(
            engine=engine, settings=settings, path="today.csv", dataset="orders", mode="append"
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert report.rows_loaded == 100
    table = Order.__table__.name  # type: ignore[attr-defined]
    scans = []
    with engine.connect() as conn:
        for statement, params in statements:
            for *_, detail in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params):
                if detail.startswith(f"SCAN {table}"):
                    scans.append((detail, statement))
    assert any(f'"{table}"' in statement for statement, _ in statements)  # the check looked at something
    assert scans == []
