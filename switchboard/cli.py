"""The ``switchboard`` command line.

Output follows gh and kubectl: tables and messages on stdout, styled at a terminal and plain in a pipe (no colour,
nothing wrapped), ``--json`` on every listing; feedback (spinners, warnings, errors) on stderr. Logs go to stderr
as JSON lines (``core.logs``), warnings and up unless ``-v``, ``--log-level``, ``SWITCHBOARD_LOG_LEVEL`` or the
YAML's ``log_level`` ask for more; while a command works, its warnings are said in words (``switchboard.feedback``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from core.logs import LogLevel, configure_logging
from switchboard.app import App
from switchboard.commands import (
    approvals_cmd,
    audit_cmd,
    bot_cmd,
    chat_cmd,
    core_cmd,
    doctor_cmd,
    drift_cmd,
    eval_cmd,
    examples_cmd,
    panels,
    rollups_cmd,
    router_cmd,
    runs_cmd,
    serve_cmd,
    tools_cmd,
    users_cmd,
)

EXAMPLES = "\n".join(
    [
        "[bold]Examples[/]\n",
        'Ask in words:                 switchboard chat -m "show me last month\'s sales by region"',
        "Run a flow now:               switchboard flows run nightly_sales_export",
        "See what went wrong:          switchboard runs --failed",
        "Look at one run:              switchboard runs 3",
        "Decide what waits:            switchboard approvals list",
        "Check the audit log:          switchboard audit verify",
        "Start from demo data:         switchboard demo",
        "Add a person:                 switchboard users add ann --role approver",
        "Measure the assistant:        switchboard eval",
        "Feed a script:                switchboard runs --json | jq '.[0].status'",
    ]
)


class _ByPanel(TyperGroup):
    """Lists commands panel by panel in ``panels.ORDER``: typer would list every command before every group."""

    def list_commands(self, ctx: Any) -> list[str]:  # typer vendors click: its Context type is private
        """The command names, the first panel's first."""
        rank = {panel: index for index, panel in enumerate(panels.ORDER)}
        names = super().list_commands(ctx)
        return sorted(
            names, key=lambda name: rank.get(getattr(self.commands[name], "rich_help_panel", ""), 99)
        )


app = typer.Typer(
    name="switchboard",
    cls=_ByPanel,
    help="Chat with your automation flows: typed tools, a policy gate, approvals and a tamper-evident audit log.",
    epilog=EXAMPLES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            metavar="",
            show_default=False,
            help="Show INFO logs on stderr (-vv: DEBUG) and the technical call behind each chat reply.",
        ),
    ] = 0,
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
    state.verbose = verbose
    if log_level is None and verbose:
        log_level = "DEBUG" if verbose > 1 else "INFO"
    if log_level is not None:
        state.overrides["log_level"] = log_level
        if state.configures_logging:
            configure_logging(log_level)  # now: what is logged before the settings load honours it too
    ctx.obj = state
    ctx.call_on_close(state.close)


core_cmd.register(app)
doctor_cmd.register(app)
app.add_typer(tools_cmd.flows_app, name="flows", rich_help_panel=panels.RUN)
app.add_typer(tools_cmd.app, name="tools", rich_help_panel=panels.RUN)
runs_cmd.register(app)
app.add_typer(runs_cmd.schedules_app, name="schedules", rich_help_panel=panels.RUN)
chat_cmd.register(app)
app.add_typer(approvals_cmd.app, name="approvals", rich_help_panel=panels.DECIDE)
app.add_typer(audit_cmd.app, name="audit", rich_help_panel=panels.DECIDE)
app.add_typer(users_cmd.app, name="users", rich_help_panel=panels.SET_UP)
app.add_typer(rollups_cmd.app, name="rollups", rich_help_panel=panels.SET_UP)
serve_cmd.register(app)
bot_cmd.register(app)
eval_cmd.register(app)
drift_cmd.register(app)
app.add_typer(router_cmd.app, name="router", rich_help_panel=panels.DEVELOP)
app.add_typer(examples_cmd.app, name="examples", rich_help_panel=panels.DEVELOP)


def main() -> None:
    """Entry point of the console script: it owns logging (JSON on stderr, warnings and up until the settings load)."""
    configure_logging("WARNING")
    app(obj=App(configures_logging=True))
