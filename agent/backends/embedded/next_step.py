"""What a message pointing back asks for next: the same call for real, or the step the previous call leads to.

"go ahead" after a preview applies it, after a quote places the order, after an export delivers the file; "book
it" after a quote and "simulate it" after a rule switch tools and carry over the arguments the next tool takes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_RULESET_OF = {"vip_customer": "vip_tiering", "credit_hold": "credit_hold"}

# "book it" after a quote, "quote it first" after an order, "simulate it" after a rule: a verb that names another
# tool, pointing back at the call whose arguments it takes over. (verb pattern, tool, from these previous tools)
_SWITCH: tuple[tuple[re.Pattern[str], str, frozenset[str]], ...] = (
    (
        re.compile(
            r"\b(book|order|place|buy|put\s+through|go\s+ahead\s+and\s+order|(raise|submit|enter)\s+(it|that)\b|"
            r"(make|do|raise|create|enter|submit|put\s+in)\s+(the|an?|that|this)\s+(pedido|commande|bestellung|po)\b)\b",
            re.I,
        ),
        "create_order",
        frozenset({"quote_price"}),
    ),
    (re.compile(r"\b(quote|price)\b", re.I), "quote_price", frozenset({"create_order"})),
    (
        re.compile(
            r"\b(simulate|preview|dry[\s-]?run|try|what\s+(would|will)\s+(it|that|this|they)\s+(change|affect|touch))\b",
            re.I,
        ),
        "apply_rules",
        frozenset({"explain_rule", "apply_rules"}),
    ),
    (
        re.compile(
            r"\b(explain|how\s+(does|do|did)\s+(that|it|this|the|those)\b.*\bwork|what\s+does\s+(that|it|this)\b.*\bdo|"
            r"logic\s+behind|remind\s+me\s+how)\b",
            re.I,
        ),
        "explain_rule",
        frozenset({"apply_rules"}),
    ),
    (
        re.compile(
            r"\b(export|extract|dump|download)\b|\b(stick|put|pop|drop|save|get|give\s+me)\s+(it|that|this|them)\s+"
            r"(in|into|as)\s+(an?\s+)?(csv|xml|json|dat|file|spreadsheet)\b",
            re.I,
        ),
        "export_dataset",
        frozenset({"run_report"}),
    ),
    # "can we have that scheduled for weekdays at 11 pm?" after a run: the flow on a schedule
    (
        re.compile(r"\bschedul(e|ed|ing)\b|\bset\s+(it|that)\s+up\s+to\s+run\b", re.I),
        "schedule_flow",
        frozenset({"run_flow", "get_run_status"}),
    ),
    (
        re.compile(
            r"\b(send|deliver|ship|push|upload|transfer|transmit|forward|pass\s+(it|that)\s+on|"
            r"(chuck|put|drop|stick|pop|throw|copy|dump|park|file)\s+(it|that|this|the\s+\w+)\s+(on|onto|in|into|to)\b)\b",
            re.I,
        ),
        "deliver_file",
        frozenset({"export_dataset"}),
    ),
)

# What a switch is read as, in the reply's note ("read as …"); a delivery's note names the file instead.
_SWITCHED = {
    "create_order": "an order for what was just quoted",
    "quote_price": "a quote for the order just discussed",
    "apply_rules": "a preview of those rules",
    "explain_rule": "the rule behind what was just applied",
    "export_dataset": "an export of the report just shown",
    "deliver_file": "",
    "schedule_flow": "the flow just run, on a schedule",
}


@dataclass(frozen=True)
class Reference:
    """A short message resolved against the previous call: the tool and arguments it asks for."""

    tool: str
    args: Mapping[str, Any]
    why: str
    reads_text: bool = False  # the message's own values for the tool count too ("export that as xml")


def switch(text: str, tool: str, args: Mapping[str, Any]) -> Reference | None:
    """The next tool a verb asks for after ``tool`` ("book it" after a quote); the caller checks it points back."""
    for verb, target, after in _SWITCH:
        if tool in after and verb.search(text):
            carried = carry(target, args)
            if target == "apply_rules":
                carried["dry_run"] = True
            return Reference(target, carried, _SWITCHED[target], reads_text=True)
    return None


def go_ahead(tool: str, args: Mapping[str, Any]) -> Reference | None:
    """What "go ahead" asks for after ``tool``: the previewed call for real, or the step a quote or export leads to."""
    if args.get("dry_run") is True:
        return Reference(tool, {**args, "dry_run": False}, "the previewed call, for real")
    if tool == "explain_rule" and args.get("rule") in _RULESET_OF:
        return Reference("apply_rules", {"ruleset": _RULESET_OF[args["rule"]]}, "the rule just explained")
    if "flow" in args and tool in ("schedule_flow", "get_run_status", "list_runs"):
        return Reference("run_flow", {"flow": args["flow"]}, "the flow just discussed")
    if tool == "quote_price":
        return Reference("create_order", carry("create_order", args), "an order as quoted", reads_text=True)
    if tool == "export_dataset":
        return Reference("deliver_file", {}, "delivery of the file just exported", reads_text=True)
    return None


def carry(target: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The previous call's arguments that ``target`` takes (a rule explained becomes the ruleset applied)."""
    if target == "apply_rules":
        rule = args.get("rule", args.get("ruleset"))
        rule = _RULESET_OF.get(rule, rule) if isinstance(rule, str) else rule
        return {"ruleset": rule} if rule in ("vip_tiering", "credit_hold") else {}
    if target == "explain_rule":
        rules = {ruleset: rule for rule, ruleset in _RULESET_OF.items()}
        return {"rule": rules[args["ruleset"]]} if args.get("ruleset") in rules else {}
    if target == "export_dataset":
        return {k: v for k, v in (("dataset", args.get("report")), ("period", args.get("period"))) if v}
    if target == "deliver_file":
        return {}
    if target == "schedule_flow":
        return {"flow": args["flow"]} if "flow" in args else {}
    return {k: v for k, v in args.items() if k in ("client_id", "product", "quantity")}
