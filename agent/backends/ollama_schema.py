"""Tool schemas in the shape Ollama keeps: every argument reaches the model with its type and allowed values.

Ollama's tool schema (the Go server's ``ToolProperty`` and the Python client's ``Tool`` model alike) keeps only
``type``, ``items``, ``description`` and ``enum`` per property. Pydantic writes an optional argument as
``anyOf: [{..}, {"type": "null"}]`` with a ``default``, and bounds as ``minimum``/``maximum``/length limits, all of
which would be dropped on the way, leaving e.g. ``list_runs.status`` with no type and no values. So each property is
flattened here: the null branch of an ``anyOf`` goes (an optional argument is one left out, which ``required``
already says), the remaining branch's ``type``/``enum`` move up, and the bounds and the default are written into the
description, which the model does read.
"""

from __future__ import annotations

from typing import Any

KEPT = ("type", "items", "description", "enum")
_INT32_MAX = (
    2**31 - 1
)  # pydantic bounds ids by the database column; to a model it just means "no upper limit"


def flatten_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """One ``{"type": "function", "function": {...}}`` entry with every property flattened."""
    function = tool["function"]
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    properties = parameters.get("properties") or {}
    flat: dict[str, Any] = {
        "type": "object",
        "properties": {name: flatten_property(schema) for name, schema in properties.items()},
    }
    if parameters.get("required"):
        flat["required"] = list(parameters["required"])
    return {
        "type": "function",
        "function": {
            "name": function["name"],
            "description": function.get("description", ""),
            "parameters": flat,
        },
    }


def flatten_property(schema: dict[str, Any]) -> dict[str, Any]:
    """``type``, ``items``, ``description`` and ``enum`` only, with nothing the model needs lost."""
    merged = _merge_any_of(schema)
    out: dict[str, Any] = {}
    kind = merged.get("type")
    if kind is None and "enum" in merged:
        kind = _enum_type(merged["enum"])
    if kind is not None:
        out["type"] = kind
    if "items" in merged:
        out["items"] = flatten_property(merged["items"])
    notes = _constraints(merged)
    description = str(merged.get("description", "")).strip()
    if notes:
        description = f"{description} ({'; '.join(notes)})" if description else "; ".join(notes).capitalize()
    if description:
        out["description"] = description
    if "enum" in merged:
        out["enum"] = [value for value in merged["enum"] if value is not None]
    return out


def _merge_any_of(schema: dict[str, Any]) -> dict[str, Any]:
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    merged = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(branches) == 1:
        return {**branches[0], **merged}
    if branches:  # a real union: the types side by side, and every listed value
        types = [b["type"] for b in branches if isinstance(b.get("type"), str)]
        merged["type"] = types[0] if len(set(types)) == 1 else sorted(set(types))
        values = [v for b in branches for v in b.get("enum", [])]
        if values and all("enum" in b for b in branches):
            merged["enum"] = values
    return merged


def _enum_type(values: list[Any]) -> str | None:
    kinds = {type(v) for v in values if v is not None}
    names = {str: "string", bool: "boolean", int: "integer", float: "number"}
    return names.get(kinds.pop()) if len(kinds) == 1 else None


def _constraints(schema: dict[str, Any]) -> list[str]:
    notes = []
    low, high = schema.get("minimum"), schema.get("maximum")
    if high is not None and high >= _INT32_MAX:
        high = None
    if low is not None and high is not None:
        notes.append(f"{low} to {high}")
    elif low is not None:
        notes.append(f"at least {low}")
    elif high is not None:
        notes.append(f"at most {high}")
    if schema.get("maxLength") is not None:
        notes.append(f"at most {schema['maxLength']} characters")
    if schema.get("pattern"):
        notes.append(f"matching {schema['pattern']}")
    if schema.get("format"):
        notes.append(f"format {schema['format']}")
    default = schema.get("default")
    if default is not None:
        notes.append(f"default {_literal(default)}")
    return notes


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
