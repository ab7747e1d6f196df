"""The chat graph, which is the algorithm: understand → check → gate → act → reply.

- understand → help | cancelled | check
- check → gate
- gate → execute | confirm | escalate | refuse | shadow | ask_back | disambiguate
- every one of those → reply → end

Built by ``build_graph`` from injected parts; nothing is created at import time. The graph contains no per-tool
branches: it reads the registry and the policy's action. agent/README.md shows it drawn.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent.nodes import act, ask, check, gate, reply, understand
from agent.nodes.deps import ChatDeps, required
from agent.state import ChatState

Understood = Literal["help", "cancelled", "check"]
Gated = Literal["execute", "confirm", "escalate", "refuse", "shadow", "ask_back", "disambiguate"]


def after_understand(state: ChatState) -> Understood:
    """Help and cancellations answer at once; anything else is a call to check."""
    if state.command == "help":
        return "help"
    if state.command == "cancel":
        return "cancelled"
    return "check"


def after_gate(state: ChatState) -> Gated:
    """Follow the plan's route; a clarification offers a close second tool, or asks back."""
    plan = required(state.plan, "a plan")
    route = plan.route
    if route == "clarify":
        return "disambiguate" if plan.runner_up is not None else "ask_back"
    if route == "approve":
        return "escalate"
    return route


def build_graph(
    *, deps: ChatDeps, checkpointer: BaseCheckpointSaver[Any] | None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the chat graph over ``deps`` with a checkpointer (one thread per chat)."""
    graph = StateGraph(ChatState)
    graph.add_node("understand", partial(understand.understand, deps))
    graph.add_node("check", partial(check.check, deps))
    graph.add_node("gate", partial(gate.gate, deps))
    graph.add_node("ask_back", partial(ask.ask_back, deps))
    graph.add_node("disambiguate", partial(ask.disambiguate, deps))
    graph.add_node("execute", partial(act.execute, deps))
    graph.add_node("confirm", partial(act.confirm, deps))
    graph.add_node("escalate", partial(act.escalate, deps))
    graph.add_node("refuse", partial(act.refuse, deps))
    graph.add_node("shadow", partial(act.shadow, deps))
    graph.add_node("help", partial(reply.help_, deps))
    graph.add_node("cancelled", partial(reply.cancelled, deps))
    graph.add_node("reply", reply.reply)

    graph.add_edge(START, "understand")
    graph.add_conditional_edges("understand", after_understand)
    graph.add_edge("check", "gate")
    graph.add_conditional_edges("gate", after_gate)
    for name in ("ask_back", "disambiguate", "execute", "confirm", "escalate", "refuse", "shadow"):
        graph.add_edge(name, "reply")
    graph.add_edge("help", "reply")
    graph.add_edge("cancelled", "reply")
    graph.add_edge("reply", END)
    return graph.compile(checkpointer=checkpointer)
