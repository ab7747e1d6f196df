"""The policy gate at its edges: a confidence exactly at a threshold, a value exactly at its limit, the quorum.

These are the places where a ``<`` turned ``<=`` or a dropped comparison goes unnoticed by tests that only use
values far from the edges; each row sits on an edge or next to it, under the shipped policy.
"""

from __future__ import annotations

import pytest

from agent.config import PolicyConfig, RiskThresholds, ToolPolicy
from agent.policy import Policy, PolicyInput
from core.vocabulary import Action, Risk
from switchboard.settings import load_settings

# The shipped thresholds, read from the demo config so the test follows them.
SHIPPED = load_settings().policy
READ_EXECUTE = SHIPPED.risks["read"].execute or 0.0
WRITE_CONFIRM = SHIPPED.risks["write"].confirm or 0.0


def decide(confidence: float, *, tool: str, risk: Risk, value: float | None = None) -> Action:
    return (
        Policy(SHIPPED).decide(PolicyInput(tool=tool, risk=risk, confidence=confidence, value=value)).action
    )


def test_the_shipped_thresholds_are_what_these_edges_assume() -> None:
    assert (READ_EXECUTE, WRITE_CONFIRM, SHIPPED.risks["write"].execute) == (0.6, 0.85, None)


@pytest.mark.parametrize(
    ("confidence", "risk", "action"),
    [
        (READ_EXECUTE - 0.001, "read", "clarify"),  # just under the floor: ask back
        (READ_EXECUTE, "read", "execute"),  # exactly at it: a read runs
        (WRITE_CONFIRM - 0.001, "write", "clarify"),
        (WRITE_CONFIRM, "write", "confirm"),  # exactly at it: good enough to ask "shall I?"
    ],
    ids=["read under", "read at", "write under", "write at"],
)
def test_a_confidence_exactly_at_a_threshold_passes_it(confidence: float, risk: Risk, action: Action) -> None:
    assert decide(confidence, tool="some_tool", risk=risk) == action


@pytest.mark.parametrize(
    ("value", "action"),
    [(9_999.99, "confirm"), (10_000.0, "confirm"), (10_000.01, "approve"), (99_999_999.0, "approve")],
)
def test_orders_over_ten_thousand_need_an_approver_under_the_shipped_policy(
    value: float, action: Action
) -> None:
    assert SHIPPED.tools["create_order"].approve_over_value == 10_000
    assert decide(0.99, tool="create_order", risk="write", value=value) == action


def test_the_value_rule_names_the_value_and_the_limit() -> None:
    decision = Policy(SHIPPED).decide(
        PolicyInput(tool="create_order", risk="write", confidence=0.99, value=12_500)
    )
    assert decision.reasons == ["value 12,500.00 is over 10,000.00"]


@pytest.mark.parametrize("quorum", [1, 2, 3])
def test_the_decision_carries_the_tools_quorum(quorum: int) -> None:
    config = PolicyConfig(
        risks={"external": RiskThresholds(confirm=0.5, approve=True)},
        tools={"pay": ToolPolicy(quorum=quorum)},
    )
    decision = Policy(config).decide(PolicyInput(tool="pay", risk="external", confidence=0.9))
    assert (decision.action, decision.quorum) == ("approve", quorum)


# A policy with every kind of override, so each branch of the gate can be pinned with its whole decision.
GATE = Policy(
    PolicyConfig(
        version="7",
        risks={"read": RiskThresholds(execute=0.6), "write": RiskThresholds(confirm=0.85)},
        tools={
            "pay": ToolPolicy(roles=["approver"], approve_over_value=100.0, quorum=2, shadow=True),
            "tuned": ToolPolicy(thresholds=RiskThresholds(execute=0.5)),
            "order": ToolPolicy(approve_over_value=10.0),
            "free": ToolPolicy(approve_over_value=0.5),
            "gated": ToolPolicy(thresholds=RiskThresholds(approve=True)),
        },
    )
)


def _call(tool: str | None, confidence: float = 0.9, risk: Risk = "read", **more: object) -> PolicyInput:
    return PolicyInput(tool=tool, risk=risk, confidence=confidence, **more)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("item", "action", "reasons", "shadow", "quorum"),
    [
        (_call(None), "refuse", ["no tool fits this request"], False, 1),
        (
            _call("lookup", role="operator", allowed_roles=("admin",)),
            "refuse",
            ["the operator role may not use lookup"],
            False,
            1,
        ),
        (
            _call("pay", role="operator", risk="external"),
            "refuse",
            ["the operator role may not use pay"],
            True,
            2,
        ),
        (_call("lookup", missing=["account", "amount"]), "clarify", ["missing account, amount"], False, 1),
        (
            _call("lookup", invalid="amount must be positive"),
            "clarify",
            ["amount must be positive"],
            False,
            1,
        ),
        (_call("lookup", confidence=0.5), "clarify", ["low confidence (0.50 < 0.60)"], False, 1),
        (
            _call("tuned", confidence=0.55, risk="write"),
            "execute",
            ["write action at confidence 0.55"],
            False,
            1,
        ),
        # a risk the policy does not list: confirm only at full confidence
        (
            _call("lookup", confidence=0.99, risk="external"),
            "clarify",
            ["low confidence (0.99 < 1.00)"],
            False,
            1,
        ),
        (
            _call("lookup", confidence=1.0, risk="external"),
            "confirm",
            ["external action: asking the requester first"],
            False,
            1,
        ),
        (
            _call("gated", confidence=1.0, risk="write"),
            "approve",
            ["write action needs an approver"],
            False,
            1,
        ),
        (_call("order", risk="write", value=10.01), "approve", ["value 10.01 is over 10.00"], False, 1),
        (
            _call("order", risk="write", value=10.0),
            "confirm",
            ["write action: asking the requester first"],
            False,
            1,
        ),
        (_call("free", risk="write"), "confirm", ["write action: asking the requester first"], False, 1),
        (
            _call("pay", role="approver", risk="write", value=150.0),
            "approve",
            ["value 150.00 is over 100.00"],
            True,
            2,
        ),
        (_call("lookup", confidence=0.7), "execute", ["read action at confidence 0.70"], False, 1),
    ],
)
def test_each_branch_of_the_gate_gives_its_whole_decision(
    item: PolicyInput, action: Action, reasons: list[str], shadow: bool, quorum: int
) -> None:
    assert GATE.decide(item).model_dump() == {
        "action": action,
        "reasons": reasons,
        "risk": item.risk,
        "shadow": shadow,
        "quorum": quorum,
        "policy_version": "7",
    }


def test_an_approver_rule_and_a_value_limit_both_give_their_reason() -> None:
    policy = Policy(
        PolicyConfig(
            risks={"external": RiskThresholds(confirm=0.9, approve=True)},
            tools={"pay": ToolPolicy(approve_over_value=100.0)},
        )
    )
    decision = policy.decide(_call("pay", confidence=0.95, risk="external", value=150.0))
    assert (decision.action, decision.reasons) == (
        "approve",
        ["external action needs an approver", "value 150.00 is over 100.00"],
    )


@pytest.mark.parametrize("name", ["create_order", "XXXX", "none", "None"])
def test_a_request_no_tool_fits_never_takes_a_tools_override(name: str) -> None:
    # Whatever tool names the config lists, a call with no tool gets the empty override: the global shadow
    # flag and a quorum of 1.
    config = PolicyConfig(tools={name: ToolPolicy(shadow=True, quorum=3, roles=["admin"])})
    policy = Policy(config)
    assert policy.tool_policy(None) == ToolPolicy()
    decision = policy.decide(PolicyInput(tool=None, confidence=0.99))
    assert (decision.action, decision.shadow, decision.quorum) == ("refuse", False, 1)
