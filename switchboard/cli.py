"""The ``switchboard`` command line."""

from __future__ import annotations

import os

import typer

from switchboard.app import App, configure_logging
from switchboard.commands import (
    approvals_cmd,
    audit_cmd,
    bot_cmd,
    chat_cmd,
    core_cmd,
    eval_cmd,
    router_cmd,
    runs_cmd,
    serve_cmd,
    tools_cmd,
    users_cmd,
)

app = typer.Typer(
    name="switchboard",
    help="Chat with your automation flows: typed tools, a policy gate, approvals and a tamper-evident audit log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(ctx: typer.Context) -> None:
    """Switchboard reads SWITCHBOARD_* environment variables and the YAML file named by SWITCHBOARD_CONFIG."""
    ctx.obj = App()


core_cmd.register(app)
app.add_typer(tools_cmd.app, name="tools")
app.add_typer(tools_cmd.flows_app, name="flows")
app.add_typer(runs_cmd.schedules_app, name="schedules")
app.add_typer(audit_cmd.app, name="audit")
runs_cmd.register(app)
eval_cmd.register(app)
bot_cmd.register(app)
serve_cmd.register(app)
app.add_typer(users_cmd.app, name="users")
chat_cmd.register(app)
app.add_typer(approvals_cmd.app, name="approvals")
app.add_typer(router_cmd.app, name="router")


def main() -> None:
    """Entry point of the console script."""
    configure_logging(os.environ.get("SWITCHBOARD_LOG", "WARNING"))
    app()
