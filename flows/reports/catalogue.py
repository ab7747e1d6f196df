"""Reports: sales by region and product, top customers, the revenue trend, order status and data quality.

Each report runs one or a few aggregate queries (``flows.reports.queries``) over a Period and optional region
and returns a typed ``ReportTable``; ``run_report`` also draws its PNG chart under ``<artifacts>/charts``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Connection, Engine

from core.periods import period_words, resolve_period
from core.vocabulary import Region, ReportName
from flows.reports.charts import render_chart
from flows.reports.queries import QUERIES, QueryOutput, chart_series
from flows.reports.sources import Cell, Window

TITLES: dict[str, str] = {
    "sales_by_region": "Sales by region",
    "sales_by_product": "Sales by product",
    "top_customers": "Top customers",
    "revenue_trend": "Revenue trend",
    "order_status": "Orders by status",
    "data_quality": "Data quality",
}


class ReportTable(BaseModel):
    """A report's result: what it covers, its columns and rows, and a one-line summary."""

    model_config = ConfigDict(extra="forbid")

    report: ReportName
    title: str
    period: str
    start: date
    end: date
    region: Region | None = None
    columns: list[str]
    rows: list[list[Cell]]
    chart_kind: Literal["bar", "line"]
    summary: str
    score: float | None = None


class ReportResult(BaseModel):
    """A report table and the chart drawn from it."""

    model_config = ConfigDict(extra="forbid")

    table: ReportTable
    chart_path: Path


def _scope(period: str, start: date, end: date, region: str | None) -> str:
    """'the last 30 days (2026-10-24 to 2026-11-22), EMEA': the period in words, then its dates."""
    dates = f"{start} to {end}"
    span = dates if period == f"{start}..{end}" else f"{period_words(period)} ({dates})"
    if region:
        return f"{span}, {region.upper() if len(region) <= 5 else region.replace('_', ' ').title()}"
    return span


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _summary(report: str, output: QueryOutput, scope: str) -> str:
    rows = output.rows
    if report == "data_quality":
        worst = max(rows, key=lambda row: float(row[3] or 0))
        detail = (
            f"; worst check {worst[0]} at {worst[3]}%" if float(worst[3] or 0) > 0 else "; no problems found"
        )
        return f"Data quality for {scope}: score {output.score:.4f}{detail}."
    if report == "order_status":
        total = sum(int(row[1] or 0) for row in rows)
        return f"Orders by status for {scope}: {total} orders in {len(rows)} statuses."
    revenue = sum(float(row[output.columns.index("revenue")] or 0) for row in rows)
    if report == "revenue_trend":
        orders = sum(int(row[1] or 0) for row in rows)
        return f"Revenue trend for {scope}: {_money(revenue)} from {orders} orders, by {output.columns[0]}."
    if not rows or revenue == 0:
        return f"{TITLES[report]} for {scope}: no sales."
    if report == "sales_by_region":
        return f"Sales by region for {scope}: revenue {_money(revenue)}; top region {rows[0][0]}."
    if report == "sales_by_product":
        return f"Top {len(rows)} products for {scope}: {_money(revenue)}; best seller {rows[0][0]}."
    return f"Top {len(rows)} customers for {scope}: {_money(revenue)}; first {rows[0][1] or rows[0][0]}."


def query_report(
    *,
    conn: Connection,
    report: ReportName,
    period: str,
    today: date,
    region: Region | None = None,
    limit: int = 10,
) -> ReportTable:
    """Run a report's queries (no chart).

    Args:
        conn: An open connection.
        report: Which report.
        period: A canonical Period.
        today: Reference date the period resolves against.
        region: Only this region's orders (and, for data_quality, customers).
        limit: Row cap for sales_by_product and top_customers.

    Raises:
        ValueError: If the period is not canonical (callers validate it first).
    """
    start, end = resolve_period(period, today=today)
    output = QUERIES[report](conn, Window(start=start, end=end, region=region, limit=limit))
    scope = _scope(period, start, end, region)
    return ReportTable(
        report=report,
        title=f"{TITLES[report]} — {scope}",
        period=period,
        start=start,
        end=end,
        region=region,
        columns=output.columns,
        rows=output.rows,
        chart_kind="line" if report == "revenue_trend" else "bar",
        summary=_summary(report, output, scope),
        score=output.score,
    )


def chart_name(table: ReportTable) -> str:
    """Deterministic chart file name: report, dates and region."""
    region = f"_{table.region}" if table.region else ""
    return f"{table.report}_{table.start}_{table.end}{region}.png"


def run_report(
    *,
    engine: Engine,
    report: ReportName,
    period: str,
    today: date,
    charts_dir: Path,
    region: Region | None = None,
    limit: int = 10,
) -> ReportResult:
    """Run a report and draw its chart.

    Args:
        engine: Database engine.
        report: Which report.
        period: A canonical Period.
        today: Reference date.
        charts_dir: Folder for the PNG (``settings.artifacts / "charts"``).
        region: Optional region filter.
        limit: Row cap where it applies.
    """
    with engine.connect() as conn:
        table = query_report(conn=conn, report=report, period=period, today=today, region=region, limit=limit)
    output = QueryOutput(table.columns, table.rows, table.score)
    labels, values, value_name = chart_series(report, output)
    path = render_chart(
        kind=table.chart_kind,
        labels=labels,
        values=values,
        title=table.title,
        ylabel=value_name,
        path=charts_dir / chart_name(table),
    )
    return ReportResult(table=table, chart_path=path)
