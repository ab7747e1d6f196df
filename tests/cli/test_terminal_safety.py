"""The terminal never renders data as markup (issue 15, finding 3) and refuses arguments that cannot execute with
a clear message (finding 2): ``tools call`` and the ``switchboard chat`` REPL, on customers named like markup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from core.store.approvals import ApprovalRequest
from core.store.db import make_engine
from core.store.runs import Run
from core.store.schema import init_db
from switchboard.cli import app
from tests.utils.factories import insert_customers, insert_products

NAMES = {
    1: "[/bold] x",
    2: "[link=https://example.com]Acme Bank[/link]",
    3: "[white on white]hidden",
    4: "Evil\x1b]8;;https://example.com\x07Corp :warning:",
}


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'var' / 'switchboard.db'}"
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", url)
    monkeypatch.setenv("SWITCHBOARD_REFERENCE_DATE", "2026-11-22")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").mkdir()
    eng = make_engine(url)
    init_db(eng)
    # Stored directly, as data that predates ingest's control-character check would be.
    insert_customers(
        eng,
        [
            {"id": i, "name": name, "email": f"c{i}@example.com", "region": "emea"}
            for i, name in NAMES.items()
        ],
    )
    insert_products(eng, [{"sku": "A100X", "name": "Widget", "unit_price": 2.5}])
    yield eng
    eng.dispose()


def shown(name: str) -> str:
    """How a name must appear: exactly as stored, with control characters made visible."""
    return name.replace("\x1b", "\\x1b").replace("\x07", "\\x07")


@pytest.mark.parametrize("customer", sorted(NAMES))
def test_tools_call_prints_customer_names_as_they_are(engine: Engine, customer: int) -> None:
    result = CliRunner().invoke(app, ["tools", "call", "lookup_customer", "--query", str(customer)])

    assert result.exit_code == 0, result.output
    name = shown(NAMES[customer])
    assert result.output.startswith(f"Found {name} (#{customer}, emea).\n")
    # Piped (CliRunner's stdout is no terminal): aligned columns, the id column two wide.
    assert f"\n{customer}   {name}  c{customer}@example.com  emea  " in result.output
    assert "\x1b" not in result.output and "⚠" not in result.output


def test_an_error_quoting_markup_is_printed_as_it_is(engine: Engine) -> None:
    result = CliRunner().invoke(app, ["approvals", "show", "[/bold]:warning:"])
    assert result.exit_code == 2, result.output
    assert result.output == "Error: approval request [/bold]:warning: does not exist\n"


def test_the_chat_repl_prints_markup_in_data_and_keeps_going(engine: Engine) -> None:
    typed = "".join(f"look up customer {customer}\n" for customer in sorted(NAMES))
    result = CliRunner().invoke(
        app, ["chat", "--as", "[red]olive"], input=typed + "look up customer [/link]\n"
    )

    assert result.exit_code == 0, result.output
    for customer, name in NAMES.items():
        assert f"│ Found {shown(name)} (#{customer}, emea)." in result.output
        assert f"\n{customer}   {shown(name)}  c{customer}@example.com  emea  " in result.output
    assert result.output.count("[red]olive> ") == len(NAMES) + 2  # the prompt shows the name as typed
    assert "\x1b" not in result.output


def test_tools_call_refuses_an_impossible_quantity_and_writes_nothing(engine: Engine) -> None:
    args = ["--client-id", "1", "--product", "A100X", "--quantity", "99999999999999999999"]
    result = CliRunner().invoke(app, ["tools", "call", "create_order", *args])

    assert result.exit_code == 2, result.output
    assert result.output == "Error: create_order: 'quantity' should be less than or equal to 1000000\n"
    with Session(engine) as session:
        counts = [
            session.execute(select(func.count()).select_from(m)).scalar_one() for m in (Run, ApprovalRequest)
        ]
    assert counts == [0, 0]


def test_the_chat_repl_refuses_an_impossible_quantity_and_keeps_going(engine: Engine) -> None:
    result = CliRunner().invoke(
        app,
        ["chat", "--as", "olive"],
        input="order 99999999999999999999 A100X for client 1\nlook up customer 1\n",
    )

    assert result.exit_code == 0, result.output
    assert (
        "I can't run create_order like that: 'quantity' should be less than or equal to 1000000."
        in result.output
    )
    assert "│ Found [/bold] x (#1, emea)." in result.output
    with Session(engine) as session:
        counts = [
            session.execute(select(func.count()).select_from(m)).scalar_one() for m in (Run, ApprovalRequest)
        ]
    assert counts == [0, 0]
