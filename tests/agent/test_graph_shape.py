"""The chat graph's shape: agent/README.md draws it as it is, and no node reads state as a dict."""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from agent.service import Switchboard
from agent.state import ChatState
from switchboard.settings import Settings

AGENT = Path(__file__).resolve().parents[2] / "agent"
# Modules whose functions are graph nodes or routing functions (chat graph and approval thread).
NODE_MODULES = sorted([*(AGENT / "nodes").glob("*.py"), AGENT / "graph.py", AGENT / "approval_thread.py"])
MERMAID = re.compile(r"```mermaid\n(.*?)\n```", re.DOTALL)


class _NoBackend:
    name = "none"

    def decide(self, request: Any) -> Any:  # pragma: no cover - drawing runs no node
        raise AssertionError("not used")


def test_the_readme_draws_the_graph_as_built(settings: Settings, engine: Engine) -> None:
    sb = Switchboard.build(settings=settings, engine=engine, checkpointer=None, backend=_NoBackend())
    fresh = sb.graph.get_graph().draw_mermaid().rstrip("\n")
    found = MERMAID.search((AGENT / "README.md").read_text(encoding="utf-8"))
    assert found is not None, "agent/README.md has no ```mermaid block"
    assert found.group(1) == fresh, f"agent/README.md shows an old graph; paste this in its place:\n{fresh}"


def dict_reads(source: str) -> list[str]:
    """Where ``source`` reads a node's state as a dict: ``state["key"]``, ``state.get(...)``, or the same on a value
    taken from the state (``plan = state["plan"]; plan.get("alternatives")``)."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef):
            continue
        tainted = {a.arg for a in function.args.args if a.arg == "state"}
        changed = True
        while changed:  # names assigned from the state are the state too
            changed = False
            for node in ast.walk(function):
                if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr) and node.value is not None:
                    uses = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                    if uses & tainted and not names <= tainted:
                        tainted |= names
                        changed = True
        for node in ast.walk(function):
            if isinstance(node, ast.Subscript):
                keyed = isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)
                if keyed and _root(node.value) in tainted:
                    found.append(f"line {node.lineno}: {ast.unparse(node)}")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
            ):
                if _root(node.func.value) in tainted:
                    found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return sorted(set(found))


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def test_the_check_finds_dict_reads() -> None:
    """The check below catches the old nodes' plumbing, and leaves the run's config and lookup tables alone."""
    old = (
        "def clarify(self, state, config):\n"
        '    plan = state["plan"] or {}\n'
        '    runner_up = next(a for a in plan.get("alternatives", []) if a["tool"])\n'
        '    thread = config.get("configurable", {}).get("thread_id")\n'
        '    name = {"a": 1}.get(state.text)\n'
    )
    assert dict_reads(old) == [
        "line 2: state['plan']",
        "line 3: plan.get('alternatives', [])",
    ]


def test_no_node_reads_state_as_a_dict() -> None:
    assert NODE_MODULES
    offences = {
        path.relative_to(AGENT.parent).as_posix(): reads
        for path in NODE_MODULES
        if (reads := dict_reads(path.read_text(encoding="utf-8")))
    }
    assert offences == {}


def test_chat_state_fields_are_typed_models_not_dicts() -> None:
    hints = typing.get_type_hints(ChatState)
    untyped = {
        name: hint
        for name, hint in hints.items()
        if hint is Any
        or any(typing.get_origin(arg) is dict or arg is dict for arg in (hint, *typing.get_args(hint)))
    }
    assert untyped == {}
