"""Fills arguments the operator gives in answer to a question ("Which dataset?" → "orders").

Uses the embedded backend's typed extractors on the answer alone, restricted to the arguments that were asked for,
so the answer can never change anything else about the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from tools.registry import Registry


@dataclass
class SlotFiller:
    """Callable ``(tool, text, today, names) -> {name: value}``."""

    registry: Registry
    engine: Engine | None = None

    def __call__(self, tool: str, text: str, today: date, names: list[str]) -> dict[str, Any]:
        """Extract only ``names`` for ``tool`` from ``text``."""
        from agent.backends.embedded.extract.slots import extract_args

        schema = self.registry[tool].args_model.model_json_schema()
        values = extract_args(text, schema=schema, today=today, known=None).values
        result = {name: values[name] for name in names if name in values and values[name] is not None}
        if not result and len(names) == 1 and _is_free_text(schema, names[0]) and text.strip():
            result = {names[0]: text.strip()}
        return result


def _is_free_text(schema: dict[str, Any], name: str) -> bool:
    prop = schema.get("properties", {}).get(name, {})
    options = [prop, *prop.get("anyOf", [])]
    return any(o.get("type") == "string" and "enum" not in o and "$ref" not in o for o in options)
