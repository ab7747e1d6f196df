"""``switchboard tools list|schema|call`` and ``switchboard flows list|run``."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table as RichTable

from core.errors import BadInput
from core.store.runs import RunStatus
from switchboard.app import App, console, err_console, handle_errors
from switchboard.render import plain, render_result, safe

app = typer.Typer(help="List the tool catalogue and call tools with typed arguments.", no_args_is_help=True)
flows_app = typer.Typer(help="Run the named flows (pipelines) from the config.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_tools() -> None:
    """List every tool with its risk and arguments."""
    from tools.registry import build_registry

    table = RichTable(title="Tools", header_style="bold")
    for column in ("tool", "risk", "arguments", "description"):
        table.add_column(column, overflow="fold")
    for spec in build_registry().values():
        fields = spec.args_model.model_fields
        args = ", ".join(f"{name}{'' if info.is_required() else '?'}" for name, info in fields.items())
        table.add_row(*(plain(cell) for cell in (spec.name, spec.risk, args or "—", spec.description)))
    console.print(table)


@app.command("schema")
@handle_errors
def schema(name: str = typer.Argument(None, help="One tool; all when omitted.")) -> None:
    """Print tool schemas in Ollama's ``tools`` format."""
    from tools.registry import build_registry

    tools = build_registry().ollama_tools()
    if name:
        tools = [t for t in tools if t["function"]["name"] == name]
        if not tools:
            raise BadInput(f"unknown tool {name!r}; see 'switchboard tools list'")
    console.print_json(json.dumps(tools))


def parse_options(words: list[str]) -> dict[str, Any]:
    """Turn ``--key value``, ``--key=value``, ``--flag`` and ``--no-flag`` into an argument mapping."""
    args: dict[str, Any] = {}
    index = 0
    while index < len(words):
        word = words[index]
        if not word.startswith("--") or word == "--":
            raise BadInput(f"unexpected argument {word!r}: tool arguments look like --name value")
        key, _, inline = word[2:].partition("=")
        key = key.replace("-", "_")
        if inline:
            args[key] = inline
        elif index + 1 < len(words) and not words[index + 1].startswith("--"):
            index += 1
            args[key] = words[index]
        elif key.startswith("no_"):
            args[key[3:]] = False
        else:
            args[key] = True
        index += 1
    return args


@app.command(
    "call",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
@handle_errors
def call(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Tool name, e.g. run_report."),
    actor: str = typer.Option("cli", "--as", help="Who is acting (recorded in the audit log)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Call a tool: ``switchboard tools call run_report --report sales_by_region --period last_month``."""
    state: App = ctx.obj
    execution = state.runner().call(name, parse_options(list(ctx.args)), actor=actor, source="cli")
    if as_json:
        console.print_json(execution.result.model_dump_json())
    else:
        render_result(execution.result)
        if execution.run is not None:
            console.print(f"Run {execution.run.id}: {execution.run.status.value}", highlight=False)


@flows_app.command("list")
@handle_errors
def list_flows(ctx: typer.Context) -> None:
    """List the named flows and their steps."""
    state: App = ctx.obj
    table = RichTable(title="Flows", header_style="bold")
    for column in ("flow", "steps", "description"):
        table.add_column(column, overflow="fold")
    for name, pipeline in state.settings.pipelines.items():
        steps = " → ".join(step.tool for step in pipeline.steps)
        table.add_row(*(plain(cell) for cell in (name, steps, pipeline.description)))
    console.print(table)


@flows_app.command("run")
@handle_errors
def run_flow(
    ctx: typer.Context,
    flow: str = typer.Argument(..., help="nightly_sales_export, customer_sync or invoice_run."),
    actor: str = typer.Option("cli", "--as", help="Who is acting (recorded in the audit log)."),
) -> None:
    """Run a named flow now and print each step; exit 1 when a step failed, even one allowed to fail."""
    state: App = ctx.obj
    execution = state.runner().call("run_flow", {"flow": flow}, actor=actor, source="cli")
    render_result(execution.result)
    run = execution.run
    if run is None:
        return
    console.print(f"Run {run.id}: {run.status.value}", highlight=False)
    if run.status == RunStatus.PARTIAL:
        # Scripts and schedulers read the exit code: a flow that did not fully happen must not look like success.
        err_console.print(
            f"[bold red]Error:[/] flow {safe(run.name)} partly failed in run {run.id}: {safe(run.error or '')}",
            highlight=False,
            markup=True,
            soft_wrap=True,
        )
        raise typer.Exit(code=1)
