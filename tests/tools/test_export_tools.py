"""export_dataset through the ToolRunner: the artifact belongs to the run; the preview names the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from core.errors import BadInput
from flows.export.exporter import find_artifact
from switchboard.settings import Settings
from tests.utils.factories import seed_basic
from tools import exports
from tools.exports import ExportDatasetArgs
from tools.registry import Registry
from tools.runtime import ToolRunner


def _runner(settings: Settings, engine: Engine) -> ToolRunner:
    return ToolRunner(settings=settings, engine=engine, registry=Registry(list(exports.TOOLS)))


def test_export_dataset_tool(settings: Settings, any_engine: Engine) -> None:
    seed_basic(any_engine)
    runner = _runner(settings, any_engine)
    spec = runner.registry["export_dataset"]
    assert spec.preview is not None
    preview = spec.preview(
        runner.context(actor="ana"), ExportDatasetArgs(dataset="orders", format="dat", period="last_month")
    )
    assert (preview.summary, preview.rows_affected, preview.file_name) == (
        "It would write 1 row of orders to orders_2026-10.dat.",
        1,
        "orders_2026-10.dat",
    )
    assert not settings.artifacts.exists()

    execution = runner.call(
        "export_dataset", {"dataset": "orders", "format": "dat", "period": "last_month"}, actor="ana"
    )
    assert execution.run is not None
    artifact = find_artifact(any_engine, "latest")
    assert execution.result.artifact_ids == [artifact.id]
    assert artifact.run_id == execution.run.id
    assert Path(artifact.path) == settings.artifacts / "orders_2026-10.dat"
    assert execution.result.summary == (
        f"Exported as artifact {artifact.id}: 1 row of orders in orders_2026-10.dat (96 bytes, "
        f"sha256 {artifact.sha256[:12]}…)."
    )
    assert execution.result.data["reused"] is False

    again = runner.call(
        "export_dataset", {"dataset": "orders", "format": "dat", "period": "last_month"}, actor="ana"
    )
    assert again.result.artifact_ids == [artifact.id]
    assert again.result.summary.startswith(f"Unchanged since artifact {artifact.id}:")


def test_export_defaults_and_bad_arguments(settings: Settings, engine: Engine) -> None:
    args = ExportDatasetArgs(dataset="customers")
    assert (args.format, args.period) == ("csv", None)
    runner = _runner(settings, engine)
    with pytest.raises(BadInput, match="'format'"):
        runner.call("export_dataset", {"dataset": "orders", "format": "xlsx"}, actor="ana")
    with pytest.raises(BadInput, match="'dataset'"):
        runner.call("export_dataset", {"dataset": "invoices"}, actor="ana")
    with pytest.raises(BadInput, match="a period applies to orders and sales_by_region only"):
        runner.call("export_dataset", {"dataset": "customers", "period": "last_month"}, actor="ana")
