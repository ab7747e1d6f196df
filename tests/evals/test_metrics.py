"""Metrics, canonical comparison and dataset validation, checked against hand-computed figures."""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import date
from pathlib import Path

import pytest

from core.errors import BadInput
from evals.dataset import SPLIT_FILES, Example, canonical_value, compare_args, load_examples, split_paths
from evals.metrics import (
    Outcome,
    confusion,
    coverage_curve,
    expected_calibration_error,
    reliability,
    summarize,
)

TODAY = date(2026, 11, 22)
TOOLS = {"run_report": ("report", "period", "region"), "create_order": ("client_id", "product", "quantity")}


def outcome(expected, predicted, confidence, action, expected_args=None, args_ok=None, latency=1.0):
    return Outcome(
        text="t",
        expected_tool=expected,
        predicted_tool=predicted,
        confidence=confidence,
        action=action,
        expected_args=expected_args or {},
        args_ok=args_ok or {},
        latency_ms=latency,
    )


@pytest.fixture
def outcomes() -> list[Outcome]:
    return [
        outcome("run_report", "run_report", 0.9, "execute", {"report": "x"}, {"report": True}, latency=10),
        outcome("run_report", "create_order", 0.8, "confirm", {"report": "x"}, {"report": False}, latency=20),
        outcome(
            "create_order", "create_order", 0.7, "confirm", {"quantity": 3}, {"quantity": False}, latency=30
        ),
        outcome(None, None, 0.95, "refuse", latency=40),
        outcome(None, "run_report", 0.65, "execute", latency=50),
        outcome("create_order", None, 0.3, "refuse", {"quantity": 3}, {"quantity": False}, latency=60),
        outcome(
            "run_report",
            "run_report",
            0.92,
            "execute",
            {"report": "x", "period": "q"},
            {"report": True, "period": True},
            latency=70,
        ),
    ]


def test_summary_figures(outcomes: list[Outcome]) -> None:
    s = summarize(outcomes)
    assert s.n == 7
    assert s.tool_accuracy == pytest.approx(4 / 7)
    assert s.macro_f1 == pytest.approx((2 / 3 + 0.5 + 0.5) / 3)
    assert (s.args_exact_match, s.args_n) == (pytest.approx(2 / 3), 3)
    assert s.oos_precision == pytest.approx(0.5)
    assert s.oos_recall == pytest.approx(0.5)
    assert s.false_refusal_rate == pytest.approx(1 / 5)
    assert (s.auto_execute_share, s.confirm_share, s.refuse_share) == pytest.approx((3 / 7, 2 / 7, 2 / 7))
    assert (s.approve_share, s.clarify_share) == (0.0, 0.0)
    assert s.auto_execute_accuracy == pytest.approx(2 / 3)
    assert s.wrong_auto_execution_rate == pytest.approx(1 / 7)
    assert s.wrong_confirm_rate == pytest.approx(2 / 7)
    assert s.wrong_execution_rate == pytest.approx(3 / 7)
    assert s.ece == pytest.approx((2 * 0.09 + 0.8 + 0.7 + 0.05 + 0.65 + 0.3) / 7)
    assert s.latency_ms_p50 == 40
    assert s.latency_ms_p95 == pytest.approx(67)
    assert (s.n_in_scope, s.n_oos, s.errors) == (5, 2, 4)
    scores = {name: (t.precision, t.recall, t.support, t.predicted) for name, t in s.per_tool.items()}
    assert scores == {
        "create_order": (0.5, 0.5, 2, 2),
        "run_report": (pytest.approx(2 / 3), pytest.approx(2 / 3), 3, 3),
        "none": (0.5, 0.5, 2, 2),
    }
    assert s.per_tool["run_report"].args_exact_match == 1.0
    assert s.per_tool["create_order"].args_exact_match == 0.0
    assert s.per_argument == {
        "create_order.quantity": {"accuracy": 0.0, "n": 1},
        "run_report.period": {"accuracy": 1.0, "n": 1},
        "run_report.report": {"accuracy": 1.0, "n": 2},
    }


def test_confusion_matrix_rows_are_expected(outcomes: list[Outcome]) -> None:
    labels, matrix = confusion(outcomes)
    assert labels == ["create_order", "run_report", "none"]
    assert matrix == [[1, 0, 1], [1, 2, 0], [0, 1, 1]]


def test_coverage_curve_and_reliability(outcomes: list[Outcome]) -> None:
    conf = [o.confidence for o in outcomes]
    ok = [o.correct for o in outcomes]
    points = {
        p.threshold: (p.coverage, p.accuracy, p.n)
        for p in coverage_curve(conf, ok, thresholds=[0, 0.7, 0.9, 0.99])
    }
    assert points == {
        0: (1.0, pytest.approx(3 / 7), 7),
        0.7: (5 / 7, 0.6, 5),
        0.9: (3 / 7, 1.0, 3),
        0.99: (0.0, None, 0),
    }
    bins = reliability(conf, ok)
    assert len(bins) == 15 and sum(b.n for b in bins) == 7
    assert [(b.n, b.accuracy) for b in bins if b.n][-2:] == [(2, 1.0), (1, 1.0)]


def test_ece_edges() -> None:
    assert expected_calibration_error([], []) is None
    assert expected_calibration_error([1.0, 1.0], [True, True]) == 0.0
    assert expected_calibration_error([1.0, 0.0], [False, True]) == pytest.approx(1.0)


def test_empty_denominators_are_none() -> None:
    s = summarize([outcome("run_report", "run_report", 0.9, "execute")])
    assert (s.oos_recall, s.oos_precision, s.args_exact_match, s.auto_execute_accuracy) == (
        None,
        None,
        None,
        1.0,
    )


@pytest.mark.parametrize(
    ("name", "expected", "got"),
    [
        ("quantity", 12, "12"),
        ("quantity", 12, 12.0),
        ("query", "Acme Logistics", "  acme logistics "),
        ("query", "1042", 1042),
        ("period", "this_year", "2026-01-01..2026-11-22"),
        ("period", "last_month", "2026-10-01..2026-10-31"),
        ("period", "2026-07-01..2026-09-30", "2026-07-01..2026-09-30"),
        ("cron", "30 9 * * 1", "30  9 * *  1"),
        ("dry_run", False, False),
    ],
)
def test_canonical_values_match(name: str, expected: object, got: object) -> None:
    assert compare_args({name: expected}, {name: got}, today=TODAY) == {name: True}


@pytest.mark.parametrize(
    ("name", "expected", "got"),
    [
        ("quantity", 12, 13),
        ("period", "this_year", "last_year"),
        ("period", "this_month", "2026-11-01..2026-11-21"),
        ("cron", "0 6 * * *", "0 7 * * *"),
        ("dry_run", False, True),
        ("dry_run", True, 1),
        ("region", "emea", None),
    ],
)
def test_canonical_values_differ(name: str, expected: object, got: object) -> None:
    assert compare_args({name: expected}, {name: got}, today=TODAY) == {name: False}


def test_missing_argument_is_wrong_and_period_depends_on_today() -> None:
    assert compare_args({"region": "emea"}, {}, today=TODAY) == {"region": False}
    assert canonical_value("period", "this_year", today=date(2026, 3, 1)) == (
        date(2026, 1, 1),
        date(2026, 3, 1),
    )


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_examples_with_context(tmp_path: Path) -> None:
    row = {
        "text": "now emea",
        "tool": "run_report",
        "args": {"region": "emea"},
        "context": [
            {"role": "user", "text": "sales by region"},
            {"role": "assistant", "tool": "run_report", "args": {"report": "sales_by_region"}},
        ],
    }
    path = write(tmp_path, json.dumps(row), "", json.dumps({"text": "hi", "tool": None, "args": {}}))
    first, second = load_examples([path], tools=TOOLS)
    assert first.source == f"{path}:1" and second.source == f"{path}:3"
    assert [t.role for t in first.context] == ["user", "assistant"]
    assert first.context[1].args == {"report": "sales_by_region"}
    assert second == Example(text="hi", tool=None, args={}, context=(), source=f"{path}:3")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "x", "tool": "run_report", "args": {}', r"set.jsonl:2: not valid JSON"),
        ('{"text": "x", "tool": "make_coffee", "args": {}}', r"set.jsonl:2: unknown tool 'make_coffee'"),
        (
            '{"text": "x", "tool": "run_report", "args": {"colour": 1}}',
            r"set.jsonl:2: run_report has no argument",
        ),
        ('{"text": "", "tool": null, "args": {}}', r"set.jsonl:2: 'text' must be a non-empty string"),
        ('{"text": "x", "tool": null, "args": {}, "extra": 1}', r"set.jsonl:2: unknown keys \['extra'\]"),
        (
            '{"text": "x", "tool": null, "args": {}, "context": [{"role": "bot"}]}',
            r"set.jsonl:2: context turn 1",
        ),
        ('["text"]', r"set.jsonl:2: each line must be a JSON object"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, '{"text": "ok", "tool": null, "args": {}}', line)
    with pytest.raises(BadInput, match=message):
        load_examples([path], tools=TOOLS)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"dataset file .*nope.jsonl does not exist"):
        load_examples([tmp_path / "nope.jsonl"])
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"empty.jsonl holds no examples"):
        load_examples([tmp_path / "empty.jsonl"])


def test_project_splits_load_without_errors() -> None:
    dev = load_examples(split_paths("dev"))
    test = load_examples(split_paths("test"))
    assert len(dev) == 9527 and len(test) == 413
    # Written by different hands: the only texts they share are a few short follow-ups found independently
    # (evals/README.md lists them; a look reports the test split with and without them).
    shared = {e.text.casefold() for e in dev} & {e.text.casefold() for e in test}
    assert len(shared) <= 7 and all(len(text.split()) <= 6 for text in shared), shared
    with pytest.raises(BadInput, match="unknown split 'train'"):
        split_paths("train")


def test_every_summary_key_is_documented() -> None:
    from evals.summary import Summary

    readme = (Path(__file__).resolve().parents[2] / "evals" / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", readme, flags=re.MULTILINE))
    assert documented == set(Summary.model_fields)


def test_the_stdlib_checker_lists_the_same_split_files() -> None:
    # check.py runs before anything is installed, so it keeps its own copy of the split table; they must agree.
    path = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "switchboard" / "check.py"
    spec = importlib.util.spec_from_file_location("switchboard_dataset_check", path)
    assert spec is not None and spec.loader is not None
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)
    assert {k: tuple(v) for k, v in checker.SPLIT_FILES.items()} == dict(SPLIT_FILES)
