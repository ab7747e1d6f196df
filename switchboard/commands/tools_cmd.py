"""``switchboard tools list|schema|call`` and ``switchboard flows list|run``."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any

import typer

from agent.prompts import load_prompts
from agent.wording import Wording
from core.errors import BadInput
from core.store.runs import RunStatus
from flows.export.sink import export_progress
from switchboard.app import App, console, err_console, handle_errors
from switchboard.feedback import working
from switchboard.render import print_json, render_result, render_table, safe
from tools.base import Table

app = typer.Typer(
    help="List the tool catalogue and call tools with typed arguments.",
    epilog="Example: switchboard tools call run_report --report sales_by_region --period last_month",
    no_args_is_help=True,
)
flows_app = typer.Typer(
    help="Run the named flows (pipelines) from the config.",
    epilog="Example: switchboard flows run nightly_sales_export",
    no_args_is_help=True,
)
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of a table.")


@cache
def _wording() -> Wording:
    return load_prompts().wording


def title_of(name: str) -> str:
    """A tool's title for people ("Run a report" for run_report): the wording chat and Telegram use too."""
    return _wording().title(name)


@app.command("list")
@handle_errors
def list_tools(as_json: bool = JSON_OPTION) -> None:
    """List every tool: what it does, its name, its risk and its arguments ('?' marks an optional one)."""
    from tools.registry import build_registry

    specs = list(build_registry().values())
    if as_json:
        print_json(
            [
                {
                    "name": spec.name,
                    "title": title_of(spec.name),
                    "risk": spec.risk,
                    "arguments": [
                        {"name": name, "required": info.is_required()}
                        for name, info in spec.args_model.model_fields.items()
                    ],
                    "description": spec.description,
                }
                for spec in specs
            ]
        )
        return
    rows = []
    for spec in specs:
        fields = spec.args_model.model_fields
        args = ", ".join(f"{name}{'' if info.is_required() else '?'}" for name, info in fields.items())
        rows.append([title_of(spec.name), spec.name, spec.risk, args or None])
    render_table(Table(title="Tools", columns=["what it does", "tool", "risk", "arguments"], rows=rows))
    console.print("What a tool does in detail: switchboard tools schema NAME", highlight=False, markup=False)


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
    print_json(tools)


def rows_written(say: Callable[[str], None], label: str) -> Callable[[int], None]:
    """A progress hook for exports: the spinner says how many rows are written, once the export takes a second."""
    started = time.monotonic()

    def report(rows: int) -> None:
        if time.monotonic() - started >= 1.0:
            say(f"{label} · {rows:,} rows written")

    return report


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
    name: str = typer.Argument(
        ..., help="Tool name, e.g. run_report ('switchboard tools list' has them all)."
    ),
    actor: str = typer.Option("cli", "--as", help="Who is acting (recorded in the audit log)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Call a tool: switchboard tools call run_report --report sales_by_region --period last_month.

    It runs at once, without the approval policy chat and the console apply: shell access to this host is
    trusted (see README, "The CLI and approvals"). The audit log records the call with source "cli".
    """
    state: App = ctx.obj
    args = parse_options(list(ctx.args))
    runner = state.runner()
    label = f"{title_of(name)} ({name})"
    with working(state, label) as say, export_progress(rows_written(say, label)):
        execution = runner.call(name, args, actor=actor, source="cli")
    if as_json:
        print_json(execution.result.model_dump(mode="json"))
    else:
        render_result(execution.result)
        if execution.run is not None:
            console.print(f"Run {execution.run.id}: {execution.run.status.value}", highlight=False)


@flows_app.command("list")
@handle_errors
def list_flows(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the named flows and their steps."""
    state: App = ctx.obj
    pipelines = state.settings.pipelines
    if as_json:
        print_json(
            [
                {"name": name, "description": p.description, "steps": [step.tool for step in p.steps]}
                for name, p in pipelines.items()
            ]
        )
        return
    rows = [
        [name, " → ".join(step.tool for step in pipeline.steps), pipeline.description]
        for name, pipeline in pipelines.items()
    ]
    render_table(
        Table(title="Flows", columns=["flow", "steps", "description"], rows=rows),
        empty="No flows configured.",
    )


@flows_app.command("run")
@handle_errors
def run_flow(
    ctx: typer.Context,
    flow: str = typer.Argument(..., help="nightly_sales_export, customer_sync or invoice_run."),
    actor: str = typer.Option("cli", "--as", help="Who is acting (recorded in the audit log)."),
) -> None:
    """Run a named flow now and print each step; exit 1 when a step failed, even one allowed to fail.

    It runs at once, without the approval policy chat and the console apply: shell access to this host is
    trusted (see README, "The CLI and approvals"). The audit log records the call with source "cli".
    """
    state: App = ctx.obj
    runner = state.runner()
    with working(state, f"Running {flow}") as say, export_progress(rows_written(say, f"Running {flow}")):
        execution = runner.call("run_flow", {"flow": flow}, actor=actor, source="cli")
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
