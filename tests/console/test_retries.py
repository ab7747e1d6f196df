"""One retry service for chat, the console and the CLI: one policy gate, one runner, and so the same alerts.

Each test runs once per interface on a fresh database, so run ids, alerts and approval requests must come out the
same whoever asks.
"""

from __future__ import annotations

from typing import Literal

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from agent.config import ToolPolicy
from agent.service import Switchboard
from core.errors import DeliveryFailed, NotFound
from core.store import approval_ops
from core.store.approvals import ApprovalStatus
from core.store.runs import RunStatus
from flows.config import RetryPolicy, SmtpConfig
from switchboard.app import App
from switchboard.commands import runs_cmd
from switchboard.settings import Settings
from tests.console.conftest import People
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.servers.smtp import SmtpServer

Interface = Literal["chat", "console", "cli"]
INTERFACES: list[Interface] = ["chat", "console", "cli"]
ORDER = {
    "client_id": 4040,
    "product": "A100X",
    "quantity": 2,
}  # no customer 4040: fails the same way every time
NOTE = {"channel": "email", "recipient": "ops@example.com", "message": "Invoices are out"}


@pytest.fixture
def tool_policies() -> dict[str, ToolPolicy]:
    """Per-tool policy overrides on top of the shipped policy (a test parametrizes it)."""
    return {}


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer, tool_policies: dict[str, ToolPolicy]) -> Settings:
    """Alerts and notifications go to the loopback SMTP server; deliveries are tried once."""
    smtp = SmtpConfig(host="127.0.0.1", port=smtp_server.port, sender="switchboard@example.com", timeout_s=5)
    policy = settings.policy.model_copy(update={"tools": {**settings.policy.tools, **tool_policies}})
    return settings.model_copy(
        update={"smtp": smtp, "retry": RetryPolicy(attempts=1, base_delay_s=0), "policy": policy}
    )


def cli(settings: Settings, engine: Engine) -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _root(ctx: typer.Context) -> None:
        ctx.obj = App(_settings=settings, _engine=engine)

    runs_cmd.register(root)
    return root


class Ask:
    """Asks for a retry of a run as olive, an operator, through one interface; returns what olive is told.

    ``code`` is the HTTP status (console) or the exit code (CLI) of the last request; chat has none.
    """

    def __init__(
        self,
        interface: Interface,
        *,
        sb: Switchboard,
        client: TestClient,
        people: People,
        backend: ScriptedBackend,
        settings: Settings,
        engine: Engine,
    ) -> None:
        self.interface, self.sb, self.client, self.people = interface, sb, client, people
        self.backend, self.settings, self.engine = backend, settings, engine
        self.code: int | None = None

    def retry(self, run_id: int) -> str:
        if self.interface == "chat":
            self.backend.enqueue("retry_run", {"run_id": run_id}, confidence=0.95)
            reply = self.sb.chat(thread_id="t1", user="olive", role="operator", text=f"retry run {run_id}")
            if reply.kind == "confirm":
                reply = self.sb.chat(thread_id="t1", user="olive", role="operator", text="yes")
            return reply.text
        if self.interface == "console":
            response = self.client.post(f"/api/runs/{run_id}/retry", headers=self.people("olive"))
            self.code = response.status_code
            body = response.json()
            return str(body["summary"] if response.is_success else body["detail"])
        result = CliRunner().invoke(cli(self.settings, self.engine), ["retry", str(run_id), "--as", "olive"])
        self.code = result.exit_code
        return result.output


@pytest.fixture(params=INTERFACES)
def ask(
    request: pytest.FixtureRequest,
    sb: Switchboard,
    client: TestClient,
    people: People,
    backend: ScriptedBackend,
    settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> Ask:
    monkeypatch.setenv("COLUMNS", "200")  # the CLI's rich output is not wrapped
    people.token("olive")
    return Ask(
        request.param, sb=sb, client=client, people=people, backend=backend, settings=settings, engine=engine
    )


def _runs(sb: Switchboard) -> list[tuple[int | None, str, RunStatus, int, int | None]]:
    return sorted((r.id, r.name, r.status, r.attempt, r.parent_id) for r in sb.runner.runs.list(limit=20))


def test_a_dead_lettered_retry_raises_the_same_alert_from_every_interface(
    ask: Ask, sb: Switchboard, smtp_server: SmtpServer
) -> None:
    with pytest.raises(NotFound) as failure:
        sb.runner.call("create_order", ORDER, actor="olive")
    error = failure.value.message
    with pytest.raises(NotFound):
        sb.runner.retry(1, actor="olive")
    assert [m.text for m in smtp_server.wait_for(1)] == [
        f"[Switchboard alert] Run 1 (create_order) failed: {error}\n"  # run 2's alert is debounced
    ]
    smtp_server.clear()

    told = ask.retry(2)

    assert sorted((m.rcpt_tos[0], m.text) for m in smtp_server.wait_for(2)) == [
        ("ops@example.com", f"[Switchboard alert] Run 3 (retry_run) failed: {error}\n"),
        (
            "ops@example.com",
            f"[Switchboard alert] Run 4 (create_order) is dead-lettered after 3 attempts: {error}\n",
        ),
    ]
    assert _runs(sb) == [
        (1, "create_order", RunStatus.FAILED, 1, None),
        (2, "create_order", RunStatus.FAILED, 2, 1),
        (3, "retry_run", RunStatus.FAILED, 1, None),
        (4, "create_order", RunStatus.DEAD_LETTERED, 3, 2),
    ]
    expected = {
        "chat": f"That didn't work: {error}",
        "console": f"The retry of run 2 failed again: {error}",
        "cli": f"Run 4: dead_lettered\nError: The retry of run 2 failed again: {error}\n",
    }
    codes = {"chat": None, "console": 200, "cli": 1}
    assert (told, ask.code) == (expected[ask.interface], codes[ask.interface])


def failed_notification(sb: Switchboard, smtp_server: SmtpServer) -> None:
    """Run 1: a notification the mail server rejected (its run_failed alert is sent, then forgotten)."""
    smtp_server.fail_next("554 5.7.1 Message rejected")
    with pytest.raises(DeliveryFailed):
        sb.runner.call("send_notification", NOTE, actor="olive")
    smtp_server.wait_for(1)
    smtp_server.clear()


def test_retrying_an_external_action_needs_an_approver_from_every_interface(
    ask: Ask, sb: Switchboard, engine: Engine, smtp_server: SmtpServer
) -> None:
    failed_notification(sb, smtp_server)

    told = ask.retry(1)

    [request] = approval_ops.list_requests(engine=engine, status=ApprovalStatus.PENDING)
    waiting = f"Retrying run 1 needs an approver: request {request.id} is waiting."
    expected = {
        "chat": "To retry run 1 I need an approver's sign-off (external action needs an approver). Request "
        f"{request.id} is waiting for approval; it expires {request.expires_at:%Y-%m-%d %H:%M} UTC. "
        "I'll tell you here when it is decided.",
        "console": waiting,
        "cli": waiting + "\n",
    }
    codes = {"chat": None, "console": 200, "cli": 0}
    assert (told, ask.code) == (expected[ask.interface], codes[ask.interface])
    assert (request.tool, request.args, request.requester, request.reasons, request.risk, request.quorum) == (
        "retry_run",
        {"run_id": 1},
        "olive",
        ["external action needs an approver"],
        "external",
        1,
    )
    assert _runs(sb) == [(1, "send_notification", RunStatus.FAILED, 1, None)]
    assert smtp_server.messages == []

    outcome = sb.approvals.approve(request.id, approver="ann", role="approver")

    assert (outcome.executed, outcome.run_id) == (True, 2)
    assert _runs(sb) == [
        (1, "send_notification", RunStatus.FAILED, 1, None),
        (2, "retry_run", RunStatus.SUCCEEDED, 1, None),
        (3, "send_notification", RunStatus.SUCCEEDED, 2, 1),  # the retry of run 1, linked to it
    ]
    assert [(m.rcpt_tos, m.text) for m in smtp_server.wait_for(1)] == [
        (["ops@example.com"], "Invoices are out\n")
    ]


@pytest.mark.parametrize("tool_policies", [{"send_notification": ToolPolicy(roles=["approver", "admin"])}])
def test_the_first_calls_own_policy_applies_to_its_retry_from_every_interface(
    ask: Ask, sb: Switchboard, engine: Engine, smtp_server: SmtpServer
) -> None:
    failed_notification(sb, smtp_server)

    told = ask.retry(1)

    refused = "the operator role may not use send_notification"
    expected = {
        "chat": f"Sorry, {refused}. Ask someone with the right role, or an admin.",
        "console": f"cannot retry run 1: {refused}",
        "cli": f"Error: cannot retry run 1: {refused}\n",
    }
    codes = {"chat": None, "console": 403, "cli": 2}
    assert (told, ask.code) == (expected[ask.interface], codes[ask.interface])
    assert approval_ops.list_requests(engine=engine) == []
    assert _runs(sb) == [(1, "send_notification", RunStatus.FAILED, 1, None)]
