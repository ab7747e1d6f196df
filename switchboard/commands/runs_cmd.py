"""``switchboard runs`` and ``switchboard schedules``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import typer

from core.store.models import MAX_INTEGER
from core.store.runs import FAILED_STATUSES, RunStatus
from core.vocabulary import Role
from flows.operations.schedules import list_schedules, set_paused
from switchboard.app import App, console, err_console, handle_errors
from switchboard.commands.chat_cmd import resolve_actor
from switchboard.render import plain, render_result, render_table, safe
from tools.base import Table
from tools.runs import RUN_COLUMNS, run_row

schedules_app = typer.Typer(help="List, pause and resume flow schedules.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``runs`` and ``retry`` to the root app."""

    @app.command()
    @handle_errors
    def runs(
        ctx: typer.Context,
        failed: bool = typer.Option(False, "--failed", help="Only failed, partial and dead-lettered runs."),
        status: RunStatus | None = typer.Option(None, help="Only runs in this state."),
        name: str | None = typer.Option(None, help="Only runs of this tool or flow."),
        limit: int = typer.Option(30, min=1, max=1000),
        show: int | None = typer.Option(
            None, min=1, max=MAX_INTEGER, help="Show one run with its steps, inputs and output."
        ),
    ) -> None:
        """List recent runs (newest first), or show one."""
        state: App = ctx.obj
        runner = state.runner()
        if show is not None:
            run = runner.runs.get(show)
            rows = [run_row(run)] + [run_row(step) for step in runner.runs.steps(show)]
            render_table(Table(title=f"Run {show}", columns=RUN_COLUMNS, rows=rows))
            console.print_json(data={"inputs": run.inputs, "output": run.output, "versions": run.versions})
            return
        statuses: tuple[RunStatus, ...] | None = None
        if failed:
            statuses = FAILED_STATUSES
        elif status:
            statuses = (status,)
        found = runner.runs.list(statuses=statuses, name=name, limit=limit)
        render_table(
            Table(title="Runs", columns=RUN_COLUMNS, rows=[run_row(r) for r in found]), max_rows=limit
        )

    @app.command()
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
        with open_switchboard(state.settings, state.engine) as service:
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
def list_cmd(ctx: typer.Context) -> None:
    """List schedules with their next run."""
    state: App = ctx.obj
    rows = [
        [
            s.id,
            s.flow,
            s.cron,
            "paused" if s.paused else "active",
            f"{s.next_run_at:%Y-%m-%d %H:%M}" if s.next_run_at else None,
        ]
        for s in list_schedules(engine=state.engine)
    ]
    render_table(
        Table(title="Schedules", columns=["id", "flow", "cron", "state", "next run (UTC)"], rows=rows)
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
    fired = run_due_schedules(runner=state.runner(), now=datetime.now(UTC))
    console.print(f"{len(fired)} scheduled run(s) started." if fired else "Nothing is due.")
