"""``switchboard approvals list|show|approve|reject``: the approval service from the terminal."""

from __future__ import annotations

import json

import typer

from core.store import approval_ops
from core.store.approvals import ApprovalStatus
from switchboard.app import App, console, handle_errors
from switchboard.commands.chat_cmd import resolve_actor
from switchboard.render import render_table
from tools.base import Table

app = typer.Typer(help="List and decide approval requests.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_cmd(ctx: typer.Context, status: ApprovalStatus = typer.Option(ApprovalStatus.PENDING)) -> None:
    """List approval requests (pending by default)."""
    state: App = ctx.obj
    rows = [
        [r.id, r.tool, json.dumps(r.args), r.requester, r.status.value, f"{r.expires_at:%Y-%m-%d %H:%M}"]
        for r in approval_ops.list_requests(engine=state.engine, status=status)
    ]
    render_table(
        Table(
            title=f"Approvals ({status.value})",
            columns=["id", "tool", "args", "requester", "status", "expires"],
            rows=rows,
        )
    )


@app.command()
@handle_errors
def show(ctx: typer.Context, approval_id: str) -> None:
    """Show one request with its dry-run preview."""
    state: App = ctx.obj
    request = approval_ops.get_request(engine=state.engine, approval_id=approval_id)
    console.print_json(request.model_dump_json())


@app.command()
@handle_errors
def approve(
    ctx: typer.Context, approval_id: str, actor: str = typer.Option(..., "--as", help="The approver.")
) -> None:
    """Approve a request; it runs once when the quorum is reached."""
    from agent.service import open_switchboard

    state: App = ctx.obj
    name, role = resolve_actor(state, actor, None)
    with open_switchboard(state.settings, state.engine) as service:
        outcome = service.approvals.approve(approval_id, approver=name, role=role)
    console.print(
        outcome.text or f"Request {approval_id} is {outcome.request.status.value}.", highlight=False
    )


@app.command()
@handle_errors
def reject(
    ctx: typer.Context,
    approval_id: str,
    actor: str = typer.Option(..., "--as"),
    reason: str = typer.Option(..., help="Why; goes back to the requester."),
) -> None:
    """Reject a request with a reason."""
    from agent.service import open_switchboard

    state: App = ctx.obj
    name, role = resolve_actor(state, actor, None)
    with open_switchboard(state.settings, state.engine) as service:
        outcome = service.approvals.reject(approval_id, approver=name, role=role, reason=reason)
    console.print(outcome.text, highlight=False)
