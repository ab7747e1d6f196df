"""Approval gate: four-eyes, expiry, edit, restart, races (SQLite and PostgreSQL) and a state-machine property."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from agent.service import Switchboard, open_switchboard
from core.errors import Conflict, Forbidden
from core.store import approval_ops
from core.store.approvals import ApprovalRequest, ApprovalStatus, binding_of
from core.store.audit import AuditLog
from core.store.runs import RunStatus
from switchboard.settings import Settings
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
from tools.registry import Registry


class PayArgs(ToolArgs):
    account: str
    amount: int


@pytest.fixture
def settings(settings: Settings) -> Settings:
    from flows.config import RetryPolicy

    # Alerts mail ops and no SMTP server runs here: fail fast instead of backing off.
    return settings.model_copy(update={"retry": RetryPolicy(attempts=1, base_delay_s=0)})


class Payments:
    """An external tool that counts real executions and remembers the arguments it ran with."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, ctx: ToolContext, args: PayArgs) -> ToolResult:
        with self.lock:
            self.calls.append(args.model_dump())
        return ToolResult(summary=f"paid {args.amount} to {args.account}")


@pytest.fixture
def payments() -> Payments:
    return Payments()


def _registry(payments: Payments) -> Registry:
    return Registry(
        [
            ToolSpec(
                name="pay", description="Pay an account.", args_model=PayArgs, risk="external", func=payments
            )
        ]
    )


@pytest.fixture
def sb(settings: Settings, engine: Engine, payments: Payments) -> Iterator[Switchboard]:
    with open_switchboard(settings, engine, registry=_registry(payments), backend=_NoBackend()) as service:
        yield service


class _NoBackend:
    name = "none"

    def decide(self, request: Any) -> Any:  # pragma: no cover - the tests call the service API directly
        raise AssertionError("not used")


def _request(sb: Switchboard, **args: Any) -> str:
    return sb.approvals.request(
        tool="pay",
        args={"account": "acme", "amount": 10, **args},
        requester="ann",
        reasons=["external action needs an approver"],
        thread_id="t-ann",
    ).id


def _row(sb: Switchboard, approval_id: str) -> ApprovalRequest:
    return approval_ops.get_request(engine=sb.engine, approval_id=approval_id)


def test_four_eyes_then_approval_runs_once(sb: Switchboard, payments: Payments) -> None:
    approval_id = _request(sb)
    with pytest.raises(Forbidden, match="four-eyes"):
        sb.approvals.approve(approval_id, approver="ann", role="approver")
    outcome = sb.approvals.approve(approval_id, approver="bob", role="approver")
    assert outcome.executed and payments.calls == [{"account": "acme", "amount": 10}]
    assert outcome.request.status == ApprovalStatus.EXECUTED
    with pytest.raises(Conflict, match=f"approval request {approval_id} is already executed by bob"):
        sb.approvals.approve(approval_id, approver="bob", role="approver")
    with pytest.raises(Conflict):
        sb.approvals.approve(approval_id, approver="cy", role="admin")
    assert payments.calls == [{"account": "acme", "amount": 10}]
    events = [r.event for r in AuditLog(sb.engine).iter_records()]
    for expected in (
        "approval.requested",
        "approval.vote",
        "approval.approved",
        "run.created",
        "run.succeeded",
        "approval.executed",
    ):
        assert expected in events
    assert AuditLog(sb.engine).verify().ok


def test_expired_request_cannot_be_approved(sb: Switchboard, payments: Payments) -> None:
    approval_id = _request(sb)
    later = datetime.now(UTC) + timedelta(hours=25)
    with pytest.raises(Conflict, match="expired"):
        approval_ops.approve(
            engine=sb.engine, approval_id=approval_id, approver="bob", role="approver", now=later
        )
    outcomes = sb.approvals.expire_due(now=later)
    assert [o.request.status for o in outcomes] == [ApprovalStatus.EXPIRED]
    assert outcomes[0].text.endswith("expired before anyone decided, so it did not run.")
    assert payments.calls == []


def test_edit_creates_a_linked_request_the_editor_cannot_approve(sb: Switchboard, payments: Payments) -> None:
    approval_id = _request(sb)
    new = sb.approvals.edit(approval_id, editor="bob", role="approver", args={"account": "acme", "amount": 7})
    assert (new.parent_id, new.args, new.edited_by) == (approval_id, {"account": "acme", "amount": 7}, "bob")
    assert (
        approval_ops.get_request(engine=sb.engine, approval_id=approval_id).status
        == ApprovalStatus.SUPERSEDED
    )
    with pytest.raises(Forbidden, match="four-eyes"):
        sb.approvals.approve(new.id, approver="bob", role="approver")
    sb.approvals.approve(new.id, approver="cy", role="approver")
    assert payments.calls == [{"account": "acme", "amount": 7}]


def test_restart_between_request_and_decision(settings: Settings, engine: Engine, payments: Payments) -> None:
    with open_switchboard(settings, engine, registry=_registry(payments), backend=_NoBackend()) as first:
        approval_id = _request(first)
        assert first.graph is not None
    # A new process: new checkpointer connection, new graphs; the paused approval thread is on disk.
    with open_switchboard(settings, engine, registry=_registry(payments), backend=_NoBackend()) as second:
        config = {"configurable": {"thread_id": f"approval:{approval_id}"}}
        assert second.approvals.graph.get_state(config).interrupts
        outcome = second.approvals.approve(approval_id, approver="bob", role="approver")
        assert outcome.executed
        assert second.approvals.recover() == [] or all(not o.executed for o in second.approvals.recover())
    assert payments.calls == [{"account": "acme", "amount": 10}]


def test_replayed_old_checkpoint_never_executes_twice(sb: Switchboard, payments: Payments) -> None:
    approval_id = _request(sb)
    sb.approvals.approve(approval_id, approver="bob", role="approver")
    # Resume the approval thread again from the state before its decision: the side effect must not repeat.
    config = {"configurable": {"thread_id": f"approval:{approval_id}"}}
    history = list(sb.approvals.graph.get_state_history(config))
    paused = next(h for h in history if h.interrupts)
    from langgraph.types import Command

    sb.approvals.graph.invoke(Command(resume={"status": "approved", "by": "bob"}), paused.config)
    sb.approvals.thread.act(
        _row(sb, approval_id), binding=binding_of("pay", {"account": "acme", "amount": 10})
    )
    assert payments.calls == [{"account": "acme", "amount": 10}]


def test_arguments_differing_from_the_approved_ones_never_run(sb: Switchboard, payments: Payments) -> None:
    approval_id = _request(sb)
    approval_ops.approve(engine=sb.engine, approval_id=approval_id, approver="bob", role="approver")
    outcome = sb.approvals.thread.act(
        _row(sb, approval_id), binding=binding_of("pay", {"account": "mallory", "amount": 10_000})
    )
    assert not outcome.executed and payments.calls == []
    assert approval_ops.get_request(engine=sb.engine, approval_id=approval_id).status == ApprovalStatus.FAILED


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_fifty_racing_approvers_execute_once(
    db: str, settings: Settings, payments: Payments, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from core.store.db import make_engine
    from core.store.schema import init_db
    from tests.utils.db import fresh_engine

    if db == "sqlite":
        engine = make_engine(settings.database_url)
        init_db(engine)
    else:
        engine = fresh_engine(request.getfixturevalue("postgres_url"))
    with open_switchboard(settings, engine, registry=_registry(payments), backend=_NoBackend()) as sb:
        approval_id = _request(sb)
        barrier = threading.Barrier(50)
        results: list[str] = []

        def approver(i: int) -> None:
            barrier.wait()
            try:
                outcome = sb.approvals.approve(approval_id, approver=f"approver{i % 5}", role="approver")
                results.append("executed" if outcome.executed else "voted")
            except (Conflict, Forbidden):
                results.append("refused")

        threads = [threading.Thread(target=approver, args=(i,)) for i in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert payments.calls == [{"account": "acme", "amount": 10}]
    assert results.count("executed") == 1 and results.count("refused") == 49
    runs = [r for r in sb.runner.runs.list() if r.name == "pay"]
    assert [(r.status, r.idempotency_key) for r in runs] == [(RunStatus.SUCCEEDED, approval_id)]
    assert AuditLog(engine).verify().ok
    engine.dispose()


def test_reminder_before_expiry_is_sent_once(sb: Switchboard, payments: Payments) -> None:
    approval_id = _request(sb)
    seen: list[str] = []

    class Listener:
        def on_requested(self, request: Any) -> None: ...

        def on_outcome(self, request: Any, text: str) -> None: ...

        def on_reminder(self, request: Any) -> None:
            seen.append(request.id)

    sb.approvals.listeners.append(Listener())
    soon = datetime.now(UTC) + timedelta(hours=23)
    assert [r.id for r in sb.approvals.remind_due(now=soon)] == [approval_id]
    assert sb.approvals.remind_due(now=soon + timedelta(minutes=5)) == []
    assert seen == [approval_id]
    assert any(
        r.event == "alert.raised" and "approval_expiring" in (r.subject or "")
        for r in AuditLog(sb.engine).iter_records()
    )
