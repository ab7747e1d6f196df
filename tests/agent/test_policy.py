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
