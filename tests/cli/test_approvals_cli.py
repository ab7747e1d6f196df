"""``switchboard approvals approve|reject --as NAME`` follows the approval rule with the stored user's role and
whether their account is active: deactivated approvers, operators and requesters are refused, an approver runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from agent.service import Switchboard, open_switchboard
from core.store import approval_ops
from core.store.approvals import ApprovalStatus
from core.store.users import create_user, set_active
from switchboard.app import App
from switchboard.commands import approvals_cmd
from switchboard.settings import Settings
from tests.conftest import REFERENCE_DATE
from tests.utils.factories import seed_basic
from tests.utils.fake_backend import ScriptedBackend

Run = Callable[..., tuple[int, str]]
PEOPLE = {"olive": "operator", "oscar": "operator", "ann": "approver", "bob": "approver"}


@pytest.fixture
def sb(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Switchboard]:
    # The chat backend plays no part in deciding a request: skip loading the router, here and in the CLI.
    monkeypatch.setattr("agent.backends.factory.build_backend", lambda *_a, **_k: ScriptedBackend())
    for name, role in PEOPLE.items():
        create_user(engine=engine, name=name, role=role, password=None, actor="test")
    with open_switchboard(settings, engine) as service:
        yield service


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("COLUMNS", "200")  # one message, one line
    root = typer.Typer()

    @root.callback()
    def _root(ctx: typer.Context) -> None:
        ctx.obj = App(
            overrides={
                "database_url": settings.database_url,
                "var_dir": settings.var_dir,
                "reference_date": REFERENCE_DATE.isoformat(),
            }
        )

    root.add_typer(approvals_cmd.app, name="approvals")

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(root, ["approvals", *args])
        return result.exit_code, result.output

    return invoke


def _request(sb: Switchboard, requester: str) -> str:
    seed_basic(sb.engine)
    sb.runner.call("export_dataset", {"dataset": "customers", "format": "csv"}, actor=requester)
    return sb.approvals.request(
        tool="deliver_file",
        args={"file": "latest", "destination": "finance_share"},
        requester=requester,
        reasons=["external action needs an approver"],
    ).id


def test_the_cli_refuses_whom_the_rule_refuses(run: Run, sb: Switchboard, engine: Engine) -> None:
    approval_id = _request(sb, "bob")
    set_active(engine=engine, name="ann", active=False, actor="test")
    assert run("approve", approval_id, "--as", "ann") == (
        2,
        "Error: ann's account is deactivated; an admin can reactivate it\n",
    )
    assert run("approve", approval_id, "--as", "oscar") == (
        2,
        "Error: oscar has the operator role; only approvers and admins can decide requests\n",
    )
    assert run("approve", approval_id, "--as", "bob") == (
        2,
        "Error: four-eyes rule: you cannot approve your own request; another approver must decide it\n",
    )
    assert run("approve", approval_id, "--as", "zed") == (2, "Error: no user called 'zed'\n")
    assert run("reject", approval_id, "--as", "oscar", "--reason", "no") == (
        2,
        "Error: oscar has the operator role; only approvers and admins can decide requests\n",
    )
    assert approval_ops.get_request(engine=engine, approval_id=approval_id).status == ApprovalStatus.PENDING
    set_active(engine=engine, name="ann", active=True, actor="test")
    code, out = run("approve", approval_id, "--as", "ann")
    assert (code, out.split(" has run: ", 1)[0]) == (
        0,
        f"Request {approval_id} (send artifact 1 to finance share) was approved by ann and",
    )
    assert run("approve", approval_id, "--as", "ann") == (
        2,
        f"Error: approval request {approval_id} is already executed by ann\n",
    )


def test_a_requester_may_withdraw_from_the_cli(run: Run, sb: Switchboard, engine: Engine) -> None:
    approval_id = _request(sb, "olive")
    code, out = run("reject", approval_id, "--as", "olive", "--reason", "sent it by hand")
    assert (code, out) == (
        0,
        f"Request {approval_id} (send artifact 1 to finance share) was rejected by olive: sent it by hand\n",
    )
    request = approval_ops.get_request(engine=engine, approval_id=approval_id)
    assert (request.status, request.decided_by) == (ApprovalStatus.REJECTED, "olive")
