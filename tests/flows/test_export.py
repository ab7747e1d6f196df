"""Exports: every format parses back, manifests match, names are deterministic, artifacts can be found."""

from __future__ import annotations

import csv
import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

import flows.export.exporter
from core.errors import BadInput, NotFound
from core.store.models import Artifact
from flows.export.exporter import DAT_LAYOUT_DOC, export_dataset, find_artifact, preview_export
from flows.export.formats import DAT_LAYOUTS
from tests.utils.factories import insert_customers, insert_orders, seed_basic, seeded_database

TODAY = date(2026, 11, 22)
PERIOD = "2026-11-01..2026-11-22"
COLUMNS = ["id", "order_date", "customer_id", "sku", "quantity", "unit_price", "total", "status", "region"]
# Orders 1, 2, 3, 4 and 6 of the factory; order 2's missing total is exported as quantity × unit_price.
ORDERS = [
    [1, "2026-11-20", 1, "A100X", 10, 10.0, 100.0, "shipped", "emea"],
    [2, "2026-11-21", 1, "B200", 4, 25.0, 100.0, "open", "emea"],
    [3, "2026-11-01", 2, "C-55", 100, 4.5, 450.0, "invoiced", "apac"],
    [4, "2026-11-10", 3, "A100X", 5, 10.0, 50.0, "cancelled", "latam"],
    [6, "2026-11-22", 5, "A100X", 3, 10.0, 30.0, "open", "emea"],
]


def _export(
    engine: Engine,
    folder: Path,
    dataset: str,
    fmt: str,
    period: str | None = PERIOD,
    run_id: int | None = None,
) -> flows.export.exporter.ExportResult:
    return export_dataset(
        engine=engine,
        artifacts_dir=folder,
        dataset=dataset,
        fmt=fmt,
        period=period,
        today=TODAY,
        run_id=run_id,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The factory data, loaded once per module and engine; tests using it export to their own folders."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with seeded_database(tmp_path_factory.mktemp("exports"), url) as engine:
        yield engine


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """The artifacts folder (kept apart from the database's var folder)."""
    return tmp_path / "artifacts"


def _as_text(row: list[object]) -> list[str]:
    return [str(value) for value in row]


def test_csv_parses_back(seeded: Engine, out: Path) -> None:
    artifact = _export(seeded, out, "orders", "csv").artifact
    assert artifact.name == "orders_2026-11-01_2026-11-22.csv"
    with open(artifact.path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [COLUMNS] + [_as_text(row) for row in ORDERS]
    assert (artifact.rows, artifact.format, artifact.dataset, artifact.kind) == (5, "csv", "orders", "export")


def test_json_parses_back(seeded: Engine, out: Path) -> None:
    artifact = _export(seeded, out, "orders", "json").artifact
    assert json.loads(Path(artifact.path).read_text(encoding="utf-8")) == [
        dict(zip(COLUMNS, row, strict=True)) for row in ORDERS
    ]


def test_xml_parses_back_and_escapes(any_engine: Engine, out: Path) -> None:
    insert_customers(
        any_engine,
        [
            {
                "id": 1,
                "name": "Smith & Sons <Ltd>",
                "email": "a@b.example",
                "region": "emea",
                "credit_limit": 5000.5,
            },
            {
                "id": 2,
                "name": 'Quote "Co", Inc.',
                "email": "q@b.example",
                "region": "apac",
                "credit_hold": True,
            },
        ],
    )
    artifact = _export(any_engine, out, "customers", "xml", period=None).artifact
    assert artifact.name == "customers_2026-11-22.xml"
    root = ET.parse(artifact.path).getroot()
    assert root.tag == "customers"
    assert [{child.tag: child.text for child in row} for row in root] == [
        {
            "id": "1",
            "name": "Smith & Sons <Ltd>",
            "email": "a@b.example",
            "region": "emea",
            "country": None,
            "credit_limit": "5000.5",
            "tier": None,
            "credit_hold": "false",
        },
        {
            "id": "2",
            "name": 'Quote "Co", Inc.',
            "email": "q@b.example",
            "region": "apac",
            "country": None,
            "credit_limit": None,
            "tier": None,
            "credit_hold": "true",
        },
    ]


def test_xml_records_the_period(engine: Engine, out: Path) -> None:
    seed_basic(engine)
    root = ET.parse(_export(engine, out, "orders", "xml").artifact.path).getroot()
    assert root.attrib == {"period": PERIOD}
    assert [row.find("total").text for row in root] == ["100.0", "100.0", "450.0", "50.0", "30.0"]  # type: ignore[union-attr]


def _parse_dat(path: str, dataset: str) -> list[dict[str, str]]:
    layout = DAT_LAYOUTS[dataset]
    width = sum(item.width for item in layout)
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        assert len(line) == width
        record, start = {}, 0
        for item in layout:
            record[item.name] = line[start : start + item.width]
            start += item.width
        records.append(record)
    return records


def test_dat_is_fixed_width(seeded: Engine, out: Path) -> None:
    artifact = _export(seeded, out, "orders", "dat", period="last_month").artifact
    assert artifact.name == "orders_2026-10.dat"
    assert _parse_dat(artifact.path, "orders") == [
        {
            "id": "0000000005",
            "order_date": "20261030",
            "customer_id": "00000004",
            "sku": "B200        ",
            "quantity": "00000020",
            "unit_price": "       25.00",
            "total": "        500.00",
            "status": "paid      ",
            "region": "north_america",
        }
    ]


def test_dat_cuts_long_text_and_blanks_missing_values(engine: Engine, out: Path) -> None:
    insert_customers(engine, [{"id": 7, "name": "N" * 45 + "\nX", "email": "e@x.example", "region": "latam"}])
    records = _parse_dat(_export(engine, out, "customers", "dat", period=None).artifact.path, "customers")
    assert records[0]["name"] == "N" * 40
    assert records[0]["credit_limit"] == " " * 14
    assert records[0]["credit_hold"] == "N"


def test_dat_number_too_wide_fails_cleanly(engine: Engine, out: Path) -> None:
    seed_basic(engine)
    insert_orders(
        engine,
        [
            {
                "id": 11,
                "customer_id": 1,
                "sku": "B200",
                "quantity": 1_000_000_000,
                "unit_price": 1.0,
                "total": 5.0,
                "region": "emea",
                "order_date": date(2026, 11, 3),
            }
        ],
    )
    with pytest.raises(BadInput, match="record 6: quantity = 1000000000 does not fit the 8 columns"):
        _export(engine, out, "orders", "dat")
    assert list(out.iterdir()) == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Artifact.__table__)).scalar_one() == 0  # type: ignore[attr-defined]


def test_sales_by_region_export_and_manifest(seeded: Engine, out: Path) -> None:
    artifact = _export(seeded, out, "sales_by_region", "csv", period="yesterday", run_id=42).artifact
    assert artifact.name == "sales_by_region_2026-11-21.csv"
    assert Path(artifact.path).read_text(encoding="utf-8") == (
        "region,orders,units,revenue,share_pct\nemea,1,4,100.0,100.0\napac,0,0,0.0,0.0\n"
        "latam,0,0,0.0,0.0\nnorth_america,0,0,0.0,0.0\n"
    )
    data = Path(artifact.path).read_bytes()
    manifest = json.loads(Path(artifact.manifest_path or "").read_text(encoding="utf-8"))
    assert artifact.manifest_path == f"{artifact.path}.manifest.json"
    created = manifest.pop("created_at")
    assert manifest == {
        "file": "sales_by_region_2026-11-21.csv",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "rows": 4,
        "dataset": "sales_by_region",
        "format": "csv",
        "period": {"name": "yesterday", "start": "2026-11-21", "end": "2026-11-21"},
    }
    assert created.startswith("20")
    assert (artifact.sha256, artifact.size, artifact.run_id) == (manifest["sha256"], len(data), 42)


def test_same_content_is_reused_and_new_content_gets_a_suffix(any_engine: Engine, out: Path) -> None:
    seed_basic(any_engine)
    first = _export(any_engine, out, "orders", "csv")
    again = _export(any_engine, out, "orders", "csv")
    assert again.reused and again.artifact.id == first.artifact.id
    insert_orders(
        any_engine,
        [
            {
                "id": 12,
                "customer_id": 4,
                "sku": "C-55",
                "quantity": 2,
                "unit_price": 4.5,
                "total": 9.0,
                "region": "north_america",
                "order_date": date(2026, 11, 2),
            }
        ],
    )
    changed = _export(any_engine, out, "orders", "csv")
    assert not changed.reused
    assert changed.artifact.name == f"orders_2026-11-01_2026-11-22_{changed.artifact.sha256[:8]}.csv"
    assert Path(first.artifact.path).read_text(encoding="utf-8").count("\n") == 6
    assert Path(changed.artifact.path).read_text(encoding="utf-8").count("\n") == 7
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            first.artifact.name,
            f"{first.artifact.name}.manifest.json",
            changed.artifact.name,
            f"{changed.artifact.name}.manifest.json",
        ]
    )


def test_find_artifact_by_id_name_and_latest(any_engine: Engine, out: Path) -> None:
    with pytest.raises(NotFound, match="there are no artifacts yet; export a dataset first"):
        find_artifact(any_engine, "latest")
    seed_basic(any_engine)
    orders = _export(any_engine, out, "orders", "csv", period="last_month").artifact
    products = _export(any_engine, out, "products", "json", period=None).artifact
    assert find_artifact(any_engine, "latest").id == products.id
    assert find_artifact(any_engine, str(orders.id)).name == "orders_2026-10.csv"
    assert find_artifact(any_engine, " ORDERS_2026-10.CSV ").id == orders.id
    with pytest.raises(
        NotFound, match=r"no artifact named 'orders_2026-1.csv'; did you mean orders_2026-10.csv\?"
    ):
        find_artifact(any_engine, "orders_2026-1.csv")
    with pytest.raises(NotFound, match="artifact 999 does not exist"):
        find_artifact(any_engine, "999")
    with pytest.raises(
        NotFound, match="no artifact named 'zzz'; use an artifact id, its file name, or 'latest'"
    ):
        find_artifact(any_engine, "zzz")


def test_period_on_customers_is_refused(engine: Engine, out: Path) -> None:
    with pytest.raises(BadInput, match="a period applies to orders and sales_by_region only"):
        _export(engine, out, "customers", "csv", period="last_month")
    with pytest.raises(BadInput, match="unknown dataset 'invoices'"):
        _export(engine, out, "invoices", "csv")


def test_preview_counts_rows_without_writing(engine: Engine, out: Path) -> None:
    seed_basic(engine)
    preview = preview_export(engine=engine, dataset="orders", fmt="dat", period="last_month", today=TODAY)
    assert (preview.rows, preview.file_name) == (1, "orders_2026-10.dat")
    preview = preview_export(engine=engine, dataset="customers", fmt="csv", period=None, today=TODAY)
    assert (preview.rows, preview.file_name) == (5, "customers_2026-11-22.csv")
    assert not out.exists()


def test_large_export_streams_every_row(engine: Engine, out: Path) -> None:
    seed_basic(engine)
    insert_orders(
        engine,
        [
            {
                "id": 100 + i,
                "customer_id": 1 + i % 5,
                "sku": "B200",
                "quantity": 1 + i % 7,
                "unit_price": 25.0,
                "region": "emea",
                "order_date": date(2026, 1, 1 + i % 28),
            }
            for i in range(5000)
        ],
    )
    artifact = _export(engine, out, "orders", "json", period=None).artifact
    rows = json.loads(Path(artifact.path).read_text(encoding="utf-8"))
    assert artifact.rows == len(rows) == 5009
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)


def test_layout_is_documented_in_the_module_docstring() -> None:
    assert flows.export.exporter.__doc__ is not None
    assert DAT_LAYOUT_DOC in flows.export.exporter.__doc__
    assert "| quantity | 39 | 8 | right | zero |" in DAT_LAYOUT_DOC
