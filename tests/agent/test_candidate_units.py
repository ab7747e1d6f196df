"""Candidate routers in parts: the gate's rule, the held-out split, the training set, the pointer, the CLI's refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.modelops.candidate_gate import check_metric
from agent.modelops.candidate_models import CandidateRecipe, LivePointer
from agent.modelops.candidate_store import read_pointer, router_folder, write_pointer
from agent.modelops.candidate_train import build_training_set, is_held_out
from agent.modelops.reviewed import ReviewedSet
from core.errors import BadInput
from switchboard.cli import app
from tests.utils.candidates import reviewed


@pytest.mark.parametrize(
    ("metric", "live", "candidate", "passed"),
    [
        ("tool_accuracy", 0.95, 0.94, True),  # exactly the tolerance worse
        ("tool_accuracy", 0.95, 0.935, False),
        ("oos_recall", 0.90, 0.95, True),
        ("false_refusal_rate", 0.02, 0.03, True),
        ("false_refusal_rate", 0.02, 0.035, False),  # lower is better: a rise refuses
        ("ece", 0.05, 0.01, True),
        ("ece", 0.02, 0.04, False),
    ],
)
def test_a_metric_refuses_only_when_worse_beyond_its_tolerance(
    metric: str, live: float, candidate: float, passed: bool
) -> None:
    check = check_metric(
        split="dev",
        metric=metric,  # type: ignore[arg-type]
        live=live,
        candidate=candidate,
        tolerance=0.01,
        support=1467,
    )
    assert (check.passed, check.gated) == (passed, True)
    assert check.delta == pytest.approx(candidate - live)


def test_a_metric_on_too_few_examples_or_undefined_is_shown_but_cannot_refuse() -> None:
    few = check_metric(split="reviewed", metric="ece", live=0.02, candidate=0.3, tolerance=0.01, support=99)
    undefined = check_metric(
        split="reviewed", metric="oos_recall", live=None, candidate=0.5, tolerance=0.01, support=0
    )
    assert (few.gated, few.passed, few.name) == (False, True, "ece (reviewed)")
    assert (undefined.gated, undefined.passed, undefined.delta) == (False, True, None)


def test_the_held_out_split_is_stable_and_about_its_share() -> None:
    examples = [reviewed(i, f"message {i}", "run_report") for i in range(2000)]
    held = [e.id for e in examples if is_held_out(e, percent=20)]
    assert held == [e.id for e in examples if is_held_out(e, percent=20)]
    assert 0.17 < len(held) / len(examples) < 0.23


def test_the_training_set_drops_locked_lines_and_unknown_tools_and_relabels_base_examples() -> None:
    recipe = CandidateRecipe(base_every=60, held_out_percent=1)
    base = build_training_set(ReviewedSet(0, None, "", ()), recipe=recipe, locked_texts=[])
    text, label = base.texts[0], base.labels[0]
    other = "lookup_customer" if label != "lookup_customer" else "run_report"
    examples = [
        reviewed(1, "Show me  LAST month's sales", "run_report"),  # a dev line, differently spaced and cased
        reviewed(2, "frobnicate the widgets", "no_such_tool"),
        reviewed(3, text.upper(), other),  # the same words as a base example, another tool
        reviewed(4, "how is the weather in lisbon today", None),
    ]
    assert not any(is_held_out(e, percent=1) for e in examples)
    data = build_training_set(
        ReviewedSet(1, None, "abc", tuple(examples)),
        recipe=recipe,
        locked_texts=["show me last month's sales"],
    )
    counts = data.counts.model_dump()
    assert counts == {
        "base": len(base.texts),
        "reviewed": 4,
        "reviewed_train": 2,
        "held_out": 0,
        "dropped_locked": 1,
        "dropped_unknown_tool": 1,
        "relabelled": 1,
    }
    assert data.labels[0] == other
    assert (data.texts[-1], data.labels[-1]) == ("how is the weather in lisbon today", "__out_of_scope__")
    assert data.embeddings.shape[0] == len(data.texts) == len(base.texts) + 1


def test_the_pointer_round_trips_and_a_broken_one_is_named(tmp_path: Path) -> None:
    pointer = LivePointer(
        live="abc123", history=["def456"], updated_at=datetime(2026, 11, 22, tzinfo=UTC), updated_by="ann"
    )
    write_pointer(tmp_path, pointer)
    assert read_pointer(tmp_path) == pointer and pointer.previous == "def456"
    assert [p.name for p in (tmp_path / "routers").iterdir()] == ["LIVE.json"]  # no temporary file left
    (tmp_path / "routers" / "LIVE.json").write_text("{}", encoding="utf-8")
    with pytest.raises(BadInput, match=r"LIVE\.json is not a router pointer"):
        read_pointer(tmp_path)
    with pytest.raises(BadInput, match="is not a router fingerprint"):
        router_folder(tmp_path, "../etc")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'switchboard.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    (tmp_path / "var").mkdir()
    return CliRunner()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["candidates"], 0, "No candidate routers.\n"),
        (["rollback"], 2, "Error: no earlier router to roll back to: no candidate was ever promoted\n"),
        (["shadow"], 2, "Error: give a candidate's fingerprint to shadow, or --off to stop shadowing\n"),
        (["promote", "0123abcd"], 2, "Error: no candidate router 0123abcd under "),
        (["replay", "--day", "yesterday"], 2, "Error: --day 'yesterday' is not a date such as 2026-11-21\n"),
        (
            ["replay", "--day", "2026-11-21"],
            2,
            "Error: no shadow candidate is set; name one with --candidate\n",
        ),
    ],
)
def test_the_cli_says_what_is_wrong(cli: CliRunner, args: list[str], code: int, message: str) -> None:
    result = cli.invoke(app, ["router", *args])
    assert result.exit_code == code, result.output
    assert result.output.startswith(message)
