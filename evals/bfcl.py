"""BFCL v3 (simple, multiple, irrelevance, and the live_simple and live_irrelevance sets) against an Ollama model, scored by AST matching as BFCL does it.

Each question goes to Ollama's ``/api/chat`` with its function docs as native tools. A returned call is right
when the function name is the expected one, every required parameter is present, no parameter is unexpected,
each value has the documented type (an int passes for a float) and is among the acceptable values (strings
compared after BFCL's standardisation: case, spaces and ``,./-_*^`` ignored), and every acceptable-values list
without ``""`` was given. Irrelevance items are right when no call is made. Function names are sent with ``.``
replaced by ``_`` (OpenAI-style names), as BFCL does for function-calling models.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.errors import BadInput

CATEGORIES: tuple[str, ...] = ("simple", "multiple", "irrelevance")  # the default run
KNOWN: tuple[str, ...] = (
    *CATEGORIES,
    "live_simple",
    "live_irrelevance",
)  # user-contributed ("live") questions
_TYPES = {
    "dict": "object",
    "float": "number",
    "tuple": "array",
    "any": "string",
    "list": "array",
    "bool": "boolean",
}
_PYTHON: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}
_PY_HINT = " Note that the provided function is in Python 3 syntax."
Call = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Item:
    """One BFCL question with its functions and acceptable answers (None for irrelevance)."""

    id: str
    category: str
    messages: list[dict[str, Any]]
    functions: list[dict[str, Any]]
    answers: list[dict[str, Any]] | None


class CategoryScore(BaseModel):
    """Accuracy in one category."""

    n: int
    correct: int
    accuracy: float | None


class BfclReport(BaseModel):
    """Result of a BFCL run."""

    host: str
    model: str
    categories: dict[str, CategoryScore]
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    failures: list[dict[str, Any]]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BadInput(f"BFCL file {path} does not exist", file=str(path)) from None
    rows = []
    for lineno, line in enumerate(lines, 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise BadInput(
                    f"{path}:{lineno}: not valid JSON ({exc.msg})", file=str(path), line=lineno
                ) from None
    return rows


def load_category(directory: Path, category: str, *, limit: int | None = None) -> list[Item]:
    """Read one category's questions and, except for irrelevance, its possible answers."""
    if category not in KNOWN:
        raise BadInput(f"unknown BFCL category {category!r}: use {', '.join(KNOWN)}")
    questions = _jsonl(directory / f"BFCL_v3_{category}.json")[:limit]
    answers: dict[str, Any] = {}
    if not category.endswith("irrelevance"):
        answers = {
            row["id"]: row["ground_truth"]
            for row in _jsonl(directory / "possible_answer" / f"BFCL_v3_{category}.json")
        }
    items = []
    for row in questions:
        if not category.endswith("irrelevance") and row["id"] not in answers:
            raise BadInput(f"BFCL item {row['id']} has no possible answer")
        items.append(
            Item(row["id"], category, list(row["question"][0]), list(row["function"]), answers.get(row["id"]))
        )
    return items


def safe_name(name: str) -> str:
    """Function name as sent to the model (``.`` is not allowed in OpenAI-style names)."""
    return name.replace(".", "_")


def to_schema(node: Any) -> Any:
    """BFCL's parameter docs as JSON schema (dict → object, float → number, tuple → array, any → string)."""
    if isinstance(node, list):
        return [to_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_schema(value) for key, value in node.items() if key != "optional"}
    if isinstance(out.get("type"), str):
        out["type"] = _TYPES.get(out["type"], out["type"])
    return out


def to_tool(function: dict[str, Any]) -> dict[str, Any]:
    """One function in Ollama's ``tools`` format."""
    parameters = to_schema(function.get("parameters") or {"type": "dict", "properties": {}})
    for prop in (parameters.get("properties") or {}).values():
        # Ollama's client keeps only type, items, description and enum of a property: keep nested keys.
        if isinstance(prop, dict) and prop.get("properties"):
            prop["description"] = (
                f"{prop.get('description', '')} Keys: {json.dumps(prop['properties'])}".strip()
            )
    return {
        "type": "function",
        "function": {
            "name": safe_name(function["name"]),
            "description": function.get("description", "") + _PY_HINT,
            "parameters": parameters,
        },
    }


def standardize(text: str) -> str:
    """BFCL's string normalisation: drop spaces and ``,./-_*^``, lower-case, single → double quotes."""
    return re.sub(r"[ ,./\-_*^]", "", text).lower().replace("'", '"')


def _std(value: Any) -> Any:
    return standardize(value) if isinstance(value, str) else value


def _type_ok(value: Any, expected: str, nested: str | None, acceptable: list[Any]) -> bool:
    want = _PYTHON.get(expected, str)
    if type(value) is want:
        return nested is None or (
            isinstance(value, list) and all(type(v) is _PYTHON.get(nested, str) for v in value)
        )
    # BFCL accepts a value typed like the acceptable answers (a variable name given as a string, say).
    typed = next((type(a) for a in acceptable if a != ""), None)
    return typed is not None and type(value) is typed


def _dict_ok(value: dict[str, Any], acceptable: list[Any]) -> bool:
    for option in acceptable:
        if option == "" or not isinstance(option, dict):
            continue
        keys_ok = all(k in option and _std(v) in [_std(a) for a in option[k]] for k, v in value.items())
        if keys_ok and all(k in value or "" in opts for k, opts in option.items()):
            return True
    return False


def _value_ok(value: Any, expected: str, nested: str | None, acceptable: list[Any]) -> bool:
    if isinstance(value, dict) and expected == "dict":
        return _dict_ok(value, acceptable)
    if isinstance(value, list) and nested == "dict":
        return any(
            isinstance(opt, list)
            and len(opt) == len(value)
            and all(_dict_ok(v, [o]) for v, o in zip(value, opt, strict=True))
            for opt in acceptable
        )
    if isinstance(value, str):
        return standardize(value) in [standardize(a) for a in acceptable if isinstance(a, str)]
    if isinstance(value, list):
        return [_std(v) for v in value] in [
            [_std(a) for a in opt] for opt in acceptable if isinstance(opt, list)
        ]
    return value in acceptable


def match_call(function: dict[str, Any], call: Call, answer: dict[str, Any]) -> str | None:
    """Check one call against one ground-truth entry; return None when right, else why not."""
    expected_name, acceptable = next(iter(answer.items()))
    name, args = call
    if safe_name(name) != safe_name(expected_name):
        return f"wrong function {name!r}, expected {expected_name!r}"
    properties = function.get("parameters", {}).get("properties", {})
    for param in function.get("parameters", {}).get("required", []):
        if param not in args:
            return f"missing required parameter {param!r}"
    for param, value in args.items():
        if param not in properties or param not in acceptable:
            return f"unexpected parameter {param!r}"
        expected = properties[param].get("type", "string")
        nested = (
            (properties[param].get("items") or {}).get("type") if expected in ("array", "tuple") else None
        )
        if expected == "float" and type(value) is int:
            value = float(value)
        if not _type_ok(value, expected, nested, acceptable[param]):
            return f"parameter {param!r} has the wrong type ({type(value).__name__}, expected {expected})"
        if not _value_ok(value, expected, nested, acceptable[param]):
            return f"parameter {param!r}={value!r} is not one of {acceptable[param]!r}"
    for param, options in acceptable.items():
        if param not in args and "" not in options:
            return f"parameter {param!r} is missing"
    return None


def check_item(item: Item, calls: Sequence[Call]) -> str | None:
    """Score one item's calls; None when right, else why not."""
    if item.answers is None:
        return None if not calls else f"made {len(calls)} call(s) where none was relevant"
    if len(calls) != len(item.answers):
        return f"made {len(calls)} call(s), expected {len(item.answers)}"
    expected_name = next(iter(item.answers[0]))
    function = next((f for f in item.functions if f["name"] == expected_name), item.functions[0])
    return match_call(function, calls[0], item.answers[0])


def ollama_reachable(host: str, *, timeout: float = 3.0) -> bool:
    """Whether an Ollama server answers at ``host``."""
    import ollama

    try:
        ollama.Client(host=host, timeout=timeout).list()
    except ollama.ResponseError:
        return True  # an HTTP error answer still means a server is there
    except Exception:  # noqa: BLE001 - refused, timed out, not HTTP at all: no usable server
        return False
    return True


def ask(client: Any, model: str, item: Item) -> list[Call]:
    """Send one question with its tools; return the calls with the original function names."""
    names = {safe_name(f["name"]): f["name"] for f in item.functions}
    response = client.chat(
        model=model,
        messages=item.messages,
        tools=[to_tool(f) for f in item.functions],
        options={"temperature": 0},
        stream=False,
    )
    calls = response.message.tool_calls or []
    return [(names.get(c.function.name, c.function.name), dict(c.function.arguments or {})) for c in calls]


def run_bfcl(
    directory: Path,
    *,
    host: str,
    model: str,
    categories: Sequence[str] = CATEGORIES,
    limit: int | None = None,
    timeout: float = 60.0,
    progress: Callable[[int, int], None] | None = None,
) -> BfclReport:
    """Run the categories against Ollama and score them (check ``ollama_reachable`` first)."""
    import numpy as np
    import ollama

    items = [item for category in categories for item in load_category(directory, category, limit=limit)]
    client = ollama.Client(host=host, timeout=timeout)
    correct: dict[str, int] = dict.fromkeys(categories, 0)
    latencies: list[float] = []
    failures: list[dict[str, Any]] = []
    for done, item in enumerate(items, 1):
        start = time.perf_counter()
        try:
            problem = check_item(item, ask(client, model, item))
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise BadInput(f"model {model!r} is not available at {host}: {exc.error}") from None
            problem = f"Ollama error: {exc.error}"
        latencies.append((time.perf_counter() - start) * 1000.0)
        if problem is None:
            correct[item.category] += 1
        else:
            failures.append({"id": item.id, "error": problem})
        if progress is not None:
            progress(done, len(items))
    scores = {}
    for category in categories:
        n = sum(item.category == category for item in items)
        scores[category] = CategoryScore(
            n=n, correct=correct[category], accuracy=correct[category] / n if n else None
        )
    return BfclReport(
        host=host,
        model=model,
        categories=scores,
        failures=failures,
        latency_ms_p50=float(np.percentile(latencies, 50)) if latencies else None,
        latency_ms_p95=float(np.percentile(latencies, 95)) if latencies else None,
    )
