"""The core acceptance path through the real CLI: demo, flows, tools, runs, audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from switchboard.cli import app
from tests.utils.servers.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'switchboard.db'}")
    monkeypatch.setenv("SWITCHBOARD_REFERENCE_DATE", "2026-11-22")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def _ok(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def with_mail_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer) -> None:
    """Point the CLI's config at the loopback mail server, with no retry delays."""
    config = (ROOT / "switchboard" / "defaults.yaml").read_text()
    config = config.replace("port: 2525", f"port: {smtp_server.port}").replace("attempts: 4", "attempts: 1")
    (tmp_path / "switchboard.yaml").write_text(config)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(tmp_path / "switchboard.yaml"))


def test_demo_then_nightly_export_is_delivered_and_audited(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer
) -> None:
    with_mail_server(tmp_path, monkeypatch, smtp_server)
    out = _ok(cli, "demo")
    assert "Demo data loaded" in out
    out = _ok(cli, "flows", "run", "nightly_sales_export")
    assert "Flow nightly_sales_export finished: 3 of 3 steps succeeded." in out
    assert "Run 1: succeeded" in out
    delivered = list((tmp_path / "var" / "share" / "finance").glob("sales_by_region_*.csv"))
    assert len(delivered) == 1
    assert delivered[0].read_text().splitlines()[0].startswith("region")
    runs = _ok(cli, "runs")
    assert "nightly_sales_export" in runs
    verify = _ok(cli, "audit", "verify")
    assert verify.startswith("OK: ")


def test_a_flow_whose_notification_failed_exits_1_and_is_listed_as_failed(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer
) -> None:
    with_mail_server(tmp_path, monkeypatch, smtp_server)
    _ok(cli, "demo")
    smtp_server.fail_next("550 5.1.1 Mailbox unavailable")

    result = cli.invoke(app, ["flows", "run", "nightly_sales_export"])

    assert result.exit_code == 1, result.output
    assert "Flow nightly_sales_export finished: 2 of 3 steps succeeded." in result.output
    assert "Run 1: partial" in result.output
    assert (
        "Error: flow nightly_sales_export partly failed in run 1: step 3 (send_notification) failed: "
        "notification to finance failed for email:finance@example.com: the mail server at "
        f"127.0.0.1:{smtp_server.port} answered 550 5.1.1 Mailbox unavailable\n"
    ) in result.output
    header, *rows = _ok(cli, "runs", "--failed").splitlines()
    # One row: the flow run, which names its step; the step's own run is not listed.
    assert header.split() == ["id", "name", "status", "attempt", "actor", "created", "duration_ms", "error"]
    assert [row.split()[:5] for row in rows] == [["1", "nightly_sales_export", "partial", "1", "cli"]]
    assert "nightly_sales_export" not in _ok(cli, "runs", "--status", "succeeded")


def test_tools_call_prints_a_table_and_saves_the_chart(cli: CliRunner, tmp_path: Path) -> None:
    _ok(cli, "demo")
    out = _ok(cli, "tools", "call", "run_report", "--report", "sales_by_region", "--period", "last_month")
    for region in ("emea", "apac", "latam", "north_america"):
        assert region in out
    charts = list((tmp_path / "var" / "artifacts" / "charts").glob("sales_by_region_*.png"))
    assert charts and charts[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wrong_argument_gets_a_clear_message(cli: CliRunner) -> None:
    _ok(cli, "demo")
    result = cli.invoke(app, ["tools", "call", "run_report", "--report", "sales_by_planet"])
    assert result.exit_code == 2
    assert "Error: run_report: 'report' should be 'sales_by_region'" in result.output
    assert "Traceback" not in result.output
    result = cli.invoke(
        app, ["tools", "call", "run_report", "--report", "sales_by_region", "--colour", "red"]
    )
    assert result.exit_code == 2 and "unknown argument 'colour'" in result.output
    result = cli.invoke(app, ["flows", "run", "nightly_export"])
    assert (
        result.exit_code == 2 and "Error: run_flow: 'flow' should be 'nightly_sales_export'" in result.output
    )


def test_every_catalogue_tool_is_callable_with_typed_arguments(cli: CliRunner) -> None:
    out = _ok(cli, "tools", "list")
    for name in (
        "run_report",
        "lookup_customer",
        "quote_price",
        "get_run_status",
        "list_runs",
        "list_pending_approvals",
        "explain_rule",
        "ingest_file",
        "normalize_dataset",
        "apply_rules",
        "export_dataset",
        "run_flow",
        "retry_run",
        "schedule_flow",
        "create_order",
        "deliver_file",
        "send_notification",
    ):
        assert name in out
    schema = json.loads(_ok(cli, "tools", "schema", "quote_price"))
    assert schema[0]["function"]["parameters"]["required"] == ["client_id", "product", "quantity"]


def test_ingest_bad_path_is_refused_and_audited(cli: CliRunner) -> None:
    _ok(cli, "demo")
    result = cli.invoke(
        app, ["tools", "call", "ingest_file", "--path", "../../etc/passwd", "--dataset", "orders"]
    )
    assert result.exit_code == 2 and "'..' is not allowed in the path" in result.output
    assert "Traceback" not in result.output
    tail = _ok(cli, "audit", "tail", "--limit", "5")
    assert "tool.rejected" in tail


def test_audit_verify_fails_on_tampering(cli: CliRunner, tmp_path: Path) -> None:
    import sqlite3

    _ok(cli, "demo")
    with sqlite3.connect(tmp_path / "var" / "switchboard.db") as conn:
        conn.execute("UPDATE audit_record SET actor = 'mallory' WHERE seq = 1")
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at record 1: its content does not match its hash" in result.output


def test_audit_export_ends_with_chain_head(cli: CliRunner, tmp_path: Path) -> None:
    _ok(cli, "demo")
    _ok(cli, "audit", "export", "--since", "2000-01-01", "--out", str(tmp_path / "audit.jsonl"))
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert "chain_head" in json.loads(lines[-1])
    result = cli.invoke(app, ["audit", "export", "--since", "yesterday-ish"])
    assert result.exit_code == 2 and "is not an ISO date" in result.output


def test_chat_repl_answers_offline(cli: CliRunner) -> None:
    _ok(cli, "demo")
    out = _ok(
        cli,
        "chat",
        "--as",
        "olive",
        "-m",
        "show me last month's sales by region",
        "-m",
        "now just EMEA",
        "-m",
        "what's the weather in Lisbon",
        "-m",
        "export last month's orders as csv",
    )
    assert "what I ran: run_report(report=sales_by_region, period=last_month" in out
    assert "what I ran: run_report(report=sales_by_region, period=last_month, region=emea" in out
    # Nothing ran for the weather, and the export waits for a yes: neither says what it ran (issue 17).
    assert out.count("what I ran:") == 2 and "export_dataset(" not in out
