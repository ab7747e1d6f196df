"""Two processes' worth of approval services on one database: reminders, expiry and repeated requests happen once.

Each worker has an engine (a connection pool) and a service of its own, as two server processes would, and both
read the approval requests before either writes (``tests.core.racing``). Every test runs on SQLite and on
PostgreSQL (READ COMMITTED).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agent.service import Switchboard, open_switchboard
from core.store.approvals import ApprovalRequest, ApprovalStatus, ThreadMessage
from core.store.audit import AuditLog
from core.store.db import make_engine
from switchboard.settings import Settings
from tests.core.racing import race
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
from tools.registry import Registry

T = TypeVar("T")
WORKERS = 2
ROUNDS = 4


class PayArgs(ToolArgs):
    account: str
    amount: int


def _pay(ctx: ToolContext, args: PayArgs) -> ToolResult:  # pragma: no cover - nothing is approved here
    raise AssertionError("no request is approved in these tests")


class _NoBackend:
    name = "none"

    def decide(self, request: Any) -> Any:  # pragma: no cover - the tests call the service API directly
        raise AssertionError("not used")


class Heard:
    """An approval listener shared by every worker: what each interface would have told people."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requested: list[str] = []
        self.reminded: list[str] = []
        self.outcomes: list[tuple[str, str]] = []

    def on_requested(self, request: ApprovalRequest) -> None:
        with self.lock:
            self.requested.append(request.id)

    def on_reminder(self, request: ApprovalRequest) -> None:
        with self.lock:
            self.reminded.append(request.id)

    def on_outcome(self, request: ApprovalRequest, text: str) -> None:
        with self.lock:
            self.outcomes.append((request.id, text))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    from flows.config import RetryPolicy

    # Reminders alert ops by mail and no SMTP server runs here: fail fast instead of backing off.
    return settings.model_copy(update={"retry": RetryPolicy(attempts=1, base_delay_s=0)})


@pytest.fixture
def heard() -> Heard:
    return Heard()


@pytest.fixture
def workers(settings: Settings, any_engine: Engine, heard: Heard) -> Iterator[list[Switchboard]]:
    """One service per worker, each on an engine of its own over ``any_engine``'s database."""
    url = any_engine.url.render_as_string(hide_password=False)
    registry = Registry(
        [ToolSpec(name="pay", description="Pay an account.", args_model=PayArgs, risk="external", func=_pay)]
    )
    with ExitStack() as stack:
        services = []
        for _ in range(WORKERS):
            engine = make_engine(url)
            stack.callback(engine.dispose)
            service = stack.enter_context(
                open_switchboard(settings, engine, registry=registry, backend=_NoBackend())
            )
            service.approvals.listeners.append(heard)
            services.append(service)
        yield services


def _race(workers: list[Switchboard], work: Callable[[Switchboard], T]) -> list[T]:
    return race(workers, work, engines=[sb.engine for sb in workers], meet_after="approval_request")


def _request(sb: Switchboard, amount: int, requester: str = "ann") -> ApprovalRequest:
    return sb.approvals.request(
        tool="pay",
        args={"account": "acme", "amount": amount},
        requester=requester,
        reasons=["external action needs an approver"],
        thread_id=f"t-{requester}",
    )


def _events(engine: Engine, event: str) -> list[tuple[str, str | None]]:
    return [(r.actor, r.subject) for r in AuditLog(engine).iter_records() if r.event == event]


def test_each_reminder_is_sent_once_across_processes(workers: list[Switchboard], heard: Heard) -> None:
    ids = sorted(_request(workers[0], amount).id for amount in range(1, ROUNDS + 1))
    soon = datetime.now(UTC) + timedelta(hours=23)

    claimed = _race(workers, lambda sb: [r.id for r in sb.approvals.remind_due(now=soon)])

    assert sorted(heard.reminded) == ids
    assert sorted(claimed[0] + claimed[1]) == ids
    engine = workers[0].engine
    assert Counter(subject for _, subject in _events(engine, "alert.raised")) == {
        f"approval_expiring:ops:approval:{approval_id}": 1 for approval_id in ids
    }
    with Session(engine) as session:
        rows = session.exec(select(ApprovalRequest)).all()
    assert {r.id: (r.status, r.reminded_at is not None) for r in rows} == dict.fromkeys(
        ids, (ApprovalStatus.PENDING, True)
    )
    assert _race(workers, lambda sb: sb.approvals.remind_due(now=soon + timedelta(minutes=5))) == [[], []]


def test_each_expiry_is_told_once_across_processes(workers: list[Switchboard], heard: Heard) -> None:
    ids = sorted(_request(workers[0], amount).id for amount in range(1, ROUNDS + 1))
    later = datetime.now(UTC) + timedelta(hours=25)

    expired = _race(workers, lambda sb: [o.request.id for o in sb.approvals.expire_due(now=later)])

    assert sorted(expired[0] + expired[1]) == ids
    told = {
        approval_id: (
            f"Request {approval_id} (pay (account acme, amount {amount})) expired before anyone decided, "
            "so it did not run."
        )
        for approval_id, amount in _amounts(workers[0].engine).items()
    }
    assert sorted(heard.outcomes) == sorted(told.items())
    engine = workers[0].engine
    assert sorted(_events(engine, "approval.expired")) == [("system", f"approval:{i}") for i in ids]
    with Session(engine) as session:
        messages = session.exec(select(ThreadMessage)).all()
    assert sorted((m.thread_id, m.payload["approval_id"], m.text) for m in messages) == sorted(
        ("t-ann", approval_id, text) for approval_id, text in told.items()
    )


def _amounts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {r.id: int(r.args["amount"]) for r in session.exec(select(ApprovalRequest)).all()}


def test_identical_requests_racing_merge_into_one(workers: list[Switchboard], heard: Heard) -> None:
    people = ["ann", "bob"]
    returned = [
        _race(workers, lambda sb, amount=amount: _request(sb, amount, people[workers.index(sb)]))
        for amount in range(1, ROUNDS + 1)
    ]

    engine = workers[0].engine
    with Session(engine) as session:
        rows = session.exec(select(ApprovalRequest)).all()
    assert sorted(int(r.args["amount"]) for r in rows) == list(range(1, ROUNDS + 1))
    by_id = {r.id: r for r in rows}
    for first, second in returned:
        assert first.model_dump() == second.model_dump()
        assert first.model_dump() == by_id[first.id].model_dump()
    assert sorted(heard.requested) == sorted(by_id)
    # The one who lost the race is recorded on the winner's request, which stays the winner's.
    merged = {subject: actor for actor, subject in _events(engine, "approval.merged")}
    assert merged == {f"approval:{r.id}": "bob" if r.requester == "ann" else "ann" for r in rows}
    assert all(
        workers[0].approvals.graph.get_state({"configurable": {"thread_id": f"approval:{i}"}}).interrupts
        for i in by_id
    )


def test_a_repeated_request_is_the_pending_one_and_leaves_it_unchanged(
    workers: list[Switchboard], heard: Heard
) -> None:
    sb = workers[0]
    first = _request(sb, 10, "ann")
    again = _request(sb, 10, "bob")
    assert again.model_dump() == first.model_dump()
    assert (again.requester, again.thread_id) == ("ann", "t-ann")
    assert heard.requested == [first.id]
    assert _events(sb.engine, "approval.merged") == [("bob", f"approval:{first.id}")]
    merged = [json.loads(r.data) for r in AuditLog(sb.engine).iter_records() if r.event == "approval.merged"]
    assert merged == [
        {"requester": "bob", "reasons": ["external action needs an approver"], "thread_id": "t-bob"}
    ]
    # Other arguments, or a request no longer pending, make a request of their own.
    other = _request(sb, 11, "bob")
    sb.approvals.reject(first.id, approver="cy", role="approver", reason="no")
    after = _request(sb, 10, "bob")
    assert len({first.id, other.id, after.id}) == 3
    # An edit is its editor's own request (they may not approve it), even when it matches a pending one.
    edited = sb.approvals.edit(other.id, editor="cy", role="approver", args={"account": "acme", "amount": 10})
    assert (edited.parent_id, edited.edited_by, edited.args) == (
        other.id,
        "cy",
        {"account": "acme", "amount": 10},
    )
    assert edited.id not in (first.id, other.id, after.id)
    assert heard.requested == [first.id, other.id, after.id, edited.id]
