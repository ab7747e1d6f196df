"""The tool registry: collects each family module's ``TOOLS`` and exports them as JSON schemas.

Adding a tool takes one module (args model + ToolSpec) plus one entry in ``FAMILIES``.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core.errors import BadInput, NotFound
from tools.base import ToolArgs, ToolSpec

FAMILIES: tuple[str, ...] = (
    "tools.reports",
    "tools.customers",
    "tools.runs",
    "tools.approvals",
    "tools.rules",
    "tools.ingest",
    "tools.exports",
    "tools.pipelines",
    "tools.delivery",
)
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "prompts" / "examples"


class Registry(Mapping[str, ToolSpec[Any]]):
    """Read-only mapping of tool name → ToolSpec."""

    def __init__(self, specs: list[ToolSpec[Any]]) -> None:
        names = [spec.name for spec in specs]
        duplicates = {name for name in names if names.count(name) > 1}
        if duplicates:
            raise ValueError(f"duplicate tool names: {sorted(duplicates)}")
        self._specs = {spec.name: spec for spec in specs}

    def __getitem__(self, name: str) -> ToolSpec[Any]:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def get_tool(self, name: str) -> ToolSpec[Any]:
        """Return a tool or raise NotFound with the closest names."""
        if name in self._specs:
            return self._specs[name]
        close = difflib.get_close_matches(name, list(self._specs), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise NotFound(f"unknown tool {name!r}{hint}", tool=name)

    def parse_args(self, name: str, raw: Mapping[str, Any]) -> ToolArgs:
        """Validate raw arguments against the tool's model.

        Raises:
            BadInput: naming each wrong argument and why; nothing was executed.
        """
        spec = self.get_tool(name)
        try:
            parsed: ToolArgs = spec.args_model.model_validate(dict(raw))
        except ValidationError as exc:
            raise BadInput(f"{name}: {describe_validation_error(exc)}", tool=name) from None
        return parsed

    def for_role(self, role: str) -> list[ToolSpec[Any]]:
        """Tools a role may request."""
        return [spec for spec in self._specs.values() if role in spec.roles]

    @cached_property
    def examples(self) -> dict[str, tuple[str, ...]]:
        """Example utterances per tool: the spec's own, else prompts/examples/<tool>.yaml."""
        found: dict[str, tuple[str, ...]] = {}
        for name, spec in self._specs.items():
            found[name] = spec.examples or load_examples(EXAMPLES_DIR / f"{name}.yaml")
        return found

    def ollama_tools(self) -> list[dict[str, Any]]:
        """The registry in Ollama's ``tools`` format (OpenAI-style function schemas)."""
        return [
            {
                "type": "function",
                "function": {
                    "name": spec.name,
                    "description": spec.description,
                    "parameters": inline_schema(spec.args_model.model_json_schema()),
                },
            }
            for spec in self._specs.values()
        ]


def describe_validation_error(exc: ValidationError) -> str:
    """One readable sentence per invalid argument."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        if error["type"] == "extra_forbidden":
            parts.append(f"unknown argument '{where}'")
        elif error["type"] == "missing":
            parts.append(f"missing argument '{where}'")
        else:
            message = error["msg"].removeprefix("Value error, ").removeprefix("Input ")
            parts.append(
                f"'{where}': {message}" if error["type"] == "value_error" else f"'{where}' {message}"
            )
    return "; ".join(parts)


def inline_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Resolve ``$ref``s into a self-contained JSON schema (small models only; no recursion)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items() if key != "title"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def load_examples(path: Path) -> tuple[str, ...]:
    """Read ``examples:`` from a YAML file; a missing file means no examples."""
    if not path.exists():
        return ()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(str(item) for item in data.get("examples", []))


def build_registry(families: tuple[str, ...] = FAMILIES) -> Registry:
    """Import each family module and collect its ``TOOLS``."""
    specs: list[ToolSpec[Any]] = []
    for module_name in families:
        module = importlib.import_module(module_name)
        specs.extend(module.TOOLS)
    return Registry(specs)
