"""The ``switchboard`` command line.

What it prints for people stays as it is (rich tables and messages on stdout); logs go to stderr as JSON lines
(``core.logs``), warnings and up unless ``--log-level``, ``SWITCHBOARD_LOG_LEVEL`` or the YAML's ``log_level`` ask
for more.
"""

from __future__ import annotations

from typing import Annotated

import typer

from core.logs import LogLevel, configure_logging
from switchboard.app import App
from switchboard.commands import (
    approvals_cmd,
    audit_cmd,
    bot_cmd,
    chat_cmd,
    core_cmd,
    doctor_cmd,
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
def _root(
    ctx: typer.Context,
    log_level: Annotated[
        LogLevel | None,
        typer.Option(
            "--log-level",
            case_sensitive=False,
            help="Least severe log records written to stderr as JSON (default: SWITCHBOARD_LOG_LEVEL, WARNING).",
        ),
    ] = None,
) -> None:
    """Switchboard reads SWITCHBOARD_* environment variables and the YAML file named by SWITCHBOARD_CONFIG."""
    state = ctx.obj if isinstance(ctx.obj, App) else App()
    if log_level is not None:
        state.overrides["log_level"] = log_level
        if state.configures_logging:
            configure_logging(log_level)  # now: what is logged before the settings load honours it too
    ctx.obj = state
    ctx.call_on_close(state.close)


core_cmd.register(app)
doctor_cmd.register(app)
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
    """Entry point of the console script: it owns logging (JSON on stderr, warnings and up until the settings load)."""
    configure_logging("WARNING")
    app(obj=App(configures_logging=True))
