"""Reading pydantic and hand-written JSON schemas into property specs, and extracting from them."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.backends.embedded.extract import extract_args
from agent.backends.embedded.extract.schema import PropertySpec, describe_schema

TODAY = date(2026, 11, 22)


class Region(StrEnum):
    EMEA = "emea"
    APAC = "apac"
    LATAM = "latam"
    NORTH_AMERICA = "north_america"


class ReportArgs(BaseModel):
    report: Literal["sales_by_region", "sales_by_product", "top_customers", "revenue_trend"]
    period: str = "last_30_days"
    region: Region | None = None
    limit: int = Field(default=10, ge=1)


# Hand-written schema shapes: an allOf-wrapped $ref, a type list with null, a const.
LEGACY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "region": {"allOf": [{"$ref": "#/$defs/Region"}], "description": "where"},
        "status": {"type": ["string", "null"], "enum": ["failed", "succeeded", "running", "pending", None]},
        "format": {"const": "xml"},
        "count": {"type": "integer"},
    },
    "required": ["region", "count"],
    "$defs": {
        "Region": {"enum": ["emea", "apac", "latam", "north_america"], "title": "Region", "type": "string"}
    },
}


def test_describe_schema_handles_pydantic_and_hand_written_shapes() -> None:
    assert describe_schema(ReportArgs.model_json_schema()) == [
        PropertySpec(
            "report",
            "string",
            ("sales_by_region", "sales_by_product", "top_customers", "revenue_trend"),
            None,
            False,
            True,
            False,
        ),
        PropertySpec("period", "string", (), None, False, False, True),
        PropertySpec(
            "region", "string", ("emea", "apac", "latam", "north_america"), "Region", True, False, True
        ),
        PropertySpec("limit", "integer", (), None, False, False, True),
    ]
    assert describe_schema(LEGACY_SCHEMA) == [
        PropertySpec(
            "region", "string", ("emea", "apac", "latam", "north_america"), "Region", False, True, False
        ),
        PropertySpec(
            "status", "string", ("failed", "succeeded", "running", "pending"), None, True, False, False
        ),
        PropertySpec("format", "string", ("xml",), None, False, False, False),
        PropertySpec("count", "integer", (), None, False, True, False),
    ]
    assert describe_schema({}) == []


def test_extract_args_on_a_hand_written_schema() -> None:
    found = extract_args("list failed runs in APAC as xml", schema=LEGACY_SCHEMA, today=TODAY)
    assert (dict(found.values), found.missing) == (
        {"region": "apac", "status": "failed", "format": "xml"},
        ("count",),
    )
