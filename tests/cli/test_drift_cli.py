"""``switchboard drift``: the week's report as JSON and as a table, alerts once, bad ranges said in words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from core.store.db import make_engine
from core.store.schema import init_db
from switchboard.cli import app
from tests.utils.drift import seed_baseline, seed_week
from tests.utils.servers.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
WEEK = ["drift", "--window", "week", "--since", "2026-11-16", "--until", "2026-11-23"]


@pytest.fixture
def week_db(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{cli_env}")
    init_db(engine)
    seed_baseline(cli_env.parent)
    seed_week(engine, monkeypatch)
    yield engine
    engine.dispose()


def test_drift_json_names_the_flagged_tool_and_its_measures(week_db: Engine) -> None:
    result = CliRunner().invoke(app, [*WEEK, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["flagged"] == ["apply_rules"]
    assert [w["label"] for w in report["windows"]] == ["2026-W47"]
    window = report["windows"][0]
    assert [(f["scope"], f["measure"]) for f in window["flags"]] == [
        ("apply_rules", "correction_rate"),
        ("apply_rules", "confidence_drop"),
        ("apply_rules", "psi"),
    ]
    drifting = next(t for t in window["tools"] if t["scope"] == "apply_rules")
    assert drifting["decisions"] == 70 and drifting["corrections"]["declined"] == 9
    assert report["baseline"]["source"] == "test dev split" and report["alerts"] == []


def test_drift_table_and_alert_once(
    week_db: Engine, cli_env: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer
) -> None:
    config = (ROOT / "switchboard" / "defaults.yaml").read_text()
    config = config.replace("port: 2525", f"port: {smtp_server.port}").replace("attempts: 4", "attempts: 1")
    (cli_env.parent / "switchboard.yaml").write_text(config)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(cli_env.parent / "switchboard.yaml"))
    first = CliRunner().invoke(app, [*WEEK, "--alert"])
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0].split() == [
        "Window",
        "Tool",
        "Decisions",
        "Confidence",
        "vs",
        "baseline",
        "PSI",
        "Corrected",
        "Asked",
        "back",
        "Refused",
        "Escalated",
        "Flagged",
    ]
    row = next(line for line in lines if " apply_rules " in line).split()
    assert row == [
        "2026-W47",
        "apply_rules",
        "70",
        "0.68",
        "-0.18",
        "1.31",
        "21",
        "(30%)",
        "30%",
        "0%",
        "0%",
        "correction_rate,",
        "confidence_drop,",
        "psi",
    ]
    quiet = next(line for line in lines if " run_report " in line).split()
    assert quiet[:8] == ["2026-W47", "run_report", "70", "0.86", "+0.00", "0.00", "1", "(1%)"]
    assert len(quiet) == 11  # nothing flagged
    assert (
        "FLAGGED apply_rules in 2026-W47: correction rate 30% (21 of 70 decisions), threshold 15%"
        in first.stdout
    )
    assert "Alerted ops: apply_rules in 2026-W47" in first.stderr
    second = CliRunner().invoke(app, [*WEEK, "--alert"])
    assert "Already alerted: apply_rules in 2026-W47" in second.stderr
    mails = smtp_server.wait_for(1)
    assert [m.rcpt_tos for m in mails] == [["ops@example.com"]]  # the second run sent nothing
    assert "Model drift: apply_rules in 2026-W47: correction rate 30%" in mails[0].message.get_content()


def test_a_bad_range_is_said_in_words(cli_env: Path) -> None:
    seed_baseline(cli_env.parent)
    result = CliRunner().invoke(app, ["drift", "--since", "next tuesday"])
    assert result.exit_code == 2
    assert "--since 'next tuesday' is not an ISO date such as 2026-11-01" in result.stderr
