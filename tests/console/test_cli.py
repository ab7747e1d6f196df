"""``switchboard users ...`` without prompts, the first-admin bootstrap, and a real ``switchboard serve``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from console.auth import bootstrap_admin
from core.store.users import authenticate, get_user, list_users, user_for_token
from switchboard.app import App
from switchboard.commands import serve_cmd, users_cmd
from switchboard.settings import Settings
from tests.utils.servers.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def cli() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _root(ctx: typer.Context) -> None:
        ctx.obj = App()

    root.add_typer(users_cmd.app, name="users")
    serve_cmd.register(root)
    return root


@pytest.fixture
def run(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(settings.var_dir))
    app = cli()

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, list(args))
        return result.exit_code, result.output

    return invoke


def test_users_add_token_role_passwd_and_telegram(run, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    assert run("users", "add", "olive", "--role", "operator", "--password", "olive-pass-1") == (
        0,
        "Created user olive (operator).\n",
    )
    assert get_user(engine=engine, name="olive").must_change_password is False  # a chosen password is kept
    code, out = run("users", "add", "ann", "--role", "approver")
    created, shown, hint = out.splitlines()
    assert (code, created, hint) == (
        0,
        "Created user ann (approver).",
        "ann chooses their own password at the first console login.",
    )
    assert shown.startswith("One-time password (shown once): ")
    generated = shown.rsplit(" ", 1)[-1]
    assert authenticate(engine=engine, name="ann", password=generated) is not None
    assert get_user(engine=engine, name="ann").must_change_password is True
    code, out = run("users", "token", "ann")
    assert code == 0 and re.fullmatch(r"sb_[A-Za-z0-9_-]{40,}\n", out)
    assert user_for_token(engine=engine, token=out.strip()).name == "ann"  # type: ignore[union-attr]
    assert run("users", "role", "olive", "approver") == (0, "olive is now approver.\n")
    assert run("users", "passwd", "olive", "--password", "new-pass-22")[0] == 0
    assert authenticate(engine=engine, name="olive", password="new-pass-22") is not None
    code, out = run("users", "passwd", "olive")
    assert code == 0 and out.splitlines()[2] == "olive chooses their own password at the next console login."
    assert get_user(engine=engine, name="olive").must_change_password is True
    assert run("users", "revoke-token", "ann") == (0, "The API token of ann is revoked.\n")
    assert get_user(engine=engine, name="ann").token_hash is None
    assert run("users", "deactivate", "ann") == (0, "ann is deactivated.\n")
    assert authenticate(engine=engine, name="ann", password=generated) is None
    assert run("users", "activate", "ann") == (0, "ann is active again.\n")
    assert authenticate(engine=engine, name="ann", password=generated) is not None
    assert run("users", "link-telegram", "olive", "4242") == (0, "Telegram user 4242 now acts as olive.\n")
    assert get_user(engine=engine, name="olive").telegram_user_id == 4242
    code, out = run("users", "list")
    assert code == 0 and "olive" in out and "approver" in out and "4242" in out


def test_users_errors_are_one_clear_line(run) -> None:  # type: ignore[no-untyped-def]
    code, out = run("users", "add", "eve", "--role", "boss", "--password", "eve-pass-123")
    assert (code, out) == (2, "Error: unknown role 'boss': use one of operator, approver, admin\n")
    run("users", "add", "eve", "--password", "eve-pass-123")
    assert run("users", "add", "eve", "--password", "eve-pass-123") == (
        2,
        "Error: user 'eve' already exists\n",
    )
    assert run("users", "token", "nobody") == (2, "Error: no user called 'nobody'\n")


def test_first_admin_only_on_an_empty_user_table(engine: Engine) -> None:
    password = bootstrap_admin(engine)
    assert password is not None and authenticate(engine=engine, name="admin", password=password) is not None
    assert get_user(engine=engine, name="admin").must_change_password is True  # a one-time password
    assert bootstrap_admin(engine) is None
    assert [(u.name, u.role) for u in list_users(engine=engine)] == [("admin", "admin")]


def test_serve_prints_the_first_admin_password_and_answers(settings: Settings) -> None:
    port = free_port("127.0.0.1")
    env = {
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": settings.database_url,
        "SWITCHBOARD_VAR_DIR": str(settings.var_dir),
        "PYTHONPATH": str(ROOT),
    }
    script = (
        f"from tests.console.test_cli import cli; cli()(['serve', '--host', '127.0.0.1', '--port', '{port}'])"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.json() == {"status": "ok", "database": "ok"}
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert "Created the first admin user admin. One-time password (shown only now):" in output
    password = output.split("(shown only now):\n", 1)[1].split("\n", 1)[0].strip()
    assert len(password) >= 12
    assert password not in (settings.var_dir / "switchboard.db").read_bytes().decode("latin-1")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_a_busy_port_says_so_and_creates_nothing(run, engine: Engine, workers: str) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, output = run("serve", "--port", str(port), "--workers", workers)
    assert (code, output) == (1, f"Error: cannot listen on 127.0.0.1:{port}: Address already in use\n")
    assert list_users(engine=engine) == []  # no one-time admin password was spent on a server that never ran
