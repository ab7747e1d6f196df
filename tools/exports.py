"""Export tool: write a dataset as csv, xml, json or fixed-width dat with a sha256 manifest (an artifact)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from core.vocabulary import Format, Period
from flows.export.exporter import export_dataset, preview_export
from tools.base import Preview, Table, ToolArgs, ToolContext, ToolResult, ToolSpec


class ExportDatasetArgs(ToolArgs):
    """What to export, in which format, over which period."""

    dataset: Literal["customers", "products", "orders", "sales_by_region"] = Field(
        description="What to export: customers, products, orders, or sales_by_region (revenue per region)."
    )
    format: Format = Field(
        default="csv", description="File format: csv, xml, json, or dat (fixed-width, e.g. for the bank)."
    )
    period: Period | None = Field(
        default=None,
        description="Only orders dated in this period (orders and sales_by_region only), e.g. yesterday, "
        "last_month or YYYY-MM-DD..YYYY-MM-DD. Omit to export everything.",
    )


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"


def _export_dataset(ctx: ToolContext, args: ExportDatasetArgs) -> ToolResult:
    result = export_dataset(
        engine=ctx.engine,
        artifacts_dir=ctx.settings.artifacts,
        dataset=args.dataset,
        fmt=args.format,
        period=args.period,
        today=ctx.today,
        run_id=ctx.run_id,
    )
    artifact = result.artifact
    assert artifact.id is not None
    verb = "Unchanged since artifact" if result.reused else "Exported as artifact"
    summary = (
        f"{verb} {artifact.id}: {_rows(artifact.rows or 0)} of {args.dataset} in {artifact.name} "
        f"({artifact.size:,} bytes, sha256 {artifact.sha256[:12]}…)."
    )
    return ToolResult(
        summary=summary,
        table=Table(
            title=f"Export {artifact.name}",
            columns=["artifact_id", "name", "rows", "bytes", "sha256"],
            rows=[[artifact.id, artifact.name, artifact.rows, artifact.size, artifact.sha256]],
        ),
        artifact_ids=[artifact.id],
        data={
            "artifact_id": artifact.id,
            "name": artifact.name,
            "rows": artifact.rows,
            "size": artifact.size,
            "sha256": artifact.sha256,
            "manifest": artifact.manifest_path,
            "reused": result.reused,
        },
    )


def _preview_export(ctx: ToolContext, args: ExportDatasetArgs) -> Preview:
    preview = preview_export(
        engine=ctx.engine, dataset=args.dataset, fmt=args.format, period=args.period, today=ctx.today
    )
    return Preview(
        summary=f"It would write {_rows(preview.rows)} of {args.dataset} to {preview.file_name}.",
        rows_affected=preview.rows,
        file_name=preview.file_name,
    )


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name="export_dataset",
        description="Export customers, products, orders or sales by region to a file (csv, xml, json or "
        "fixed-width dat) with a sha256 manifest; the file becomes an artifact that deliver_file can send.",
        args_model=ExportDatasetArgs,
        risk="write",
        func=_export_dataset,
        preview=_preview_export,
    ),
)
