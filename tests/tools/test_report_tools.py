"""run_report through the ToolRunner: typed arguments, table, chart, audit; bad arguments rejected."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from core.errors import BadInput
from core.store.audit import AuditLog
from switchboard.settings import Settings
from tests.utils.factories import seed_basic
from tools import reports
from tools.registry import Registry
from tools.reports import RunReportArgs
from tools.runtime import ToolRunner

PNG = b"\x89PNG\r\n\x1a\n"


def _runner(settings: Settings, engine: Engine) -> ToolRunner:
    return ToolRunner(settings=settings, engine=engine, registry=Registry(list(reports.TOOLS)))


def test_run_report_returns_table_chart_and_data(settings: Settings, any_engine: Engine) -> None:
    seed_basic(any_engine)
    execution = _runner(settings, any_engine).call(
        "run_report", {"report": "sales_by_region", "period": "last_30_days", "region": "emea"}, actor="ana"
    )
    result = execution.result
    assert execution.run is None  # a read: audited, no run
    assert result.summary == (
        "Sales by region for the last 30 days (2026-10-24 to 2026-11-22), EMEA: revenue 230.00; top region emea."
    )
    assert result.table is not None
    assert result.table.model_dump() == {
        "title": "Sales by region — the last 30 days (2026-10-24 to 2026-11-22), EMEA",
        "columns": ["region", "orders", "units", "revenue", "share_pct"],
        "rows": [["emea", 3, 17, 230.0, 100.0]],
    }
    assert result.chart_path == str(
        settings.artifacts / "charts" / "sales_by_region_2026-10-24_2026-11-22_emea.png"
    )
    assert Path(result.chart_path).read_bytes().startswith(PNG)
    assert result.data == {
        "report": "sales_by_region",
        "period": "last_30_days",
        "start": "2026-10-24",
        "end": "2026-11-22",
        "region": "emea",
        "rows": 1,
    }
    record = list(AuditLog(any_engine).iter_records())[-1]
    assert (record.event, record.actor, record.subject) == ("tool.call", "ana", "tool:run_report")


def test_defaults_and_data_quality_score(settings: Settings, engine: Engine) -> None:
    seed_basic(engine)
    args = RunReportArgs(report="data_quality")
    assert (args.period, args.region, args.limit) == ("last_30_days", None, 10)
    result = _runner(settings, engine).call("run_report", {"report": "data_quality"}, actor="ana").result
    assert result.data["score"] == 0.8722
    top = (
        _runner(settings, engine)
        .call("run_report", {"report": "top_customers", "period": " Last_Month ", "limit": 1}, actor="ana")
        .result
    )
    assert top.table is not None and top.table.rows == [[4, "Delta Freight", "north_america", 1, 500.0]]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"report": "sales_by_country"}, "'report'.* 'sales_by_region', 'sales_by_product'"),
        ({"report": "sales_by_region", "region": "europe"}, "'region'.* 'emea', 'apac', 'latam'"),
        ({"report": "sales_by_region", "period": "last_decade"}, "'period'.*unknown period 'last_decade'"),
        ({"report": "top_customers", "limit": 0}, "'limit'.*greater than or equal to 1"),
        ({"report": "top_customers", "limit": 101}, "'limit'.*less than or equal to 100"),
        ({"report": "top_customers", "colour": "red"}, "unknown argument 'colour'"),
    ],
)
def test_bad_arguments_are_rejected(
    settings: Settings, engine: Engine, raw: dict[str, object], message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        _runner(settings, engine).call("run_report", raw, actor="ana")
    assert not (settings.artifacts / "charts").exists()
