"""``switchboard approvals list|show|approve|reject``: the approval service from the terminal.

``--as`` names a stored user: the approval rule (``can_decide``) reads their role and whether their account is
active, so a deactivated approver is refused here as in the console and the bot.
"""

from __future__ import annotations

import json

import typer

from core.store import approval_ops
from core.store.approval_rule import Decision, can_decide
from core.store.approvals import ApprovalStatus
from core.store.users import User, get_user
from switchboard.app import App, console, handle_errors
from switchboard.render import plain, print_json, render_table
from tools.base import Table

app = typer.Typer(
    help="List and decide approval requests.",
    epilog="Example: switchboard approvals approve 3f2a… --as ann",
    no_args_is_help=True,
)


@app.command("list")
@handle_errors
def list_cmd(
    ctx: typer.Context,
    status: ApprovalStatus = typer.Option(ApprovalStatus.PENDING),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
) -> None:
    """List approval requests (pending by default): 'switchboard approvals list --status approved'."""
    state: App = ctx.obj
    found = approval_ops.list_requests(engine=state.engine, status=status)
    if as_json:
        print_json([json.loads(request.model_dump_json()) for request in found])
        return
    rows = [
        [r.id, r.tool, json.dumps(r.args), r.requester, r.status.value, f"{r.expires_at:%Y-%m-%d %H:%M}"]
        for r in found
    ]
    render_table(
        Table(
            title=f"Approvals ({status.value})",
            columns=["id", "tool", "args", "requester", "status", "expires"],
            rows=rows,
        ),
        empty=f"No {status.value} approvals.",
    )


@app.command()
@handle_errors
def show(ctx: typer.Context, approval_id: str) -> None:
    """Show one request with its dry-run preview."""
    state: App = ctx.obj
    request = approval_ops.get_request(engine=state.engine, approval_id=approval_id)
    print_json(json.loads(request.model_dump_json()))


def _decider(state: App, approval_id: str, actor: str, decision: Decision) -> User:
    """The stored user ``actor``, once the approval rule lets them make ``decision`` on the request.

    Checked before the service is built, so a refusal is quick; the service applies the same rule again.

    Raises:
        NotFound: no such user or request.
        Forbidden: an inactive account, a missing role, or four-eyes.
        Conflict: already decided, expired, or already voted.
    """
    user = get_user(engine=state.engine, name=actor)
    _, ballot = approval_ops.load_ballot(engine=state.engine, approval_id=approval_id)
    can_decide(user, ballot, state.settings.policy, decision=decision).check()
    return user


@app.command()
@handle_errors
def approve(
    ctx: typer.Context, approval_id: str, actor: str = typer.Option(..., "--as", help="The approver.")
) -> None:
    """Approve a request; it runs once when the quorum is reached."""
    from agent.service import open_switchboard

    state: App = ctx.obj
    user = _decider(state, approval_id, actor, "approve")
    with open_switchboard(state.settings, state.engine) as service:
        outcome = service.approvals.approve(approval_id, approver=user.name, role=user.role)
    console.print(
        plain(outcome.text or f"Request {approval_id} is {outcome.request.status.value}."), highlight=False
    )


@app.command()
@handle_errors
def reject(
    ctx: typer.Context,
    approval_id: str,
    actor: str = typer.Option(..., "--as", help="The approver, or the requester withdrawing it."),
    reason: str = typer.Option(..., help="Why; goes back to the requester."),
) -> None:
    """Reject a request with a reason."""
    from agent.service import open_switchboard

    state: App = ctx.obj
    user = _decider(state, approval_id, actor, "reject")
    with open_switchboard(state.settings, state.engine) as service:
        outcome = service.approvals.reject(
            approval_id, approver=user.name, role=user.role, reason=reason, channel="cli"
        )
    console.print(plain(outcome.text), highlight=False)
