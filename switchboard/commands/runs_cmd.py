"""``switchboard runs`` and ``switchboard schedules``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import typer

from core.store.models import MAX_INTEGER
from core.store.runs import FAILED_STATUSES, Run, RunStatus, RunStore
from core.vocabulary import Role
from flows.operations.schedules import list_schedules, set_paused
from switchboard.app import App, console, err_console, handle_errors
from switchboard.commands import panels
from switchboard.commands.chat_cmd import resolve_actor
from switchboard.feedback import working
from switchboard.render import plain, print_json, render_result, render_table, safe
from tools.base import Table
from tools.runs import RUN_COLUMNS, run_row

schedules_app = typer.Typer(help="List, pause and resume flow schedules.", no_args_is_help=True)
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of a table.")


def run_json(run: Run) -> dict[str, Any]:
    """A run as ``runs --json`` prints it (timestamps in ISO 8601, UTC)."""
    return {
        "id": run.id,
        "name": run.name,
        "kind": run.kind,
        "status": run.status.value,
        "attempt": run.attempt,
        "actor": run.actor,
        "parent_id": run.parent_id,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_ms": run.duration_ms,
        "error": run.error,
        "error_code": run.error_code,
    }


def _show_run(store: RunStore, run_id: int, *, as_json: bool) -> None:
    run, steps = store.get(run_id), store.steps(run_id)
    if as_json:
        details = {"inputs": run.inputs, "output": run.output, "versions": run.versions}
        print_json(run_json(run) | details | {"steps": [run_json(step) for step in steps]})
        return
    rows = [run_row(run)] + [run_row(step) for step in steps]
    render_table(Table(title=f"Run {run_id}", columns=RUN_COLUMNS, rows=rows))
    print_json({"inputs": run.inputs, "output": run.output, "versions": run.versions})


def register(app: typer.Typer) -> None:
    """Add ``runs`` and ``retry`` to the root app."""

    @app.command(rich_help_panel=panels.RUN)
    @handle_errors
    def runs(
        ctx: typer.Context,
        run_id: int | None = typer.Argument(
            None,
            min=1,
            max=MAX_INTEGER,
            metavar="[ID]",
            help="Show this run with its steps, inputs and output.",
        ),
        failed: bool = typer.Option(False, "--failed", help="Only failed, partial and dead-lettered runs."),
        status: RunStatus | None = typer.Option(None, help="Only runs in this state."),
        name: str | None = typer.Option(None, help="Only runs of this tool or flow."),
        limit: int = typer.Option(30, min=1, max=1000),
        show: int | None = typer.Option(
            None, min=1, max=MAX_INTEGER, help="The same as giving ID (kept for scripts).", hidden=True
        ),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """List recent runs (newest first), or show one: 'switchboard runs --failed', 'switchboard runs 3'."""
        state: App = ctx.obj
        store = RunStore(state.engine)  # a read: no durable engine to start and stop
        one = run_id if run_id is not None else show
        if one is not None:
            _show_run(store, one, as_json=as_json)
            return
        statuses: tuple[RunStatus, ...] | None = None
        if failed:
            statuses = FAILED_STATUSES
        elif status:
            statuses = (status,)
        found = store.list(statuses=statuses, name=name, limit=limit)
        if as_json:
            print_json([run_json(r) for r in found])
            return
        render_table(
            Table(title="Runs", columns=RUN_COLUMNS, rows=[run_row(r) for r in found]),
            max_rows=limit,
            empty="No runs match.",
        )

    @app.command(rich_help_panel=panels.RUN)
    @handle_errors
    def retry(
        ctx: typer.Context,
        run_id: int = typer.Argument(..., min=1, max=MAX_INTEGER, help="The failed run to retry."),
        actor: str = typer.Option("cli", "--as", help="Who asks (their stored role applies)."),
        role: str | None = typer.Option(None, help="Role when the user is not in the database."),
    ) -> None:
        """Retry a failed run as a new attempt linked to it; an external action waits for an approver."""
        from agent.retries import retry_failed_run
        from agent.service import open_switchboard

        state: App = ctx.obj
        name, resolved = resolve_actor(state, actor, role)
        with (
            open_switchboard(state.settings, state.engine) as service,
            working(state, f"Retrying run {run_id}"),
        ):
            outcome = retry_failed_run(
                sb=service, run_id=run_id, actor=name, role=cast(Role, resolved), source="cli"
            )
        if outcome.result is not None:
            render_result(outcome.result)
        elif outcome.error is None:
            console.print(plain(outcome.summary), highlight=False)
        if outcome.run is not None:
            console.print(f"Run {outcome.run.id}: {outcome.run.status.value}", highlight=False)
        if outcome.error is not None:
            err_console.print(f"[bold red]Error:[/] {safe(outcome.summary)}", highlight=False)
            raise typer.Exit(code=1)


@schedules_app.command("list")
@handle_errors
def list_cmd(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List schedules with their next run."""
    state: App = ctx.obj
    found = list_schedules(engine=state.engine)
    if as_json:
        print_json(
            [
                {
                    "id": s.id,
                    "flow": s.flow,
                    "cron": s.cron,
                    "paused": s.paused,
                    "next_run_at": s.next_run_at.isoformat() if s.next_run_at else None,
                }
                for s in found
            ]
        )
        return
    rows = [
        [
            s.id,
            s.flow,
            s.cron,
            "paused" if s.paused else "active",
            f"{s.next_run_at:%Y-%m-%d %H:%M}" if s.next_run_at else None,
        ]
        for s in found
    ]
    render_table(
        Table(title="Schedules", columns=["id", "flow", "cron", "state", "next run (UTC)"], rows=rows),
        empty="No schedules yet.",
    )


@schedules_app.command("pause")
@handle_errors
def pause(
    ctx: typer.Context,
    schedule_id: int = typer.Argument(..., min=1, max=MAX_INTEGER),
    actor: str = typer.Option("cli", "--as"),
) -> None:
    """Pause a schedule."""
    state: App = ctx.obj
    set_paused(engine=state.engine, schedule_id=schedule_id, paused=True, actor=actor)
    console.print(f"Schedule {schedule_id} paused.")


@schedules_app.command("resume")
@handle_errors
def resume(
    ctx: typer.Context,
    schedule_id: int = typer.Argument(..., min=1, max=MAX_INTEGER),
    actor: str = typer.Option("cli", "--as"),
) -> None:
    """Resume a paused schedule."""
    state: App = ctx.obj
    set_paused(engine=state.engine, schedule_id=schedule_id, paused=False, actor=actor)
    console.print(f"Schedule {schedule_id} resumed.")


@schedules_app.command("run-due")
@handle_errors
def run_due(ctx: typer.Context) -> None:
    """Run every schedule that is due now (including ones missed while nothing was running), once each."""
    from tools.scheduler import run_due_schedules

    state: App = ctx.obj
    with working(state, "Running the schedules that are due"):
        fired = run_due_schedules(runner=state.runner(), now=datetime.now(UTC))
    console.print(f"{len(fired)} scheduled run(s) started." if fired else "Nothing is due.")
