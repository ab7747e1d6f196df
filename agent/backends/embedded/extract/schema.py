"""Read the properties of a pydantic ``model_json_schema()``: type, enum values, nullability, required-ness.

Pydantic writes an Enum field as a ``$ref`` into ``$defs``, a Literal as an inline ``enum``, and ``X | None``
as ``anyOf`` with a ``{"type": "null"}`` branch; this module hides those shapes behind ``PropertySpec``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JsonSchema = Mapping[str, Any]


@dataclass(frozen=True)
class PropertySpec:
    """What the extractors need to know about one argument.

    Attributes:
        name: The property name, e.g. "region".
        type: The JSON type ("string", "integer", "boolean", "number", "array"...) or None when unknown.
        enum: Allowed values for enum-like properties, else empty.
        enum_name: The referenced definition's name (e.g. "Region"), if any.
        nullable: True when null is allowed.
        required: True when the schema lists the property as required.
        has_default: True when the schema gives a default.
    """

    name: str
    type: str | None
    enum: tuple[str, ...]
    enum_name: str | None
    nullable: bool
    required: bool
    has_default: bool


def _deref(node: JsonSchema, defs: JsonSchema) -> tuple[JsonSchema, str | None]:
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        target = defs.get(name, {})
        return (target if isinstance(target, Mapping) else {}), name
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], Mapping):
        return _deref(all_of[0], defs)
    return node, None


def _enum_of(node: JsonSchema) -> list[str]:
    if isinstance(node.get("enum"), list):
        return [str(v) for v in node["enum"] if v is not None]
    if "const" in node and node["const"] is not None:
        return [str(node["const"])]
    return []


def describe_property(name: str, node: JsonSchema, *, defs: JsonSchema, required: bool) -> PropertySpec:
    """Describe one property of a JSON schema.

    Args:
        name: Property name.
        node: The property's schema.
        defs: The schema's ``$defs`` (or ``definitions``).
        required: Whether the property is required.

    Returns:
        The property's spec.
    """
    resolved, enum_name = _deref(node, defs)
    nullable = False
    branches = resolved.get("anyOf") or resolved.get("oneOf")
    enum: list[str] = []
    json_type = resolved.get("type")
    if isinstance(branches, list):
        kept: list[tuple[JsonSchema, str | None]] = []
        for branch in branches:
            if not isinstance(branch, Mapping):
                continue
            target, ref_name = _deref(branch, defs)
            if target.get("type") == "null":
                nullable = True
            else:
                kept.append((target, ref_name))
        for target, ref_name in kept:
            enum.extend(v for v in _enum_of(target) if v not in enum)
            enum_name = enum_name or ref_name
        types = {t.get("type") for t, _ in kept if isinstance(t.get("type"), str)}
        json_type = types.pop() if len(types) == 1 else ("string" if enum else None)
    else:
        enum = _enum_of(resolved)
        if isinstance(json_type, list):
            nullable = "null" in json_type
            others = [t for t in json_type if t != "null"]
            json_type = others[0] if len(others) == 1 else None
    if enum and json_type is None:
        json_type = "string"
    return PropertySpec(
        name=name,
        type=json_type if isinstance(json_type, str) else None,
        enum=tuple(enum),
        enum_name=enum_name or (resolved.get("title") if enum and "$ref" in node else None),
        nullable=nullable or node.get("default", ...) is None,
        required=required,
        has_default="default" in node,
    )


def describe_schema(schema: JsonSchema) -> list[PropertySpec]:
    """Describe every property of an object schema, in declaration order.

    Args:
        schema: A ``model_json_schema()`` result.

    Returns:
        One spec per property; empty for a schema without properties.
    """
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return []
    defs = schema.get("$defs") or schema.get("definitions") or {}
    required = set(schema.get("required") or ())
    return [
        describe_property(name, node, defs=defs, required=name in required)
        for name, node in properties.items()
        if isinstance(node, Mapping)
    ]
