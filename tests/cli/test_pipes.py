"""The CLI in a real pipe, as a script or ``grep`` meets it: whole rows at any width, no colour, quiet stderr.

These start ``switchboard`` as a process (about 2 s each), because only a process has a stdout that is a pipe
and a logging setup of its own; everything else about the output is tested in-process in test_listing.py.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from core.store.audit import AuditLog
from core.store.db import make_engine
from tests.utils.servers.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
SWITCHBOARD = [sys.executable, "-m", "switchboard"]


def start(*args: str, shell: str = "") -> subprocess.Popen[str]:
    """``switchboard ARGS`` (or a shell line) with stdout and stderr pipes, in the test's environment."""
    command = shell or shlex.join([*SWITCHBOARD, *args])
    return subprocess.Popen(
        command,
        shell=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def test_grep_finds_whole_rows_at_80_columns(runs_db: Engine) -> None:
    grep = start(shell=shlex.join([*SWITCHBOARD, "runs"]) + " | grep nightly_sales_export")
    plain = start("runs")

    code, found, err = finish(grep)
    assert (code, err) == (0, "")
    assert found == (
        "3   nightly_sales_export  succeeded  1        cli        2026-11-21 04:00:00  1,500.00     —\n"
        "1   nightly_sales_export  succeeded  1        scheduler  2026-11-21 02:00:00  1,500.00     —\n"
    )
    code, out, err = finish(plain)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert (
        lines[0]
        == "id  name                  status     attempt  actor      created              duration_ms  error"
    )
    assert lines[2].startswith(
        "2   customer_sync         failed     1        olive      2026-11-21 03:00:00  1,500.00     "
    )
    assert lines[2].endswith("connection refused") and len(lines) == 4  # one row, one line: nothing wrapped
    assert "\x1b" not in out  # no colour in a pipe


@pytest.fixture
def mail_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer) -> SmtpServer:
    """The demo config on the loopback mail server, retrying twice with no wait to speak of."""
    config = (ROOT / "switchboard" / "defaults.yaml").read_text()
    config = config.replace("port: 2525", f"port: {smtp_server.port}")
    config = config.replace("attempts: 4", "attempts: 2").replace("base_delay_s: 0.5", "base_delay_s: 0.01")
    (tmp_path / "switchboard.yaml").write_text(config)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(tmp_path / "switchboard.yaml"))
    return smtp_server


def test_a_retry_is_logged_only_with_verbose(cli_env: Path, mail_config: SmtpServer) -> None:
    notify = ["tools", "call", "send_notification", "--channel", "email", "--recipient", "finance"]
    mail_config.fail_next("451 4.3.0 Try again later")
    code, out, err = finish(start(*notify, "--message", "quiet"))
    mail_config.fail_next("451 4.3.0 Try again later")
    verbose_code, _, verbose_err = finish(start("-v", *notify, "--message", "verbose"))

    assert code == verbose_code == 0, err + verbose_err
    assert out == (
        "Notification for finance: sent to email:finance@example.com.\n"
        "channel  recipient            status  attempts\n"
        "email    finance@example.com  sent    2\n"
        "Run 1: succeeded\n"
    )
    assert err == ""  # the retry is below WARNING: neither a raw record nor a line in words
    retried = (
        f"email notification 2 attempt 1 failed (the mail server at 127.0.0.1:{mail_config.port} answered 451 "
        "4.3.0 Try again later); retrying in 0.01s"
    )
    assert f'"level": "info", "logger": "core.store.outbox", "msg": "{retried}"' in verbose_err
    assert [m.text for m in mail_config.wait_for(2)] == ["quiet\n", "verbose\n"]
    # The shell is trusted and skips the approval an external action needs in chat, but says so in the audit log.
    created = [
        (r.actor, json.loads(r.data)) for r in AuditLog(make_engine(f"sqlite:///{cli_env}")).iter_records()
    ]
    assert [
        (actor, data["name"], data["versions"]["source"]) for actor, data in created if "versions" in data
    ] == [
        ("cli", "send_notification", "cli"),
        ("cli", "send_notification", "cli"),
    ]
