"""Turns plans and results into reply text from the templates in prompts/ (no user-facing strings in code)."""

from __future__ import annotations

from agent.prompts import Prompts
from agent.state import DecisionView, Reply
from tools.base import Preview
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
    "neither",
    "none of them",
    "none of those",
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


def help_text(prompts: Prompts, registry: Registry, *, user: str, role: str) -> str:
    """The tools this user may use, one per line, each with an example of asking for it."""
    lines = [prompts.render("help_intro", user=user, role=role)]
    for spec in registry.for_role(role):
        examples = registry.examples.get(spec.name) or (prompts.wording.title(spec.name).lower(),)
        example = examples[0]
        lines.append(prompts.render("help_item", title=prompts.wording.title(spec.name), example=example))
    lines.append(prompts.render("help_outro"))
    return "\n".join(lines)


def without_tool(prompts: Prompts, text: str, *, user: str, view: DecisionView | None = None) -> Reply:
    """The answer to a message that asks for no tool: small talk, a reason with the nearest thing, or a hint."""
    spoken = prompts.wording.without_tool(text, user=user)
    if spoken is not None:
        return Reply(text=spoken.text, decision=view, buttons=spoken.buttons, kind="info")
    starters = list(prompts.wording.starters)
    return Reply(text=prompts.render("out_of_scope"), decision=view, buttons=starters, kind="info")


def preview_words(prompts: Prompts, preview: Preview) -> str:
    """A dry run's finding for a person: its summary, or each step of a composite call in words."""
    calls = preview.details.get("calls")
    if not isinstance(calls, list) or not calls:
        return preview.summary
    steps = [prompts.wording.phrase(str(c["tool"]), c.get("args") or {}) for c in calls]
    listed = ", then ".join(steps)
    return prompts.render("preview_steps", count=len(steps), steps=listed)


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


def ask_missing(prompts: Prompts, registry: Registry, tool: str, argument: str) -> tuple[str, list[str]]:
    """Question for one missing argument, and its allowed values (in words) as one-tap answers."""
    choices = [prompts.wording.value_words(tool, argument, c) for c in enum_choices(registry, tool, argument)]
    label = argument.replace("_", " ")
    if choices:
        return prompts.render("ask_missing", argument=label, choices=": " + or_list(choices)), choices
    return prompts.render("ask_missing_free", argument=label, tool=prompts.wording.phrase_stem(tool)), []
