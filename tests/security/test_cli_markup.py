"""Rich markup in data never renders in the terminal: every CLI command that prints data prints it literally.

Customers, an approval's arguments, an audit record and a run error carry markup (``[/bold]`` crashed Rich,
``[link=…]`` made a hyperlink, ``[white on white]`` hid text), an emoji code and a raw escape sequence. Each case
is one (command, payload): the command exits normally, the payload appears exactly as stored (control characters
made visible as ``\\x1b``) and no escape sequence reaches the terminal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.service import open_switchboard
from core.store.audit import AuditEvent, AuditLog
from core.store.db import make_engine
from core.store.schema import init_db
from switchboard.cli import app
from switchboard.settings import load_settings
from tests.console.conftest import full_registry
from tests.security.bounds import check_error_body, unwatch, watch
from tests.utils.factories import insert_customers, insert_orders, insert_products
from tests.utils.fake_backend import ScriptedBackend

PAYLOADS = {
    11: "[/bold] Closing Tags Ltd",
    12: "[link=https://example.com]Acme Bank[/link]",
    13: "[white on white]hidden text",
    14: "[bold red]Shouting Inc[/bold red]",
    15: ":warning: Emoji Corp",
    16: "Escape\x1b[31mRed\x1b[0m Co",
}


def shown(value: str, command: str = "") -> str:
    """How a stored value must appear on the terminal: as it is, control characters made visible.

    ``audit tail`` prints a record's data as JSON, where an escape character is ``\\u001b``.
    """
    if command == "audit tail":
        return json.dumps(value)[1:-1]
    return value.replace("\x1b", "\\x1b")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A database whose customers, orders, approval, audit records and run error all carry the payloads."""
    root = tmp_path_factory.mktemp("cli-markup")
    var = root / "var"
    (var / "inbox").mkdir(parents=True)
    url = f"sqlite:///{var / 'switchboard.db'}"
    engine = make_engine(url)
    init_db(engine)
    watch(engine)
    # Stored directly, as data that predates ingest's control-character check would be.
    insert_customers(
        engine,
        [{"id": i, "name": n, "email": f"c{i}@example.com", "region": "emea"} for i, n in PAYLOADS.items()],
    )
    insert_products(engine, [{"sku": "A100X", "name": "Widget", "unit_price": 2.5}])
    insert_orders(
        engine,
        [
            {
                "id": i,
                "customer_id": i,
                "sku": "A100X",
                "quantity": i,
                "unit_price": 2.5,
                "total": 2.5 * i,
                "region": "emea",
                "order_date": date(2026, 11, 20),
            }
            for i in PAYLOADS
        ],
    )
    AuditLog(engine).append_many(
        [AuditEvent("test.note", "importer", f"customer:{i}", {"name": n}) for i, n in PAYLOADS.items()]
    )
    backend = ScriptedBackend()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SWITCHBOARD_CONFIG", raising=False)
        settings = load_settings(database_url=url, var_dir=var, reference_date="2026-11-22")
    approvals: dict[int, str] = {}
    with open_switchboard(settings, engine, backend=backend, registry=full_registry()) as sb:
        for i, name in PAYLOADS.items():
            if "\x1b" in name:
                continue  # tool arguments refuse control characters: such an approval cannot exist
            backend.enqueue("send_notification", {"channel": "email", "recipient": "ops", "message": name})
            reply = sb.chat(thread_id=f"t{i}", user="olive", role="operator", text=f"tell ops {i}")
            assert reply.approval_id is not None, reply
            approvals[i] = reply.approval_id
    (root / "approvals.txt").write_text("\n".join(f"{i} {a}" for i, a in approvals.items()))
    yield root
    unwatch(engine)
    engine.dispose()


@pytest.fixture
def cli(folder: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(folder / "var"))
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{folder / 'var' / 'switchboard.db'}")
    monkeypatch.setenv("SWITCHBOARD_REFERENCE_DATE", "2026-11-22")
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    monkeypatch.chdir(folder)
    return CliRunner()


def approval_of(folder: Path, customer: int) -> str:
    rows = dict(line.split(" ") for line in (folder / "approvals.txt").read_text().splitlines())
    return rows[str(customer)]


# Commands whose output does not depend on the payload run once (the chat REPL gets every message in one go).
CHAT = [arg for i in PAYLOADS for arg in ("-m", f"look up customer {i}")]
COMMANDS = {
    "tools call lookup_customer": lambda i, _f: ["tools", "call", "lookup_customer", "--query", str(i)],
    "tools call run_report top_customers": lambda _i, _f: [
        "tools",
        "call",
        "run_report",
        "--report",
        "top_customers",
        "--period",
        "last_30_days",
    ],
    "chat -m look up customer": lambda _i, _f: ["chat", "--as", "olive", *CHAT],
    "approvals list": lambda _i, _f: ["approvals", "list"],
    "approvals show": lambda i, f: ["approvals", "show", approval_of(f, i)],
    "audit tail": lambda _i, _f: ["audit", "tail", "--limit", "200"],
}
CASES = [
    pytest.param(command, customer, id=f"{command} / {PAYLOADS[customer][:20]!r}")
    for command in COMMANDS
    for customer in PAYLOADS
    if not (command.startswith("approvals") and "\x1b" in PAYLOADS[customer])
]


_OUTPUTS: dict[tuple[str, ...], tuple[int, str]] = {}


def invoke(cli: CliRunner, args: list[str]) -> tuple[int, str]:
    """Exit code and output of a command, run once per distinct argument list."""
    key = tuple(args)
    if key not in _OUTPUTS:
        result = cli.invoke(app, args)
        _OUTPUTS[key] = (result.exit_code, result.output)
    return _OUTPUTS[key]


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
@pytest.mark.parametrize(("command", "customer"), CASES)
def test_data_is_printed_literally(cli: CliRunner, folder: Path, command: str, customer: int) -> None:
    code, output = invoke(cli, COMMANDS[command](customer, folder))

    assert code == 0, output
    assert "Traceback" not in output
    assert shown(PAYLOADS[customer], command) in output.replace("\n", ""), output
    assert "\x1b" not in output
    assert "⚠" not in output  # no emoji rendered from ":warning:"


@pytest.mark.parametrize(
    "argument",
    ["[/bold]", "[link=https://example.com]x[/link]", "[white on white]hidden", "\x1b[2J"],
)
def test_an_answer_or_error_quoting_markup_is_printed_literally(cli: CliRunner, argument: str) -> None:
    # A search that finds nothing answers in words that quote the query; a control character is refused.
    result = cli.invoke(app, ["tools", "call", "lookup_customer", "--query", argument + "@example.com"])

    assert "Traceback" not in result.output and "\x1b" not in result.output
    if "\x1b" in argument:
        assert result.exit_code == 2, result.output
        assert result.output.startswith("Error: ") and "control characters" in result.output, result.output
    else:
        assert result.exit_code == 0, result.output
        assert f"No customer has the e-mail address '{shown(argument)}@example.com'." in result.output, (
            result.output
        )
    check_error_body(result.output, what="CLI error")
