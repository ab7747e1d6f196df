"""Oversized and malformed input on every CLI command that takes input.

Each row is one command line and the exit code it must get: a clear ``Error:`` (or usage) message within the
documented bound, no traceback, and no row written (runs, approvals, thread messages, users, customers, products,
orders). An ingest whose file turns out bad is the one exception: it leaves one failed run, its error bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from core.text import MESSAGE_LIMIT
from switchboard.cli import app as cli_app
from tests.security.bounds import ERROR_BODY_LIMIT
from tests.security.world import World, open_world

TABLES = ("runs", "approvals", "messages", "users", "customers", "products", "orders")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_world(tmp_path_factory.mktemp("oversized-cli")) as w:
        yield w


@pytest.fixture(scope="module")
def folder(world: World) -> Path:
    return world.settings.var_dir.parent


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(world.settings.var_dir))
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", world.settings.database_url)
    monkeypatch.setenv("SWITCHBOARD_REFERENCE_DATE", "2026-11-22")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv(
        "SWITCHBOARD_ALERTS", "[]"
    )  # no alert mail for the failed runs: there is no SMTP server
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    monkeypatch.chdir(world.settings.var_dir.parent)
    return CliRunner()


def _files(folder: Path) -> None:
    inbox = folder / "var" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    if not (inbox / "wide.csv").exists():
        # A 2 MB header with no newline: 200,000 column names (issue 15, finding 1).
        (inbox / "wide.csv").write_text(",".join(f"c{i}" for i in range(200_000)))
        (inbox / "long_cell.csv").write_text(
            "id,name,email,region\n1," + "n" * 3_000_000 + ",a@example.com,emea\n"
        )
        (inbox / "nul.csv").write_bytes(b"id,name,email,region\n1,A\x00B,a@example.com,emea\n")
        (inbox / "binary.csv").write_bytes(bytes(range(256)) * 1_000)
    (folder / "garbage.jsonl").write_text("{not json\n" * 3)


# (case, argv, exit code); an ingest whose file turns out bad leaves one failed run (its error bounded): only
# reading the file can tell, so that run is the record of the attempt.
READS_THE_FILE = {
    "ingest_file header of 200,000 columns",
    "ingest_file cell of 3 MB",
    "ingest_file with a NUL in a cell",
    "ingest_file of binary bytes",
}
CLI_ROWS: list[tuple[str, list[str], int]] = [
    (
        "create_order quantity of 20 digits",
        ["tools", "call", "create_order", "--client-id", "1", "--product", "A100X", "--quantity", "9" * 20],
        2,
    ),
    (
        "create_order client id of 30 digits",
        ["tools", "call", "create_order", "--client-id", "9" * 30, "--product", "A100X", "--quantity", "1"],
        2,
    ),
    ("lookup_customer query of 100 KB", ["tools", "call", "lookup_customer", "--query", "q" * 100_000], 2),
    ("lookup_customer query with a NUL", ["tools", "call", "lookup_customer", "--query", "a\x01b"], 2),
    (
        "run_report limit of 20 digits",
        ["tools", "call", "run_report", "--report", "top_customers", "--limit", "9" * 20],
        2,
    ),
    (
        "run_report period of 50 KB",
        ["tools", "call", "run_report", "--report", "top_customers", "--period", "p" * 50_000],
        2,
    ),
    (
        "schedule_flow on 31 February",
        ["tools", "call", "schedule_flow", "--flow", "daily_export", "--cron", "0 0 31 2 *"],
        2,
    ),
    (
        "ingest_file header of 200,000 columns",
        ["tools", "call", "ingest_file", "--path", "wide.csv", "--dataset", "customers"],
        2,
    ),
    (
        "ingest_file cell of 3 MB",
        ["tools", "call", "ingest_file", "--path", "long_cell.csv", "--dataset", "customers"],
        2,
    ),
    (
        "ingest_file with a NUL in a cell",
        ["tools", "call", "ingest_file", "--path", "nul.csv", "--dataset", "customers"],
        2,
    ),
    (
        "ingest_file of binary bytes",
        ["tools", "call", "ingest_file", "--path", "binary.csv", "--dataset", "customers"],
        2,
    ),
    (
        "ingest_file outside the inbox",
        ["tools", "call", "ingest_file", "--path", "../../../../etc/passwd", "--dataset", "customers"],
        2,
    ),
    ("unknown tool of 10 KB", ["tools", "call", "t" * 10_000], 2),
    ("tool option of 100 KB", ["tools", "call", "lookup_customer", "--" + "o" * 100_000, "x"], 2),
    ("chat message of 100 KB", ["chat", "--as", "olive", "-m", "m" * 100_000], 2),
    ("users add name of 10 KB", ["users", "add", "n" * 10_000], 2),
    ("users add name with a NUL", ["users", "add", "bad\x01name"], 2),
    ("users add unknown role", ["users", "add", "newbie", "--role", "r" * 5_000], 2),
    ("users link-telegram id of 30 digits", ["users", "link-telegram", "olive", "9" * 30], 2),
    ("approvals show id of 10 KB", ["approvals", "show", "apr_" + "x" * 10_000], 2),
    (
        "approvals reject reason of 100 KB",
        ["approvals", "reject", "apr_missing", "--reason", "r" * 100_000],
        2,
    ),
    ("retry run id of 30 digits", ["retry", "9" * 30], 2),
    ("schedules pause id of 30 digits", ["schedules", "pause", "9" * 30], 2),
    ("runs limit of 20 digits", ["runs", "--limit", "9" * 20], 2),
    ("flows run unknown flow of 10 KB", ["flows", "run", "f" * 10_000], 2),
    ("audit verify a garbage checkpoint file", ["audit", "verify", "--checkpoints", "garbage.jsonl"], 2),
    (
        "audit verify-bundle of garbage",
        ["audit", "verify-bundle", "garbage.jsonl", "--public-key", "garbage.jsonl"],
        2,
    ),
]


@pytest.mark.parametrize(
    ("case", "argv", "code"), [pytest.param(case, a, c, id=case) for case, a, c in CLI_ROWS]
)
def test_bad_cli_input_gets_a_clear_bounded_error_and_writes_nothing(
    cli: CliRunner, world: World, folder: Path, case: str, argv: list[str], code: int
) -> None:
    _files(folder)
    before = world.counts(*TABLES)
    result = cli.invoke(cli_app, argv)
    output = result.output
    assert result.exit_code == code, output[:500]
    assert "Traceback" not in output and "went wrong" not in output, output[:500]
    if argv[0] == "chat":  # the REPL echoes what was typed, as a terminal would; the answer follows it
        output = output[output.find("Error:") :] if "Error:" in output else output[-ERROR_BODY_LIMIT:]
    if code:
        assert "Error" in output or "Usage" in output, output[:500]
    assert len(output.encode()) <= ERROR_BODY_LIMIT, f"{len(output):,} characters: {output[:300]}…"
    after = world.counts(*TABLES)
    if case in READS_THE_FILE:
        assert after == {**before, "runs": before["runs"] + 1}
        with world.engine.connect() as conn:
            error = conn.execute(text("SELECT error FROM run ORDER BY id DESC LIMIT 1")).scalar_one()
        assert error and len(error) <= MESSAGE_LIMIT, f"run error of {len(error or ''):,} characters"
    else:
        assert after == before
