"""Report tool: run one of the six reports over a period and region, returning a table and a PNG chart."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.vocabulary import Period, Region, ReportName
from flows.reports.catalogue import run_report
from tools.base import Table, ToolArgs, ToolContext, ToolResult, ToolSpec


class RunReportArgs(ToolArgs):
    """Which report to run, over which period and region."""

    report: ReportName = Field(
        description="The report: sales_by_region (revenue per region), sales_by_product (best-selling "
        "SKUs), top_customers (biggest customers by revenue), revenue_trend (revenue over time), "
        "order_status (orders per status) or data_quality (missing totals, messy or duplicate emails, "
        "quarantined rows)."
    )
    period: Period = Field(
        default="last_30_days",
        description="Time span: a keyword such as today, yesterday, last_week, this_month, last_month, "
        "this_quarter, last_quarter, this_year, last_7_days, last_30_days, last_90_days, or an explicit "
        "inclusive range YYYY-MM-DD..YYYY-MM-DD.",
    )
    region: Region | None = Field(
        default=None, description="Only this sales region (emea, apac, latam, north_america); omit for all."
    )
    limit: int = Field(
        default=10, ge=1, le=100, description="How many rows for top_customers and sales_by_product (1-100)."
    )


def _run_report(ctx: ToolContext, args: RunReportArgs) -> ToolResult:
    result = run_report(
        engine=ctx.engine,
        report=args.report,
        period=args.period,
        today=ctx.today,
        charts_dir=ctx.settings.artifacts / "charts",
        region=args.region,
        limit=args.limit,
    )
    table = result.table
    data: dict[str, Any] = {
        "report": table.report,
        "period": table.period,
        "start": table.start.isoformat(),
        "end": table.end.isoformat(),
        "region": table.region,
        "rows": len(table.rows),
    }
    if table.score is not None:
        data["score"] = table.score
    return ToolResult(
        summary=table.summary,
        table=Table(title=table.title, columns=table.columns, rows=table.rows),
        chart_path=str(result.chart_path),
        data=data,
    )


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name="run_report",
        description="Run a business report (sales by region or product, top customers, revenue trend, order "
        "status, data quality) over a period, optionally for one region, and show the table with a chart. "
        "Read-only.",
        args_model=RunReportArgs,
        risk="read",
        func=_run_report,
    ),
)
