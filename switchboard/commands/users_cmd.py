"""``switchboard users add|passwd|token|list|role|deactivate|activate|revoke-token|link-telegram``, no prompts.

Passwords and tokens are printed once, when they are made; only their hashes are stored. A generated password
is one-time: its holder chooses their own at the first console login. One given with ``--password`` is kept.
"""

from __future__ import annotations

import typer

from core.store.users import (
    create_user,
    issue_token,
    link_telegram,
    list_users,
    one_time_password,
    revoke_token,
    set_active,
    set_password,
    set_role,
)
from switchboard.app import App, console, handle_errors
from switchboard.render import plain, print_json, render_table
from tools.base import Table

app = typer.Typer(help="Manage the people who use the console and the bot.", no_args_is_help=True)
ACTOR = "cli"


@app.command("add")
@handle_errors
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name (letters, digits, '.', '_' or '-')."),
    role: str = typer.Option("operator", "--role", help="operator, approver or admin."),
    password: str | None = typer.Option(
        None, "--password", help="At least 8 characters; generated when omitted."
    ),
) -> None:
    """Create a user; prints a generated password once when none is given."""
    state: App = ctx.obj
    value = password or one_time_password()
    user = create_user(
        engine=state.engine, name=name, role=role, password=value, actor=ACTOR, one_time=password is None
    )
    console.print(plain(f"Created user {user.name} ({user.role})."), highlight=False)
    if password is None:
        console.print(f"One-time password (shown once): {value}", highlight=False, markup=False)
        console.print(
            plain(f"{name} chooses their own password at the first console login."), highlight=False
        )


@app.command("passwd")
@handle_errors
def passwd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name."),
    password: str | None = typer.Option(
        None, "--password", help="At least 8 characters; generated when omitted."
    ),
) -> None:
    """Set a user's password (their console sessions end)."""
    state: App = ctx.obj
    value = password or one_time_password()
    set_password(engine=state.engine, name=name, password=value, actor=ACTOR, one_time=password is None)
    console.print(plain(f"Password of {name} changed."), highlight=False)
    if password is None:
        console.print(f"One-time password (shown once): {value}", highlight=False, markup=False)
        console.print(plain(f"{name} chooses their own password at the next console login."), highlight=False)


@app.command("token")
@handle_errors
def token(ctx: typer.Context, name: str = typer.Argument(..., help="User name.")) -> None:
    """Print a new API token for scripts (replaces the user's previous token); prints only the token."""
    state: App = ctx.obj
    typer.echo(issue_token(engine=state.engine, name=name, actor=ACTOR))


@app.command("list")
@handle_errors
def list_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
) -> None:
    """List users with their role, Telegram link and whether they hold a token."""
    state: App = ctx.obj
    found = list_users(engine=state.engine)
    if as_json:
        print_json(
            [
                {
                    "name": u.name,
                    "role": u.role,
                    "active": u.active,
                    "telegram_user_id": u.telegram_user_id,
                    "has_token": bool(u.token_hash),
                    "created_at": u.created_at.isoformat(),
                }
                for u in found
            ]
        )
        return
    rows: list[list[str | int | float | bool | None]] = [
        [
            u.name,
            u.role,
            "yes" if u.active else "no",
            u.telegram_user_id,
            "yes" if u.token_hash else "no",
            u.created_at.strftime("%Y-%m-%d %H:%M"),
        ]
        for u in found
    ]
    render_table(
        Table(title="Users", columns=["name", "role", "active", "telegram", "token", "created"], rows=rows),
        empty="No users yet: add one with 'switchboard users add NAME --role admin'.",
    )


@app.command("role")
@handle_errors
def role(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name."),
    new_role: str = typer.Argument(..., metavar="ROLE", help="operator, approver or admin."),
) -> None:
    """Change a user's role."""
    state: App = ctx.obj
    user = set_role(engine=state.engine, name=name, role=new_role, actor=ACTOR)
    console.print(plain(f"{user.name} is now {user.role}."), highlight=False)


def _set_active(ctx: typer.Context, name: str, *, active: bool) -> None:
    state: App = ctx.obj
    set_active(engine=state.engine, name=name, active=active, actor=ACTOR)
    console.print(plain(f"{name} is active again." if active else f"{name} is deactivated."), highlight=False)


@app.command("deactivate")
@handle_errors
def deactivate(ctx: typer.Context, name: str = typer.Argument(..., help="User name.")) -> None:
    """Stop a user from logging in, using their token or the bot (their history and audit records stay)."""
    _set_active(ctx, name, active=False)


@app.command("activate")
@handle_errors
def activate(ctx: typer.Context, name: str = typer.Argument(..., help="User name.")) -> None:
    """Let a deactivated user back in."""
    _set_active(ctx, name, active=True)


@app.command("revoke-token")
@handle_errors
def revoke(ctx: typer.Context, name: str = typer.Argument(..., help="User name.")) -> None:
    """Remove a user's API token (scripts using it get 401)."""
    state: App = ctx.obj
    revoke_token(engine=state.engine, name=name, actor=ACTOR)
    console.print(plain(f"The API token of {name} is revoked."), highlight=False)


@app.command("link-telegram")
@handle_errors
def link(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name."),
    telegram_user_id: int = typer.Argument(
        ...,
        min=1,
        max=2**63 - 1,
        help="The numeric Telegram user id.",  # a BIGINT column
    ),
) -> None:
    """Let a Telegram user act as this user in the bot."""
    state: App = ctx.obj
    link_telegram(engine=state.engine, name=name, telegram_user_id=telegram_user_id, actor=ACTOR)
    console.print(plain(f"Telegram user {telegram_user_id} now acts as {name}."), highlight=False)
