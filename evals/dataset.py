"""Eval datasets: JSONL loading, validation with errors that name the file and line, and canonical comparison.

One object per line: ``{"text", "tool" (null = out of scope), "args" (only the arguments to check), "context"
(optional previous turns)}``. Values compare after canonicalisation: strings casefolded and trimmed,
numbers numerically (``12 == 12.0 == "12"``), periods by the date range they resolve to on the reference date,
crons in canonical form.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.backends.base import Turn
from core.errors import BadInput, SwitchboardError
from core.periods import resolve_period
from flows.operations.schedules import canonical_cron

PROJECT_DIR = Path(__file__).resolve().parent / "datasets" / "switchboard"
REFERENCE_DATE = date(2026, 11, 22)
# Which files make up dev and the sealed test split (splits.json, also read by the stdlib-only check.py). Issue 16
# made the first test split dev data, then each fresh split written blind once it had been measured.
SPLIT_FILES: dict[str, tuple[str, ...]] = {
    split: tuple(files)
    for split, files in json.loads((PROJECT_DIR / "splits.json").read_text(encoding="utf-8")).items()
}
SPLITS: tuple[str, ...] = tuple(SPLIT_FILES)
_KEYS = frozenset({"text", "tool", "args", "context"})
_RANGE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*\.\.\s*\d{4}-\d{2}-\d{2}\s*$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Example:
    """One labelled message.

    Attributes:
        text: The user's message.
        tool: The expected tool, or None for out of scope.
        args: The arguments to check (only those the message states).
        context: Previous turns of the thread, oldest first.
        source: Where the line came from, as ``file:line``.
    """

    text: str
    tool: str | None
    args: dict[str, Any] = field(default_factory=dict)
    context: tuple[Turn, ...] = ()
    source: str = ""


def split_paths(split: str, *, directory: Path = PROJECT_DIR) -> list[Path]:
    """Files of a split of the project dataset (``dev``, ``test`` or ``all``).

    Raises:
        BadInput: For an unknown split name.
    """
    if split == "all":
        return [directory / name for files in SPLIT_FILES.values() for name in files]
    if split not in SPLITS:
        raise BadInput(f"unknown split {split!r}: use dev, test or all")
    return [directory / name for name in SPLIT_FILES[split]]


def load_examples(
    paths: Iterable[Path], *, tools: Mapping[str, Collection[str]] | None = None
) -> list[Example]:
    """Read and validate every line of ``paths``.

    Args:
        paths: JSONL files, read in order.
        tools: Known tool names mapped to their argument names; when given, an unknown tool or argument is an
            error.

    Raises:
        BadInput: Naming the file and line of the first problem (missing file, bad JSON, unknown tool, ...).
    """
    examples: list[Example] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BadInput(f"dataset file {path} does not exist", file=str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"cannot read dataset file {path}: {exc}", file=str(path)) from None
        before = len(examples)
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInput(f"{where}: not valid JSON ({exc.msg})", file=str(path), line=lineno) from None
            try:
                examples.append(parse_example(row, tools=tools, source=where))
            except ValueError as exc:
                raise BadInput(f"{where}: {exc}", file=str(path), line=lineno) from None
        if len(examples) == before:
            raise BadInput(f"dataset file {path} holds no examples", file=str(path))
    return examples


def parse_example(
    row: Any, *, tools: Mapping[str, Collection[str]] | None = None, source: str = ""
) -> Example:
    """Validate one parsed line.

    Raises:
        ValueError: Saying what is wrong with the line.
    """
    if not isinstance(row, dict):
        raise ValueError("each line must be a JSON object")
    if extra := set(row) - _KEYS:
        raise ValueError(f"unknown keys {sorted(extra)} (expected text, tool, args, context)")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'text' must be a non-empty string")
    tool = row.get("tool")
    if tool is not None and not isinstance(tool, str):
        raise ValueError("'tool' must be a tool name or null")
    args = row.get("args", {})
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ValueError("'args' must be an object")
    _check_call(tool, args, tools)
    context = row.get("context") or []
    if not isinstance(context, list):
        raise ValueError("'context' must be a list of turns")
    turns: list[Turn] = []
    for number, raw in enumerate(context, 1):
        try:
            turn = Turn.model_validate(raw)
        except ValidationError:
            raise ValueError(
                f"context turn {number} must be {{'role': 'user', 'text': ...}} or "
                "{'role': 'assistant', 'tool': ..., 'args': {...}}"
            ) from None
        if turn.role == "assistant":
            _check_call(turn.tool, turn.args, tools, where=f"context turn {number}: ")
        turns.append(turn)
    return Example(text=text, tool=tool, args=dict(args), context=tuple(turns), source=source)


def _check_call(
    tool: str | None, args: Mapping[str, Any], tools: Mapping[str, Collection[str]] | None, *, where: str = ""
) -> None:
    if tool is None:
        if args:
            raise ValueError(f"{where}an out-of-scope line (tool null) must not list args")
        return
    if tools is None:
        return
    if tool not in tools:
        raise ValueError(f"{where}unknown tool {tool!r}")
    unknown = sorted(set(args) - set(tools[tool]))
    if unknown:
        raise ValueError(f"{where}{tool} has no argument {', '.join(repr(name) for name in unknown)}")


def canonical_value(name: str, value: Any, *, today: date) -> Any:
    """The comparable form of one argument value.

    Periods become their resolved ``(start, end)`` dates, crons their canonical text, numbers (and numeric
    strings) floats, other strings casefolded and trimmed, booleans stay distinct from numbers; lists and
    mappings are canonicalised item by item.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        # Tagged, because True == 1 in Python and a boolean is not a quantity.
        return ("bool", value)
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else repr(value)
    if isinstance(value, str):
        text = value.strip()
        if name == "period" or name.endswith("_period") or _RANGE.match(text):
            resolved = _period(text, today=today)
            if resolved is not None:
                return resolved
        if name == "cron":
            try:
                return canonical_cron(text)
            except SwitchboardError:
                return " ".join(text.split())
        if _NUMBER.match(text):
            return float(text)
        return text.casefold()
    if isinstance(value, list | tuple):
        return tuple(canonical_value(name, item, today=today) for item in value)
    if isinstance(value, Mapping):
        return tuple(
            sorted((str(k), repr(canonical_value(str(k), v, today=today))) for k, v in value.items())
        )
    return repr(value)


def _period(text: str, *, today: date) -> tuple[date, date] | None:
    key = text.replace(" ", "") if _RANGE.match(text) else text.casefold().replace(" ", "_")
    try:
        return resolve_period(key, today=today)
    except ValueError:
        return None


def compare_args(expected: Mapping[str, Any], got: Mapping[str, Any], *, today: date) -> dict[str, bool]:
    """Whether each checked argument was extracted right (one that was not extracted counts as None)."""
    return {
        name: canonical_value(name, got.get(name), today=today) == canonical_value(name, want, today=today)
        for name, want in expected.items()
    }
