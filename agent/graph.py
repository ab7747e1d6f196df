"""The chat graph: understand → (ask back | confirm | escalate | execute | refuse) → reply.

Built by ``build_graph`` from injected parts; nothing is created at import time. The graph contains no per-tool
branches: it reads the registry and the policy's action.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent.nodes import ChatNodes
from agent.state import ChatState

Route = Literal["execute", "confirm", "approve", "clarify", "refuse", "shadow", "help", "cancelled"]
ROUTES: dict[Hashable, str] = {
    "execute": "execute",
    "confirm": "confirm",
    "approve": "escalate",
    "clarify": "clarify",
    "refuse": "refuse",
    "shadow": "shadow",
    "help": "help",
    "cancelled": "cancelled",
}


def route(state: ChatState) -> Route:
    """Pick the next node from the plan's route."""
    plan = state.get("plan") or {}
    value = plan.get("route", "refuse")
    return value if value in ROUTES else "refuse"


def build_graph(
    *, nodes: ChatNodes, checkpointer: BaseCheckpointSaver[Any] | None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the chat graph over ``nodes`` with a checkpointer (one thread per chat)."""
    graph = StateGraph(ChatState)
    graph.add_node("understand", nodes.understand)
    graph.add_node("execute", nodes.execute)
    graph.add_node("confirm", nodes.confirm)
    graph.add_node("escalate", nodes.escalate)
    graph.add_node("clarify", nodes.clarify)
    graph.add_node("refuse", nodes.refuse)
    graph.add_node("shadow", nodes.shadow)
    graph.add_node("help", nodes.help)
    graph.add_node("cancelled", nodes.cancelled)
    graph.add_edge(START, "understand")
    graph.add_conditional_edges("understand", route, ROUTES)
    for name in set(ROUTES.values()):
        graph.add_edge(name, END)
    return graph.compile(checkpointer=checkpointer)
