"""Turns plans and results into reply text from the templates in prompts/ (no user-facing strings in code)."""

from __future__ import annotations

from typing import Any

from agent.prompts import Prompts
from tools.registry import Registry

YES = {
    "yes",
    "y",
    "yep",
    "yeah",
    "sure",
    "ok",
    "okay",
    "go",
    "go ahead",
    "do it",
    "confirm",
    "please do",
    "yes please",
    "correct",
    "right",
    "approve",
    "proceed",
    "sounds good",
    "👍",
}
NO = {
    "no",
    "n",
    "nope",
    "cancel",
    "stop",
    "don't",
    "dont",
    "do not",
    "abort",
    "never mind",
    "nevermind",
    "no thanks",
    "wrong",
    "not that",
}
HELP = {"help", "/help", "what can you do", "what can you do?", "commands", "menu", "?", "help me", "options"}


def normalise_answer(text: str) -> str:
    """Lower-case, trimmed, without trailing punctuation."""
    return text.strip().lower().rstrip("!.?") if text.strip() not in ("?",) else "?"


def is_yes(text: str) -> bool:
    """A short affirmative answer."""
    return normalise_answer(text) in YES


def is_no(text: str) -> bool:
    """A short negative answer."""
    return normalise_answer(text) in NO


def is_help(text: str) -> bool:
    """A request for the list of tools."""
    return text.strip().lower() in HELP


def call_text(tool: str, args: dict[str, Any]) -> str:
    """``run_report(report=sales_by_region, period=last_month)``."""
    shown = ", ".join(f"{k}={v}" for k, v in args.items() if v is not None)
    return f"{tool}({shown})"


def help_text(prompts: Prompts, registry: Registry, *, user: str, role: str) -> str:
    """The tools this user may use, one per line."""
    lines = [prompts.render("help_intro", user=user, role=role)]
    for spec in registry.for_role(role):
        lines.append(prompts.render("help_item", tool=spec.name, description=spec.description))
    lines.append(prompts.render("help_outro"))
    return "\n".join(lines)


def enum_choices(registry: Registry, tool: str, argument: str) -> list[str]:
    """Allowed values of an enum argument (for 'Which dataset: customers, products or orders?')."""
    schema = registry[tool].args_model.model_json_schema()
    prop = schema.get("properties", {}).get(argument, {})
    defs = schema.get("$defs", {})
    for option in [prop, *prop.get("anyOf", [])]:
        if "$ref" in option:
            option = defs.get(option["$ref"].rsplit("/", 1)[-1], {})
        if "enum" in option:
            return [str(v) for v in option["enum"]]
    return []


def or_list(values: list[str]) -> str:
    """'a, b or c'."""
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " or " + values[-1]


def ask_missing(prompts: Prompts, registry: Registry, tool: str, argument: str) -> str:
    """Question for one missing argument."""
    choices = enum_choices(registry, tool, argument)
    label = argument.replace("_", " ")
    if choices:
        return prompts.render("ask_missing", argument=label, choices=": " + or_list(choices))
    return prompts.render("ask_missing_free", argument=label, tool=tool)


def describe_tool(registry: Registry, tool: str) -> str:
    """A short human label for a tool, for 'Did you mean X or Y?'."""
    first = registry[tool].description.split(",")[0].split(".")[0].split(":")[0].strip()
    return f"{tool} ({first[0].lower() + first[1:] if first else tool})"
