"""Listings as gh and kubectl print them: ``--json`` on every one, ``runs ID``, and empty results said in words.

CliRunner's stdout is not a terminal, so tables come out as they do in a pipe: a header line and aligned columns.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from switchboard.cli import app
from switchboard.render import plain, render_table
from switchboard.terminal import CliConsole, console
from tests.cli.conftest import SFTP_ERROR
from tools.base import Table


def ok(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def run_json(run_id: int, name: str, actor: str, status: str = "succeeded", error: str | None = None) -> Any:
    hour = 1 + run_id
    return {
        "id": run_id,
        "name": name,
        "kind": "flow",
        "status": status,
        "attempt": 1,
        "actor": actor,
        "parent_id": None,
        "created_at": f"2026-11-21T0{hour}:00:00+00:00",
        "started_at": f"2026-11-21T0{hour}:00:00+00:00",
        "finished_at": f"2026-11-21T0{hour}:00:01.500000+00:00",
        "duration_ms": 1500.0,
        "error": error,
        "error_code": "error" if error else None,
    }


def test_runs_json_is_one_document(runs_db: Engine) -> None:
    assert json.loads(ok("runs", "--json")) == [
        run_json(3, "nightly_sales_export", "cli"),
        run_json(2, "customer_sync", "olive", status="failed", error=SFTP_ERROR),
        run_json(1, "nightly_sales_export", "scheduler"),
    ]
    assert [run["id"] for run in json.loads(ok("runs", "--failed", "--json"))] == [2]


def test_runs_id_shows_the_run_with_its_steps(runs_db: Engine) -> None:
    shown = ok("runs", "3")
    assert shown.splitlines()[:4] == [
        "id  name                  status     attempt  actor  created              duration_ms  error",
        "3   nightly_sales_export  succeeded  1        cli    2026-11-21 04:00:00  1,500.00     —",
        "4   export_dataset        succeeded  1        cli    2026-11-21 05:00:00  1,500.00     —",
        "5   deliver_file          succeeded  1        cli    2026-11-21 06:00:00  1,500.00     —",
    ]
    assert json.loads("\n".join(shown.splitlines()[4:])) == {
        "inputs": {"flow": "nightly_sales_export"},
        "output": {"steps": 3},
        "versions": {},
    }
    assert ok("runs", "--show", "3") == shown  # the option scripts used before keeps working
    one = json.loads(ok("runs", "3", "--json"))
    assert (one["id"], one["inputs"], [step["name"] for step in one["steps"]]) == (
        3,
        {"flow": "nightly_sales_export"},
        ["export_dataset", "deliver_file"],
    )


def test_runs_of_an_unknown_id_is_a_clear_error(runs_db: Engine) -> None:
    result = CliRunner().invoke(app, ["runs", "9"])
    assert (result.exit_code, result.stderr) == (2, "Error: run 9 does not exist\n")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["runs", "--status", "running"], "No runs match.\n"),
        (["runs", "--name", "invoice_run"], "No runs match.\n"),
        (["approvals", "list"], "No pending approvals.\n"),
        (["approvals", "list", "--status", "approved"], "No approved approvals.\n"),
        (["schedules", "list"], "No schedules yet.\n"),
        (["users", "list"], "No users yet: add one with 'switchboard users add NAME --role admin'.\n"),
    ],
)
def test_an_empty_result_is_said_in_words(runs_db: Engine, args: list[str], said: str) -> None:
    assert ok(*args) == said


LISTINGS = [
    ["runs"],
    ["approvals", "list"],
    ["schedules", "list"],
    ["users", "list"],
    ["audit", "tail"],
    ["flows", "list"],
    ["tools", "list"],
]


def test_every_listing_prints_json(runs_db: Engine) -> None:
    found = {" ".join(args): json.loads(ok(*args, "--json")) for args in LISTINGS}

    assert {name: type(value) for name, value in found.items()} == {" ".join(a): list for a in LISTINGS}
    assert [r["id"] for r in found["runs"]] == [3, 2, 1]
    assert found["approvals list"] == found["schedules list"] == found["users list"] == []
    assert found["audit tail"][0] == {
        "seq": found["audit tail"][0]["seq"],
        "ts": found["audit tail"][0]["ts"],
        "actor": "scheduler",
        "event": "run.created",
        "subject": "run:1",
        "data": {
            "name": "nightly_sales_export",
            "kind": "flow",
            "inputs": {"flow": "nightly_sales_export"},
            "attempt": 1,
            "parent_id": None,
            "versions": {},
        },
        "hash": found["audit tail"][0]["hash"],
    }
    assert [f["name"] for f in found["flows list"]] == [
        "nightly_sales_export",
        "customer_sync",
        "invoice_run",
    ]
    assert found["flows list"][0]["steps"] == ["export_dataset", "deliver_file", "send_notification"]
    assert found["tools list"][0] == {
        "name": "run_report",
        "title": "Run a report",
        "risk": "read",
        "arguments": [
            {"name": "report", "required": True},
            {"name": "period", "required": False},
            {"name": "region", "required": False},
            {"name": "limit", "required": False},
        ],
        "description": found["tools list"][0]["description"],
    }


def test_tools_list_names_each_tool_in_words(cli_env: object) -> None:
    lines = ok("tools", "list").splitlines()
    assert lines[:3] == [
        "what it does             tool                    risk      arguments",
        "Run a report             run_report              read      report, period?, region?, limit?",
        "Look up a customer       lookup_customer         read      query",
    ]
    assert lines[-2:] == [
        "Send a notification      send_notification       external  channel, recipient, message",
        "What a tool does in detail: switchboard tools schema NAME",
    ]


def test_a_long_line_is_not_wrapped_in_a_pipe(cli_env: object, capsys: pytest.CaptureFixture[str]) -> None:
    said = "Flow nightly_sales_export finished: 2 of 3 steps succeeded; " * 3
    console.print(plain(said))  # COLUMNS is 80, as in cli_env

    assert capsys.readouterr().out == said + "\n"


RUNS = Table(
    title="Runs",
    columns=["id", "name", "status", "error"],
    rows=[[3, "nightly_sales_export", "succeeded", None], [2, "customer_sync", "failed", SFTP_ERROR]],
)


@pytest.mark.parametrize(
    ("columns", "shown"),
    [
        (
            "68",  # just room for every name whole: a Rich table, the error wrapped at words
            [
                "                                Runs",
                "┏━━━━┳━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━┓",
                "┃ id ┃ name                 ┃ status    ┃ error                    ┃",
                "┡━━━━╇━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━┩",
                "│ 3  │ nightly_sales_export │ succeeded │ —                        │",
                "│ 2  │ customer_sync        │ failed    │ step 2 (deliver_file)    │",
                "│    │                      │           │ failed: could not reach  │",
                "│    │                      │           │ the SFTP server at       │",
                "│    │                      │           │ 127.0.0.1:2222 for       │",
                "│    │                      │           │ bank_sftp: connection    │",
                "│    │                      │           │ refused                  │",
                "└────┴──────────────────────┴───────────┴──────────────────────────┘",
            ],
        ),
        (
            "60",  # too narrow: one line a row, which the terminal wraps, instead of names cut to "nightly_sal…"
            [
                "id  name                  status     error",
                "3   nightly_sales_export  succeeded  —",
                f"2   customer_sync         failed     {SFTP_ERROR}",
            ],
        ),
    ],
)
def test_at_a_terminal_names_are_never_cut(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], columns: str, shown: list[str]
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr(console, "_force_terminal", True)
    monkeypatch.setattr(console, "_color_system", None)

    render_table(RUNS)

    assert [line.rstrip() for line in capsys.readouterr().out.splitlines()] == shown


def test_a_console_made_while_columns_was_set_follows_columns_later(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rich keeps the COLUMNS it saw when the console was made; a resized terminal would print at the old width.
    monkeypatch.setenv("COLUMNS", "100")
    made_then = CliConsole(force_terminal=True)
    monkeypatch.setenv("COLUMNS", "68")
    assert made_then.size.width == 68
    assert CliConsole(force_terminal=True, width=90).size.width == 90  # an explicit width still holds
