"""ingest_file and normalize_dataset end to end through the ToolRunner: runs, audit, previews, errors."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine

import tools.ingest as ingest_tools
from core.errors import BadInput, Forbidden
from core.store.audit import AuditLog
from core.store.runs import RunStatus
from flows.demo.data import load_demo
from switchboard.settings import Settings
from tools.registry import Registry
from tools.runtime import ToolRunner


@pytest.fixture
def runner(settings: Settings, engine: Engine) -> ToolRunner:
    load_demo(engine=engine, settings=settings, today=date(2026, 11, 22))
    return ToolRunner(settings=settings, engine=engine, registry=Registry(list(ingest_tools.TOOLS)))


def test_ingest_file_loads_then_reports_already_ingested(runner: ToolRunner) -> None:
    first = runner.call("ingest_file", {"path": "orders_today.csv", "dataset": "orders"}, actor="tester")
    assert first.result.summary == "Loaded 50 orders from orders_today.csv (batch 1)."
    assert first.result.table is None
    assert first.run is not None and first.run.status == RunStatus.SUCCEEDED
    assert (first.result.data["rows_loaded"], first.result.data["batch_id"]) == (50, 1)
    again = runner.call("ingest_file", {"path": " orders_today.csv ", "dataset": "orders"}, actor="tester")
    assert again.result.summary == "orders_today.csv was already ingested (batch 1); nothing to do."


def test_quarantined_rows_come_back_as_a_table(runner: ToolRunner) -> None:
    done = runner.call("ingest_file", {"path": "orders_bad.csv", "dataset": "orders"}, actor="tester")
    assert done.result.summary == "Loaded 6 orders from orders_bad.csv; 4 rows quarantined (batch 1)."
    assert done.result.table is not None
    assert done.result.table.columns == ["line", "field", "reason"]
    assert [row[:2] for row in done.result.table.rows] == [
        [3, "order_date"],
        [5, "quantity"],
        [7, "region"],
        [10, "customer_id"],
    ]


def test_bad_arguments_are_rejected_before_running(runner: ToolRunner) -> None:
    with pytest.raises(BadInput, match=r"^ingest_file: 'dataset' .*'customers', 'products' or 'orders'"):
        runner.call("ingest_file", {"path": "orders_today.csv", "dataset": "invoices"}, actor="tester")
    with pytest.raises(BadInput, match=r"^ingest_file: 'mode' .*'append' or 'replace'"):
        runner.call(
            "ingest_file", {"path": "orders_today.csv", "dataset": "orders", "mode": "merge"}, actor="tester"
        )


def test_a_path_climbing_out_of_the_inbox_is_refused_before_any_run(runner: ToolRunner) -> None:
    with pytest.raises(BadInput, match=r"'path': must name a file in the inbox; '\.\.' is not allowed"):
        runner.call("ingest_file", {"path": "../switchboard.db", "dataset": "orders"}, actor="mallory")
    assert runner.runs.latest(name="ingest_file") is None
    rejected = [r for r in AuditLog(runner.engine).iter_records() if r.event == "tool.rejected"]
    assert [(r.actor, r.subject) for r in rejected] == [("mallory", "tool:ingest_file")]


def test_an_absolute_path_outside_the_inbox_fails_the_run_and_is_audited(runner: ToolRunner) -> None:
    with pytest.raises(Forbidden, match=r"^/etc/hosts: only files inside the inbox folder"):
        runner.call("ingest_file", {"path": "/etc/hosts", "dataset": "orders"}, actor="mallory")
    failed = runner.runs.latest(name="ingest_file")
    assert failed is not None and failed.status == RunStatus.FAILED and failed.error_code == "forbidden"
    rejected = [r for r in AuditLog(runner.engine).iter_records() if r.event == "ingest.rejected"]
    assert [(r.actor, r.subject) for r in rejected] == [("mallory", "dataset:orders")]


def test_ingest_preview_counts_without_writing(runner: ToolRunner) -> None:
    spec = runner.registry["ingest_file"]
    ctx = runner.context(actor="approver")
    args = ingest_tools.IngestFileArgs(path="orders_today.csv", dataset="orders")
    preview = spec.preview(ctx, args)
    assert preview.summary.startswith("It would add up to 50 rows to orders from orders_today.csv (")
    assert (preview.rows_affected, preview.file_name) == (50, "orders_today.csv")
    replace = spec.preview(ctx, args.model_copy(update={"mode": "replace"}))
    assert replace.summary.startswith(
        "It would delete all 20000 orders and load up to 50 rows from orders_today.csv"
    )
    runner.call("ingest_file", args, actor="tester")
    assert spec.preview(ctx, args).summary == (
        "orders_today.csv was already ingested (batch 1); nothing would change."
    )


def test_normalize_dataset_dry_run_then_apply(runner: ToolRunner) -> None:
    spec = runner.registry["normalize_dataset"]
    preview = spec.preview(
        runner.context(actor="approver"), ingest_tools.NormalizeDatasetArgs(dataset="customers")
    )
    dry = runner.call("normalize_dataset", {"dataset": "customers", "dry_run": True}, actor="tester")
    assert dry.result.summary == preview.summary
    assert dry.result.summary == (
        "A dry run on customers found that 83 rows would change and 15 duplicates would be merged away, moving "
        "542 orders; nothing was written."
    )
    assert dry.result.table is not None
    assert [row[:2] for row in dry.result.table.rows] == [
        ["trim", "name"],
        ["trim", "email"],
        ["lowercase", "email"],
        ["dedupe_by", "email"],
    ]
    assert dry.result.table.rows[3][3] == 15
    done = runner.call("normalize_dataset", {"dataset": "customers"}, actor="tester")
    assert (
        done.result.summary
        == "Normalized customers: 83 rows changed, 15 duplicates removed (542 orders re-pointed)."
    )
    after = runner.call("normalize_dataset", {"dataset": "customers"}, actor="tester")
    assert after.result.summary == "Customers are already normalized (485 rows checked)."
