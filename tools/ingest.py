"""Ingest and normalize tools: load an inbox file into a dataset; clean a dataset by the configured rules."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from core.vocabulary import Dataset
from flows.ingest.pipeline import IngestReport, ingest_file, inspect_file
from flows.rules.normalize import NormalizeReport, normalize_dataset
from tools.arguments import OneLine
from tools.base import Preview, Table, ToolArgs, ToolContext, ToolResult, ToolSpec


class IngestFileArgs(ToolArgs):
    """Which inbox file to load, into which dataset, and how."""

    path: OneLine = Field(
        min_length=1,
        max_length=500,
        description="Name of the file in the inbox folder, e.g. 'orders_today.csv', 'customers_update.xlsx' "
        "or "
        "'products.json' (CSV, XLSX, JSON array or JSON Lines). Relative paths resolve inside the inbox; "
        "paths outside it are refused.",
    )

    @field_validator("path")
    @classmethod
    def _inside(cls, value: str) -> str:
        # Refused here, before any run is recorded; the flow still contains what resolves outside the inbox.
        if ".." in value.replace("\\", "/").split("/"):
            raise ValueError("must name a file in the inbox; '..' is not allowed in the path")
        return value

    dataset: Dataset = Field(
        description="The table the file holds: customers, products or orders.",
    )
    mode: Literal["append", "replace"] = Field(
        default="append",
        description="append adds the file's rows (a row whose id already exists is quarantined); replace "
        "deletes every existing row of the dataset and loads the file instead. Default append.",
    )


class NormalizeDatasetArgs(ToolArgs):
    """Which dataset to clean."""

    dataset: Dataset = Field(
        description="The table to clean by the configured rules: customers (trim and lowercase e-mails, "
        "merge "
        "duplicate customers by e-mail), products (trim names) or orders (fill missing totals).",
    )
    dry_run: bool = Field(
        default=False,
        description="true only reports what would change, writing nothing. Default false.",
    )


def _kb(size: int) -> str:
    return f"{size / 1024:.1f} KB" if size < 1_048_576 else f"{size / 1_048_576:.1f} MB"


def _ingest_result(report: IngestReport) -> ToolResult:
    table = None
    if report.quarantined:
        table = Table(
            title=f"Quarantined rows from {report.source}",
            columns=["line", "field", "reason"],
            rows=[[row.line, row.field, row.reason] for row in report.quarantined],
        )
    data = report.model_dump(mode="json", exclude={"quarantined"})
    return ToolResult(summary=report.describe(), table=table, data=data)


def _run_ingest_file(ctx: ToolContext, args: IngestFileArgs) -> ToolResult:
    report = ingest_file(
        engine=ctx.engine,
        settings=ctx.settings,
        path=args.path,
        dataset=args.dataset,
        mode=args.mode,
        actor=ctx.actor,
    )
    return _ingest_result(report)


def _preview_ingest_file(ctx: ToolContext, args: IngestFileArgs) -> Preview:
    info = inspect_file(engine=ctx.engine, settings=ctx.settings, path=args.path, dataset=args.dataset)
    if info.already_ingested_batch is not None:
        summary = (
            f"{info.source} was already ingested (batch {info.already_ingested_batch}); nothing would change."
        )
        affected = 0
    elif args.mode == "replace":
        summary = (
            f"It would delete all {info.existing_rows} {info.dataset} and load up to {info.rows} rows from "
            f"{info.source} ({_kb(info.size_bytes)})."
        )
        affected = info.existing_rows + info.rows
    else:
        size = _kb(info.size_bytes)
        summary = f"It would add up to {info.rows} rows to {info.dataset} from {info.source} ({size})."
        affected = info.rows
    return Preview(
        summary=summary,
        rows_affected=affected,
        file_name=info.source,
        file_size=info.size_bytes,
        details=info.model_dump(mode="json") | {"mode": args.mode},
    )


def _normalize_result(report: NormalizeReport) -> ToolResult:
    rows: list[list[Any]] = []
    for rule in report.rules:
        example = rule.examples[0] if rule.examples else None
        shown = f"{example.key}: {example.before!r} -> {example.after!r}" if example else None
        rows.append([rule.rule, rule.field, rule.rows_changed, rule.duplicates_removed, shown])
    table = (
        Table(
            title=f"Normalize {report.dataset}" + (" (dry run)" if report.dry_run else ""),
            columns=["rule", "field", "rows changed", "duplicates removed", "example"],
            rows=rows,
        )
        if rows
        else None
    )
    return ToolResult(summary=report.describe(), table=table, data=report.model_dump(mode="json"))


def _run_normalize(ctx: ToolContext, args: NormalizeDatasetArgs) -> ToolResult:
    report = normalize_dataset(
        engine=ctx.engine, settings=ctx.settings, dataset=args.dataset, dry_run=args.dry_run, actor=ctx.actor
    )
    return _normalize_result(report)


def _preview_normalize(ctx: ToolContext, args: NormalizeDatasetArgs) -> Preview:
    report = normalize_dataset(engine=ctx.engine, settings=ctx.settings, dataset=args.dataset, dry_run=True)
    return Preview(
        summary=report.describe(),
        rows_affected=report.rows_changed + report.duplicates_removed,
        details=report.model_dump(mode="json"),
    )


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name="ingest_file",
        description="Load a CSV, XLSX or JSON file from the inbox folder into the customers, products or "
        "orders "
        "table. Every row is validated; bad rows are quarantined with the reason and line, the rest load in "
        "one transaction. Loading the same file twice does nothing the second time.",
        args_model=IngestFileArgs,
        risk="write",
        func=_run_ingest_file,
        preview=_preview_ingest_file,
    ),
    ToolSpec(
        name="normalize_dataset",
        description="Clean a dataset by the configured rules (trim and lowercase e-mails, merge duplicate "
        "customers by e-mail, fill missing order totals from quantity x unit price) and report what changed.",
        args_model=NormalizeDatasetArgs,
        risk="write",
        func=_run_normalize,
        preview=_preview_normalize,
    ),
)
