"""One typed turn: arguments are validated once into a bound call that the gate, the approvals and the runner
carry; the message travels as a field of its own; an approval does not read its row again after the decision."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from pydantic import model_validator
from sqlalchemy.engine import Engine

from agent.backends.base import Alternative
from agent.service import Switchboard, open_switchboard
from core.store import approval_ops
from core.store.approvals import ApprovalStatus
from switchboard.settings import Settings
from tests.utils.fake_backend import ScriptedBackend
from tools.base import ToolArgs, ToolContext, ToolResult, ToolSpec
from tools.bound import BoundCall
from tools.registry import Registry


class Counted(ToolArgs):
    """Arguments that count how often they are validated from raw data."""

    validated: ClassVar[list[str]] = []

    account: str
    amount: int = 1

    @model_validator(mode="after")
    def _count(self) -> Counted:
        Counted.validated.append(self.account)
        return self


class Ledger:
    """The tools' side: every call's arguments object, as the tool received it."""

    def __init__(self) -> None:
        self.seen: list[Counted] = []

    def __call__(self, ctx: ToolContext, args: Counted) -> ToolResult:
        self.seen.append(args)
        return ToolResult(summary=f"{args.account}: {args.amount}")


@pytest.fixture
def ledger() -> Ledger:
    Counted.validated.clear()
    return Ledger()


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
def sb(settings: Settings, engine: Engine, backend: ScriptedBackend, ledger: Ledger) -> Iterator[Switchboard]:
    registry = Registry(
        [
            ToolSpec(
                name=name,
                description=f"{name.title()} an account.",
                args_model=Counted,
                risk=risk,
                func=ledger,
            )
            for name, risk in (("peek", "read"), ("note", "write"), ("pay", "external"))
        ]
    )
    with open_switchboard(settings, engine, backend=backend, registry=registry) as service:
        yield service


def _chat(sb: Switchboard, text: str) -> Any:
    return sb.chat(thread_id="t", user="olive", role="operator", text=text)


def test_a_read_is_validated_once_and_runs_with_the_planners_arguments(
    sb: Switchboard, backend: ScriptedBackend, ledger: Ledger
) -> None:
    backend.enqueue("peek", {"account": "acme"}, confidence=0.99)
    reply = _chat(sb, "peek at acme")
    assert (reply.text, Counted.validated) == ("acme: 1", ["acme"])


def test_a_confirmed_write_is_validated_once_per_turn(
    sb: Switchboard, backend: ScriptedBackend, ledger: Ledger
) -> None:
    backend.enqueue("note", {"account": "acme", "amount": "3"}, confidence=0.95)
    assert _chat(sb, "note 3 for acme").kind == "confirm"
    assert Counted.validated == ["acme"]
    assert _chat(sb, "yes").text == "acme: 3"
    assert Counted.validated == ["acme", "acme"]  # the yes is a turn of its own, gated again
    assert [a.amount for a in ledger.seen] == [3]


def test_an_approval_is_validated_by_the_planner_and_once_where_it_runs(
    sb: Switchboard, backend: ScriptedBackend, ledger: Ledger
) -> None:
    backend.enqueue("pay", {"account": "acme", "amount": 10}, confidence=0.95)
    reply = _chat(sb, "pay acme 10")
    assert (reply.kind, Counted.validated) == ("waiting", ["acme"])  # the request carried the bound call
    outcome = sb.approvals.approve(reply.approval_id, approver="bob", role="approver")
    assert (outcome.executed, outcome.request.status) == (True, ApprovalStatus.EXECUTED)
    # The approval may come from another process: its stored row is parsed once, to run.
    assert Counted.validated == ["acme", "acme"]
    assert [(a.account, a.amount) for a in ledger.seen] == [("acme", 10)]


def test_the_approval_service_does_not_read_the_row_again_after_the_decision(
    sb: Switchboard, backend: ScriptedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend.enqueue("pay", {"account": "acme", "amount": 10}, confidence=0.95)
    approval_id = _chat(sb, "pay acme 10").approval_id
    reads: list[str] = []
    load = approval_ops.get_request

    def counted(**kwargs: Any) -> Any:
        reads.append(sys._getframe(1).f_globals["__name__"])
        return load(**kwargs)

    monkeypatch.setattr(approval_ops, "get_request", counted)
    outcome = sb.approvals.approve(approval_id, approver="bob", role="approver")
    assert outcome.executed and outcome.request.run_id is not None
    assert [module for module in reads if module.startswith("agent.")] == []


def test_the_runner_runs_a_bound_call_as_it_is(sb: Switchboard, ledger: Ledger) -> None:
    bound = BoundCall.of("peek", Counted(account="acme", amount=2))
    Counted.validated.clear()
    execution = sb.runner.run(bound, actor="olive")
    assert (execution.result.summary, Counted.validated) == ("acme: 2", [])
    assert ledger.seen == [bound.args] and ledger.seen[0] is bound.args
    sb.runner.call("peek", {"account": "acme"}, actor="olive")
    assert Counted.validated == ["acme"]


def test_a_choice_between_two_tools_re_decides_on_the_words_that_asked(
    sb: Switchboard, backend: ScriptedBackend
) -> None:
    backend.enqueue(
        "peek",
        {"account": "acme"},
        confidence=0.5,
        alternatives=[Alternative(tool="peek", probability=0.5), Alternative(tool="note", probability=0.4)],
    )
    reply = _chat(sb, "acme please")
    assert (reply.kind, reply.text, reply.buttons) == (
        "question",
        "Did you mean to peek or note?",
        ["peek", "note", "neither"],
    )
    backend.enqueue("note", {"account": "acme"}, confidence=0.7)
    assert _chat(sb, "the second one").kind == "confirm"
    asked = backend.requests[-1]
    assert (asked.text, asked.allowed_tools) == ("acme please", ["note"])


def test_checkpoints_load_the_state_models_and_nothing_unregistered(
    sb: Switchboard, backend: ScriptedBackend
) -> None:
    from langgraph.checkpoint.serde.event_hooks import register_serde_event_listener

    events: list[Any] = []
    unregister = register_serde_event_listener(events.append)
    try:
        backend.enqueue("note", {"account": "acme"}, confidence=0.95)
        assert (
            _chat(sb, "note acme").kind == "confirm"
        )  # the checkpoint now holds turns, a pending question, a reply
        assert _chat(sb, "yes").text == "acme: 1"
        backend.enqueue("pay", {"account": "acme", "amount": 10}, confidence=0.95)
        approval_id = _chat(sb, "pay acme 10").approval_id
        assert sb.approvals.approve(approval_id, approver="bob", role="approver").executed
    finally:
        unregister()
    assert events == []
