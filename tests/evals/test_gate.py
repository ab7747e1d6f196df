"""The CI regression gate: synthetic summaries for its rules, then the real embedded backend on test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.errors import BadInput
from evals.gate import (
    BASELINE_SPLIT,
    Baseline,
    Floors,
    baseline_from,
    baseline_path,
    check,
    load_baseline,
    write_baseline,
)
from evals.metrics import Outcome, summarize

BASELINE = Baseline(
    metrics={"tool_accuracy": 0.95, "args_exact_match": 0.90, "oos_recall": 0.92},
    per_tool_f1={"run_report": 0.97, "quote_price": 0.90},
    floors=Floors(per_tool_f1=0.80),
    measured={"n": 500},
)


def current(**changes: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "n": 500,
        "tool_accuracy": 0.95,
        "args_exact_match": 0.90,
        "oos_recall": 0.92,
        "per_tool": {
            "run_report": {"f1": 0.96, "support": 30},
            "quote_price": {"f1": 0.88, "support": 25},
            "none": {"f1": 0.5, "support": 100},
        },
    }
    summary.update(changes)
    return summary


def test_no_regression_within_one_point() -> None:
    result = check(current(tool_accuracy=0.94, args_exact_match=0.895, oos_recall=0.93), BASELINE)
    assert result.ok
    assert result.checked == [
        ("tool_accuracy", 0.95, 0.94),
        ("args_exact_match", 0.90, 0.895),
        ("oos_recall", 0.92, 0.93),
    ]
    assert result.notes == []


def test_regression_detected_and_described() -> None:
    result = check(current(tool_accuracy=0.93, oos_recall=0.80), BASELINE)
    assert not result.ok
    assert [f.describe() for f in result.failures] == [
        "tool_accuracy fell 2.0 points: 95.0 % → 93.0 % (lowest allowed 94.0 %)",
        "oos_recall fell 12.0 points: 92.0 % → 80.0 % (lowest allowed 91.0 %)",
    ]


def test_missing_metric_is_a_regression() -> None:
    result = check(current(args_exact_match=None), BASELINE)
    assert [f.describe() for f in result.failures] == [
        "args_exact_match fell 90.0 points: 90.0 % → missing (lowest allowed 89.0 %)"
    ]


def test_tool_floor_broken() -> None:
    per_tool = {"run_report": {"f1": 0.96, "support": 30}, "quote_price": {"f1": 0.75, "support": 25}}
    result = check(current(per_tool=per_tool), BASELINE)
    assert [f.describe() for f in result.failures] == ["quote_price F1 is 75.0 %, below its floor of 80.0 %"]


def test_tool_that_vanished_breaks_its_floor_and_notes_size_change() -> None:
    result = check(current(n=480, per_tool={"run_report": {"f1": 0.96, "support": 30}}), BASELINE)
    assert [f.describe() for f in result.failures] == ["quote_price F1 is 0.0 %, below its floor of 80.0 %"]
    assert result.notes == ["the baseline was measured on 500 examples, this run has 480"]


def test_per_tool_floors_with_default() -> None:
    floors = BASELINE.model_copy(update={"floors": Floors(per_tool_f1={"default": 0.7, "run_report": 0.97})})
    result = check(current(), floors)
    assert [f.describe() for f in result.failures] == ["run_report F1 is 96.0 %, below its floor of 97.0 %"]


def test_baseline_round_trip(tmp_path: Path) -> None:
    outcomes = [
        Outcome(
            text="a",
            expected_tool="run_report",
            predicted_tool="run_report",
            confidence=0.9,
            expected_args={"report": "x"},
            args_ok={"report": True},
        ),
        Outcome(text="b", expected_tool=None, predicted_tool="run_report", confidence=0.6),
    ]
    summary = summarize(outcomes, backend="scripted", datasets=["x.jsonl"])
    path = write_baseline(baseline_from(summary, floors=Floors(per_tool_f1=0.5)), tmp_path / "baseline.json")
    loaded = load_baseline(path)
    assert loaded.metrics["tool_accuracy"] == 0.5
    assert loaded.metrics["oos_recall"] == 0.0
    assert loaded.per_tool_f1 == {"run_report": pytest.approx(0.6667)}
    assert loaded.measured["n"] == 2 and loaded.measured["datasets"] == ["x.jsonl"]
    assert check(summary, loaded).ok
    assert not check(summary, loaded.model_copy(update={"floors": Floors()})).ok  # default floor 0.80
    worse = summarize(outcomes[1:], backend="scripted")
    assert not check(worse, loaded).ok


def test_bad_baseline_files(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no baseline at .*write-baseline"):
        load_baseline(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"metrics": {"tool_accuracy": "high"}}', encoding="utf-8")
    with pytest.raises(BadInput, match=r"baseline .*bad.json is invalid at metrics.tool_accuracy"):
        load_baseline(bad)


@pytest.mark.slow
@pytest.mark.parametrize("with_db", [False, True], ids=["database-free", "with-db"])
def test_embedded_backend_holds_the_committed_baseline(
    monkeypatch: pytest.MonkeyPatch, with_db: bool
) -> None:
    """The CI gate: the real embedded backend on the dev split against the committed baseline of each mode."""
    monkeypatch.delenv(
        "SWITCHBOARD_CONFIG", raising=False
    )  # the packaged policy, whatever the environment says
    from evals.commands import run
    from evals.dataset import REFERENCE_DATE, split_paths
    from switchboard.settings import DEFAULT_CONFIG, load_settings

    settings = load_settings(config_file=str(DEFAULT_CONFIG), reference_date=REFERENCE_DATE.isoformat())
    settings = settings.model_copy(
        update={"agent": settings.agent.model_copy(update={"backend": "embedded"})}
    )
    result = run(settings, paths=split_paths(BASELINE_SPLIT), today=REFERENCE_DATE, with_db=with_db)
    baseline = load_baseline(baseline_path(with_db=with_db))
    gate = check(result.summary, baseline)
    assert gate.ok, "\n".join(f.describe() for f in gate.failures)
    assert result.summary.n == baseline.measured["n"]
