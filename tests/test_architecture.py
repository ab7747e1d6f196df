"""The house rules, enforced on the import graph: layers point one way, no circles, no module over 400 lines.

Every ``import`` counts, including those inside functions (a lazy import is still a dependency) and those under
``TYPE_CHECKING`` (a type is a dependency too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Lower rank = lower layer. A module may import its own package and any package of a lower rank.
RANK = {
    "core": 0,
    "prompts": 0,  # data files only (templates, examples); read by path, imports nothing
    "flows": 1,
    "tools": 2,
    "agent": 3,
    "bot": 4,
    "console": 4,
    "evals": 5,
    "switchboard": 6,
    "benchmarks": 7,
}
FORBIDDEN_BELOW_AGENT = ("langgraph", "langchain_core", "fastapi", "starlette", "telegram", "uvicorn")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in RANK:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


@cache
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {target for target in _imports(name, path) if target != name}
    return graph


def _owner(dotted: str, modules: dict[str, Path]) -> str | None:
    """The project module a dotted import name lands in (``core.store.db.utcnow`` → ``core.store.db``)."""
    while dotted:
        if dotted in modules:
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def _imports(name: str, path: Path) -> Iterator[str]:
    modules = _modules()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                owner = _owner(alias.name, modules)
                if owner:
                    yield owner
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                owner = _owner(f"{source}.{alias.name}", modules) or _owner(source, modules)
                if owner:
                    yield owner


def _third_party_imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield node.module


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_circles() -> None:
    assert _cycles(_graph()) == []


def test_layers_point_one_way() -> None:
    upward = [
        f"{source} imports {target}"
        for source, targets in sorted(_graph().items())
        for target in sorted(targets)
        if (src := source.split(".")[0]) != (dst := target.split(".")[0]) and RANK[dst] >= RANK[src]
    ]
    assert upward == []


def test_core_imports_nothing_else_in_the_project() -> None:
    outside = [
        f"{source} imports {target}"
        for source, targets in sorted(_graph().items())
        if source.split(".")[0] == "core"
        for target in sorted(targets)
        if target.split(".")[0] != "core"
    ]
    assert outside == []


@pytest.mark.parametrize("package", ["core", "flows", "tools"])
def test_lower_layers_never_import_the_agent_web_or_bot_libraries(package: str) -> None:
    found = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for module in _third_party_imports(path)
        if module.split(".")[0] in FORBIDDEN_BELOW_AGENT
    ]
    assert found == []


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules().values()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_package_says_what_it_is_for_and_what_it_may_import() -> None:
    silent = [
        str(init.relative_to(ROOT))
        for package in ("core", "core/store", "flows", *(f"flows/{stage}" for stage in _flow_stages()))
        if not (ast.get_docstring(ast.parse((init := ROOT / package / "__init__.py").read_text())) or "")
        .lower()
        .count("may import")
    ]
    assert silent == []


def _flow_stages() -> list[str]:
    return sorted(p.name for p in (ROOT / "flows").iterdir() if (p / "__init__.py").exists())


def test_the_checker_sees_a_circle_and_an_upward_import() -> None:
    # The rules above are only as good as the graph: a planted circle and an upward edge must show.
    graph = {"flows.a": {"flows.b"}, "flows.b": {"flows.a"}, "core.x": {"agent.y"}}
    assert _cycles(graph) == [["flows.a", "flows.b"]]
    assert (
        "core.store.db" in _graph()["core.store.schema"]
        or "core.store.audit" in _graph()["core.store.schema"]
    )
