"""The runner goes through the runtime planner; reports and threshold tuning work on its outcomes."""

from __future__ import annotations

import difflib
import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from agent.backends.base import Turn
from agent.policy import Policy
from core.errors import BadInput
from evals.dataset import Example
from evals.metrics import Outcome
from evals.report import write_report
from evals.runner import evaluate
from evals.summary import Summary
from evals.tune import bump_version, propose, write_thresholds
from switchboard.settings import DEFAULT_CONFIG, Settings, load_settings
from tests.evals.fakes import ScriptedBackend, decision
from tools.registry import Registry

TODAY = date(2026, 11, 22)
CONTEXT = (
    Turn(role="user", text="sales by region"),
    Turn(role="assistant", tool="run_report", args={"report": "sales_by_region"}),
)
EXAMPLES = [
    Example(
        "sales by region", "run_report", {"report": "sales_by_region", "period": "last_30_days"}, source="a:1"
    ),
    Example("now emea", "run_report", {"report": "sales_by_region", "region": "emea"}, CONTEXT, source="a:2"),
    Example(
        "order 5 B200 for 1042",
        "create_order",
        {"client_id": 1042, "product": "B200", "quantity": 5},
        source="a:3",
    ),
    Example("send it to the bank", "deliver_file", {"destination": "bank_sftp"}, source="a:4"),
    Example("order some stuff", "create_order", {}, source="a:5"),
    Example("tell me a joke", None, source="a:6"),
    Example("order 7 C-55 for 9", "create_order", {"quantity": 7}, source="a:7"),
]


def scripted() -> ScriptedBackend:
    return ScriptedBackend(
        decision("run_report", 0.9, report="sales_by_region"),
        decision("run_report", 0.7, report="sales_by_region", region="apac"),
        decision("create_order", 0.9, client_id="1042", product="b200", quantity=5.0),
        decision("deliver_file", 0.95, file="latest", destination="bank_sftp"),
        decision("create_order", 0.9, product="B200"),
        decision(None, 0.8),
        decision("create_order", 0.5, client_id=9, product="C-55", quantity=7),
    )


def test_outcomes_follow_the_runtime_policy(registry: Registry, settings: Settings) -> None:
    backend = scripted()
    result = evaluate(EXAMPLES, backend=backend, registry=registry, settings=settings, today=TODAY)
    got = [(o.predicted_tool, o.action, o.correct, o.needs_input) for o in result.outcomes]
    assert got == [
        ("run_report", "execute", True, False),  # the unstated default period is what would run
        ("run_report", "execute", False, False),  # wrong region
        ("create_order", "confirm", True, False),  # "1042" == 1042, "b200" == "B200", 5.0 == 5
        ("deliver_file", "approve", True, False),
        ("create_order", "clarify", True, True),  # missing client_id and quantity: asked back
        (None, "refuse", True, False),
        ("create_order", "clarify", True, False),  # below the write confirm threshold 0.85
    ]
    assert [r.context for r in backend.requests][1] == list(CONTEXT)
    assert {r.today for r in backend.requests} == {TODAY}
    assert backend.requests[0].allowed_tools == ["run_report", "create_order", "deliver_file"]
    s = result.summary
    assert (s.backend, s.model, s.policy_version, s.role) == ("scripted", "script-1", "2026.11-1", "operator")
    assert s.auto_execute_share == pytest.approx(2 / 7)
    assert s.wrong_auto_execution_rate == pytest.approx(1 / 7)
    assert s.wrong_execution_rate == pytest.approx(1 / 7)
    assert s.clarify_share == pytest.approx(2 / 7)
    assert s.per_argument["run_report.region"] == {"accuracy": 0.0, "n": 1}
    assert all(o.latency_ms >= 0 for o in result.outcomes)
    assert [e.source for e in result.errors] == ["a:2"]


def test_report_files_are_self_contained(registry: Registry, settings: Settings, tmp_path: Path) -> None:
    result = evaluate(
        EXAMPLES, backend=scripted(), registry=registry, settings=settings, today=TODAY, datasets=["a.jsonl"]
    )
    files = write_report(result, tmp_path / "out")
    assert sorted(files) == sorted(
        [
            "report.md",
            "report.html",
            "reliability.png",
            "coverage.png",
            "confusion.png",
            "summary.json",
            "errors.jsonl",
        ]
    )
    for name in ("reliability.png", "coverage.png", "confusion.png"):
        assert files[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = files["report.html"].read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 3
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert Summary.model_validate_json(files["summary.json"].read_text()) == result.summary
    errors = [json.loads(line) for line in files["errors.jsonl"].read_text().splitlines()]
    assert errors == [
        {
            "source": "a:2",
            "text": "now emea",
            "expected": {"tool": "run_report", "args": {"report": "sales_by_region", "region": "emea"}},
            "got": {"tool": "run_report", "args": {"report": "sales_by_region", "region": "apac"}},
            "confidence": 0.7,
            "action": "execute",
            "wrong_args": ["region"],
        }
    ]
    markdown = files["report.md"].read_text(encoding="utf-8")
    assert "| tool accuracy | 100.0 % |" in markdown
    assert "| argument exact-match | 80.0 % (n=5) |" in markdown
    assert "![confusion.png](confusion.png)" in markdown


def tune_outcomes() -> list[Outcome]:
    def o(risk: str, conf: float, ok: bool) -> Outcome:
        return Outcome(
            text="t", expected_tool="x" if ok else "y", predicted_tool="x", confidence=conf, risk=risk
        )

    return (
        [o("read", c, True) for c in (0.95, 0.9, 0.8, 0.7)]
        + [o("read", 0.75, False)]
        + [o("write", c, True) for c in (0.99, 0.9)]
        + [o("write", 0.6, False)]
        + [o("external", 0.97, False)]
    )


def test_propose_reaches_target_per_risk(settings: Settings) -> None:
    proposals = {p.risk: p for p in propose(tune_outcomes(), settings.policy, target=0.99)}
    read, write, external = proposals["read"], proposals["write"], proposals["external"]
    assert (read.key, read.current, read.proposed, read.precision, read.passed, read.candidates) == (
        "execute",
        0.6,
        0.76,
        1.0,
        3,
        5,
    )
    assert read.coverage == pytest.approx(3 / 5)
    assert read.current_precision == pytest.approx(4 / 5)
    assert (write.key, write.proposed, write.passed) == ("confirm", 0.61, 2)
    assert (external.key, external.proposed, external.reached) == ("confirm", None, False)


def test_write_thresholds_keeps_the_rest_of_the_file(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "switchboard.yaml"
    shutil.copy(DEFAULT_CONFIG, config)
    before = config.read_text(encoding="utf-8")
    version = write_thresholds(
        config, propose(tune_outcomes(), settings.policy), settings.policy, packaged=DEFAULT_CONFIG
    )
    assert version == "2026.11-2"
    after = config.read_text(encoding="utf-8")
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == [
        '-  version: "2026.11-1"',
        '+  version: "2026.11-2"',
        "-    read: {execute: 0.6}",
        "-    write: {confirm: 0.85}",
        "+    read: {execute: 0.76}",
        "+    write: {confirm: 0.61}",
    ]
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config))
    reloaded = load_settings().policy
    assert reloaded.version == "2026.11-2"
    assert reloaded.risks["read"].execute == 0.76
    assert reloaded.risks["write"].confirm == 0.61
    assert reloaded.risks["external"] == settings.policy.risks["external"]  # unreachable: untouched
    assert reloaded.tools == settings.policy.tools


def test_write_thresholds_refuses_the_packaged_default(settings: Settings) -> None:
    with pytest.raises(BadInput, match="refusing to edit the packaged default config .*SWITCHBOARD_CONFIG"):
        write_thresholds(
            DEFAULT_CONFIG,
            propose(tune_outcomes(), settings.policy),
            settings.policy,
            packaged=DEFAULT_CONFIG,
        )


def test_write_thresholds_creates_a_full_policy_section(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "small.yaml"
    config.write_text("# mine\nmax_attempts: 5\n", encoding="utf-8")
    assert (
        write_thresholds(
            config,
            propose(tune_outcomes(), settings.policy),
            Policy(settings.policy).config,
            packaged=DEFAULT_CONFIG,
        )
        == "2026.11-2"
    )
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config))
    reloaded = load_settings()
    assert reloaded.max_attempts == 5
    assert reloaded.policy.risks["external"].approve is True
    assert reloaded.policy.risks["read"].execute == 0.76
    assert config.read_text().startswith("# mine\n")


@pytest.mark.parametrize(
    ("old", "new"), [("2026.11-1", "2026.11-2"), ("1", "2"), ("v9", "v10"), ("beta", "beta-1")]
)
def test_bump_version(old: str, new: str) -> None:
    assert bump_version(old) == new
