"""The scale benchmark end to end at a tiny size: 10 % more orders than the demo, on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.scale import TODAY, bench_scale, periods, print_table
from core.vocabulary import REPORTS

pytestmark = pytest.mark.slow


def test_the_demo_grows_through_daily_files_and_every_measure_is_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = bench_scale(factor=1.1, url=f"sqlite:///{tmp_path / 'scale.db'}", iterations=2, turns=2)

    (db,) = result["databases"]
    assert result["factors"] == [1.0, 1.1]
    assert [step["orders"] for step in db["steps"]] == [20_000, 22_000]
    first, top = db["steps"]
    assert first["ingest"] == {"files": 0, "rows": 0, "rows_per_s": None}
    # One file per day that got an order; never more than the 18 months' days.
    assert top["ingest"]["rows"] == 2_000
    assert 400 < top["ingest"]["files"] <= 549
    assert db["scattered"]["rows"] == 2_200
    assert db["scattered"]["at_orders"] == 22_000
    cells = {(cell["report"], cell["period"]) for cell in top["reports"]["cells"]}
    assert cells == {(report, period) for report in REPORTS for period in periods(TODAY)}
    assert set(top["reports"]["per_report_worst_ms"]) == set(REPORTS)
    assert top["verify"]["ok"] is True
    assert top["verify"]["records"] > top["ingest"]["files"]  # one audit record per ingested file at least
    assert top["export"]["rows"] > 0
    assert top["turn_p95_ms"] > 0
    assert db["ingest_ratio"] is None  # no 200k step at this size
    print_table(result)
    assert "scattered file (2,200 rows at 22,000 orders)" in capsys.readouterr().out
