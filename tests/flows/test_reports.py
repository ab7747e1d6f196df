"""Reports over the factory data: whole tables, period and region filters, charts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from core.store.db import write_session
from core.store.models import IngestBatch, Quarantine
from flows.reports.catalogue import ReportTable, query_report, run_report
from tests.utils.factories import insert_orders, seed_basic, seeded_database

TODAY = date(2026, 11, 22)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The factory data, loaded once per module and engine, for the read-only report tests."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with seeded_database(tmp_path_factory.mktemp("reports"), url) as engine:
        yield engine


def _table(engine: Engine, report: str, period: str = "last_30_days", **kwargs: object) -> ReportTable:
    with engine.connect() as conn:
        return query_report(conn=conn, report=report, period=period, today=TODAY, **kwargs)  # type: ignore[arg-type]


def test_sales_by_region_whole_table(seeded: Engine) -> None:
    table = _table(seeded, "sales_by_region")
    assert table.columns == ["region", "orders", "units", "revenue", "share_pct"]
    assert table.rows == [
        ["north_america", 1, 20, 500.0, 42.37],
        ["apac", 1, 100, 450.0, 38.14],
        ["emea", 3, 17, 230.0, 19.49],  # order 2 has no total: 4 × 25.00 counts
        ["latam", 0, 0, 0.0, 0.0],  # its only order is cancelled
    ]
    assert (table.start, table.end) == (date(2026, 10, 24), TODAY)
    assert table.summary == (
        "Sales by region for the last 30 days (2026-10-24 to 2026-11-22): revenue 1,180.00; "
        "top region north_america."
    )


def test_sales_by_region_for_one_region(seeded: Engine) -> None:
    table = _table(seeded, "sales_by_region", region="emea")
    assert table.rows == [["emea", 3, 17, 230.0, 100.0]]
    assert table.title == "Sales by region — the last 30 days (2026-10-24 to 2026-11-22), EMEA"


def test_sales_by_product_limit_and_order(seeded: Engine) -> None:
    assert _table(seeded, "sales_by_product").rows == [
        ["B200", "Bracket B200", 2, 24, 600.0],
        ["C-55", "Cable C-55", 1, 100, 450.0],
        ["A100X", "Widget A100X", 2, 13, 130.0],
    ]
    assert _table(seeded, "sales_by_product", limit=1).rows == [["B200", "Bracket B200", 2, 24, 600.0]]


def test_top_customers(seeded: Engine) -> None:
    table = _table(seeded, "top_customers")
    assert table.columns == ["customer_id", "customer", "region", "orders", "revenue"]
    assert table.rows == [
        [4, "Delta Freight", "north_america", 1, 500.0],
        [2, "Borealis Trading", "apac", 1, 450.0],
        [1, "Acme Logistics", "emea", 2, 200.0],
        [5, "Acme Logistics GmbH", "emea", 1, 30.0],
    ]
    assert _table(seeded, "top_customers", region="emea", limit=1).rows == [
        [1, "Acme Logistics", "emea", 2, 200.0]
    ]
    assert _table(seeded, "top_customers", period="this_year").rows[0] == [
        1,
        "Acme Logistics",
        "emea",
        3,
        10200.0,
    ]


def test_revenue_trend_by_day_week_and_month(seeded: Engine) -> None:
    by_day = _table(seeded, "revenue_trend", period="2026-11-19..2026-11-22")
    assert by_day.columns == ["day", "orders", "revenue"]
    assert by_day.rows == [
        ["2026-11-19", 0, 0.0],
        ["2026-11-20", 1, 100.0],
        ["2026-11-21", 1, 100.0],
        ["2026-11-22", 1, 30.0],
    ]
    assert by_day.chart_kind == "line"
    assert by_day.title == "Revenue trend — 2026-11-19 to 2026-11-22"

    by_week = _table(seeded, "revenue_trend", period="2026-10-01..2026-11-22")
    assert by_week.columns == ["week", "orders", "revenue"]
    assert by_week.rows == [
        ["2026-09-28", 0, 0.0],
        ["2026-10-05", 0, 0.0],
        ["2026-10-12", 0, 0.0],
        ["2026-10-19", 0, 0.0],
        ["2026-10-26", 2, 950.0],
        ["2026-11-02", 0, 0.0],
        ["2026-11-09", 0, 0.0],
        ["2026-11-16", 3, 230.0],
    ]

    by_month = _table(seeded, "revenue_trend", period="this_year")
    assert by_month.columns == ["month", "orders", "revenue"]
    assert by_month.rows == [
        ["2026-01", 0, 0.0],
        ["2026-02", 0, 0.0],
        ["2026-03", 1, 10000.0],
        ["2026-04", 0, 0.0],
        ["2026-05", 0, 0.0],
        ["2026-06", 0, 0.0],
        ["2026-07", 0, 0.0],
        ["2026-08", 1, 2500.0],
        ["2026-09", 0, 0.0],
        ["2026-10", 1, 500.0],
        ["2026-11", 4, 680.0],
    ]


def test_order_status_counts_cancelled(seeded: Engine) -> None:
    table = _table(seeded, "order_status")
    assert table.rows == [
        ["open", 2, 130.0, 33.33],
        ["cancelled", 1, 50.0, 16.67],
        ["invoiced", 1, 450.0, 16.67],
        ["paid", 1, 500.0, 16.67],
        ["shipped", 1, 100.0, 16.67],
    ]
    assert (
        table.summary
        == "Orders by status for the last 30 days (2026-10-24 to 2026-11-22): 6 orders in 5 statuses."
    )


def _quarantine(engine: Engine) -> None:
    inside = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    with write_session(engine) as session:
        session.add(
            IngestBatch(
                dataset="orders",
                source="orders.csv",
                checksum="x",
                mode="append",
                rows_loaded=8,
                rows_quarantined=2,
                created_at=inside,
            )
        )
        for line, when in ((3, inside), (7, inside), (9, datetime(2026, 9, 1, tzinfo=UTC))):
            session.add(
                Quarantine(dataset="orders", source="orders.csv", line=line, reason="bad", created_at=when)
            )


def test_data_quality_table_and_score(any_engine: Engine) -> None:
    seed_basic(any_engine)
    _quarantine(any_engine)
    insert_orders(
        any_engine,
        [
            {
                "id": 10,
                "customer_id": 99,
                "sku": "Z9",
                "quantity": 1,
                "unit_price": 1.0,
                "region": "emea",
                "order_date": date(2026, 11, 5),
            }
        ],
    )
    table = _table(any_engine, "data_quality")
    assert table.columns == ["check", "affected", "total", "share_pct"]
    assert table.rows == [
        ["orders_missing_total", 2, 7, 28.57],
        ["orders_unknown_customer", 1, 7, 14.29],
        ["orders_unknown_product", 1, 7, 14.29],
        ["customers_unnormalised_email", 2, 5, 40.0],
        ["customers_duplicate_email", 1, 5, 20.0],
        ["quarantined_rows", 2, 10, 20.0],
    ]
    expected = 1 - (2 / 7 + 1 / 7 + 1 / 7 + 0.4 + 0.2 + 0.2) / 6
    assert table.score == round(expected, 4)
    assert table.summary.endswith(
        f"score {round(expected, 4):.4f}; worst check customers_unnormalised_email at 40.0%."
    )


def test_data_quality_for_a_region(seeded: Engine) -> None:
    table = _table(seeded, "data_quality", region="emea")
    assert table.rows == [
        ["orders_missing_total", 1, 3, 33.33],
        ["orders_unknown_customer", 0, 3, 0.0],
        ["orders_unknown_product", 0, 3, 0.0],
        ["customers_unnormalised_email", 1, 2, 50.0],
        ["customers_duplicate_email", 1, 2, 50.0],
        ["quarantined_rows", 0, 0, 0.0],
    ]
    assert table.score == round(1 - (1 / 3 + 0.5 + 0.5) / 6, 4)


def test_empty_database_reports_zeros(engine: Engine, tmp_path: Path) -> None:
    table = _table(engine, "sales_by_region")
    assert table.rows == [[region, 0, 0, 0.0, 0.0] for region in ("apac", "emea", "latam", "north_america")]
    assert table.summary == "Sales by region for the last 30 days (2026-10-24 to 2026-11-22): no sales."
    quality = _table(engine, "data_quality")
    assert quality.score == 1.0
    assert quality.summary.endswith("score 1.0000; no problems found.")
    result = run_report(
        engine=engine, report="top_customers", period="today", today=TODAY, charts_dir=tmp_path
    )
    assert result.table.rows == []
    assert result.chart_path.read_bytes().startswith(PNG)


@pytest.mark.parametrize(
    "report",
    ["sales_by_region", "sales_by_product", "top_customers", "revenue_trend", "order_status", "data_quality"],
)
def test_run_report_draws_a_png_chart(engine: Engine, tmp_path: Path, report: str) -> None:
    seed_basic(engine)
    result = run_report(
        engine=engine,
        report=report,
        period="last_month",
        today=TODAY,
        region="north_america",
        charts_dir=tmp_path / "charts",
    )  # type: ignore[arg-type]
    assert result.chart_path == tmp_path / "charts" / f"{report}_2026-10-01_2026-10-31_north_america.png"
    data = result.chart_path.read_bytes()
    assert data.startswith(PNG)
    assert len(data) > 5000
    assert list((tmp_path / "charts").iterdir()) == [result.chart_path]  # no temporary file left behind


def test_unknown_period_is_rejected(engine: Engine) -> None:
    with pytest.raises(ValueError, match="unknown period 'last_decade'"):
        _table(engine, "sales_by_region", period="last_decade")
