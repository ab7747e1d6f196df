"""The chat graph, which is the algorithm: understand → check → gate → act → reply.

- understand → help | cancelled | check
- check → gate
- gate → execute | confirm | escalate | refuse | shadow | ask_back | disambiguate
- every one of those → reply → end

Built by ``build_graph`` from injected parts; nothing is created at import time. The graph contains no per-tool
branches: it reads the registry and the policy's action. agent/README.md shows it drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent.nodes import act, ask, check, gate, reply, understand
from agent.nodes.deps import ChatDeps, required
from agent.state import ChatState, ChatUpdate, Plan
from core import tracing

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


def traced_node(name: str, node: Callable[..., ChatUpdate]) -> Callable[..., ChatUpdate]:
    """``node`` in a span of its own; the gate's span also says what it decided and for which tool.

    ``wraps`` keeps the node's signature (LangGraph reads it to pass ``config`` to the nodes that take it).
    """

    @wraps(node)
    def run(*args: Any, **kwargs: Any) -> ChatUpdate:
        with tracing.span(f"node {name}", node=name) as span:
            update = node(*args, **kwargs)
            plan = update.get("plan")
            if isinstance(plan, Plan):
                span.set(action=plan.route, tool=plan.decision.tool)
            return update

    return run


def build_graph(
    *, deps: ChatDeps, checkpointer: BaseCheckpointSaver[Any] | None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the chat graph over ``deps`` with a checkpointer (one thread per chat); each node is traced."""
    graph = StateGraph(ChatState)

    def add(name: str, node: Callable[..., ChatUpdate]) -> None:
        graph.add_node(name, traced_node(name, node))

    add("understand", partial(understand.understand, deps))
    add("check", partial(check.check, deps))
    add("gate", partial(gate.gate, deps))
    add("ask_back", partial(ask.ask_back, deps))
    add("disambiguate", partial(ask.disambiguate, deps))
    add("execute", partial(act.execute, deps))
    add("confirm", partial(act.confirm, deps))
    add("escalate", partial(act.escalate, deps))
    add("refuse", partial(act.refuse, deps))
    add("shadow", partial(act.shadow, deps))
    add("help", partial(reply.help_, deps))
    add("cancelled", partial(reply.cancelled, deps))
    add("reply", reply.reply)

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
