"""The thread's state for short messages that point back: "how'd that go", "go ahead", "and the week before?".

A follow-up needs evidence that it continues the previous call: a word that points back ("that", "it", "the one
before"), an ellipsis that only makes sense after it ("and the week before?"), a value for one of its slots, or a
verb that fits what was just done. Being in a thread is not evidence, so "lol" or markup after a delivery request
is a message of its own. ``resolve_reference`` handles the messages that name no slot value at all; slot changes
("now just EMEA") are read by the backend's extractors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from agent.backends.base import Turn
from agent.backends.embedded.extract.dates import format_range, resolve_period

POINTS_BACK = re.compile(r"\b(that|it|them|those|this|the same|the result|the report|the one)\b", re.I)
# At most this many words: a longer message says enough to be decided on its own.
SHORT = 8
_STATUS = re.compile(
    r"\b(how'?d|how\s+did|did\s+(it|that|this|the\s+\w+)\s+(work|go|run|finish|succeed|pass|go\s+through)|"
    r"(is|was)\s+(it|that)\s+(done|finished|through|ok|okay)|any\s+luck|all\s+good|status\??$|"
    r"(it|that)\s+(worked|work|go\s+through|went\s+ok)|done\s+yet|finished\s+yet|still\s+running|"
    r"how'?s\s+(it|that)\s+(going|looking|doing)|how\s+(is|are)\s+(it|that|things)\s+(going|looking))\b",
    re.I,
)
_GO_AHEAD = re.compile(
    r"\b(go\s+ahead|kick\s+(it|that|this)\s+off|fire\s+(it|that)\s+off|do\s+it(\s+for\s+real|\s+now)?|"
    r"(run|apply|execute|start|launch|ship)\s+(it|that|them)|make\s+it\s+so|proceed|let'?s\s+do\s+it|"
    r"for\s+real\s+(now|this\s+time)|go\s+for\s+it|(ok|okay|yes|yep|fine)\s*,?\s*(now|then)?\s*(run|apply|do)\b)",
    re.I,
)
_CLEAN = re.compile(r"\b(clean|tidy|dedupe|de-duplicate|normali[sz]e|fix)\b", re.I)
_RETRY = re.compile(r"\b(retry|re-?run|rerun|bounce|restart|try\s+(it|that)\s+again|again)\b", re.I)
_BEFORE = re.compile(
    r"\b(the\s+)?(week|month|quarter|year|day|one|period)\s+before(\s+that)?\b|"
    r"\b(the\s+)?(previous|prior|preceding)\s+(one|week|month|quarter|year|period)\b",
    re.I,
)
# Calls that start work: "how'd that go" after one of them asks about its run.
_STARTS_RUNS = frozenset(
    {
        "run_flow",
        "retry_run",
        "ingest_file",
        "normalize_dataset",
        "export_dataset",
        "deliver_file",
        "apply_rules",
        "send_notification",
        "create_order",
    }
)


# "book it" after a quote, "quote it first" after an order, "simulate it" after a rule: a verb that names another
# tool, pointing back at the call whose arguments it takes over. (verb pattern, tool, from these previous tools)
_SWITCH: tuple[tuple[re.Pattern[str], str, frozenset[str]], ...] = (
    (
        re.compile(r"\b(book|order|place|buy|put\s+through|go\s+ahead\s+and\s+order)\b", re.I),
        "create_order",
        frozenset({"quote_price"}),
    ),
    (re.compile(r"\b(quote|price)\b", re.I), "quote_price", frozenset({"create_order"})),
    (
        re.compile(r"\b(simulate|preview|dry[\s-]?run|try)\b", re.I),
        "apply_rules",
        frozenset({"explain_rule", "apply_rules"}),
    ),
    (re.compile(r"\b(export|extract|dump|download)\b", re.I), "export_dataset", frozenset({"run_report"})),
)


@dataclass(frozen=True)
class Reference:
    """A short message resolved against the previous call: the tool and arguments it asks for."""

    tool: str
    args: Mapping[str, Any]
    why: str
    reads_text: bool = False  # the message's own values for the tool count too ("export that as xml")


def last_call(context: list[Turn]) -> Turn | None:
    """The thread's most recent call, if any."""
    for turn in reversed(context):
        if turn.role == "assistant" and turn.tool:
            return turn
    return None


def is_short(text: str) -> bool:
    """A message short enough to lean on the thread ("and the week before?")."""
    return len(text.split()) <= SHORT


def resolve_reference(text: str, previous: Turn, *, today: date) -> Reference | None:
    """The call a short, pointing-back message asks for, or None when it is not one of those."""
    if not is_short(text) or previous.tool is None:
        return None
    args = dict(previous.args)
    tool = previous.tool
    if _STATUS.search(text) and (tool in _STARTS_RUNS or tool == "get_run_status"):
        if previous.run_id is not None:
            return Reference("get_run_status", {"run_id": previous.run_id}, "status of the run just started")
        if "flow" in args:
            return Reference("get_run_status", {"flow": args["flow"]}, "status of that flow's latest run")
        if "run_id" in args:
            return Reference("get_run_status", {"run_id": args["run_id"]}, "status of that run")
        return None
    if _BEFORE.search(text) and isinstance(args.get("period"), str):
        shifted = shift_back(str(args["period"]), today=today)
        if shifted is not None:
            return Reference(tool, {**args, "period": shifted}, "the period before")
    if _GO_AHEAD.search(text):
        if tool == "apply_rules" and args.get("dry_run") is True:
            return Reference("apply_rules", {**args, "dry_run": False}, "the previewed rules, for real")
        if tool == "explain_rule" and args.get("rule") in ("vip_tiering", "credit_hold"):
            return Reference("apply_rules", {"ruleset": args["rule"]}, "the rule just explained")
        if "flow" in args and tool in ("schedule_flow", "get_run_status", "list_runs"):
            return Reference("run_flow", {"flow": args["flow"]}, "the flow just discussed")
    if POINTS_BACK.search(text):
        for verb, target, after in _SWITCH:
            if tool in after and verb.search(text):
                carried = _carry(target, args)
                if target == "apply_rules":
                    carried["dry_run"] = True
                return Reference(target, carried, f"{target} of the call just made", reads_text=True)
    if _CLEAN.search(text) and POINTS_BACK.search(text) and "dataset" in args:
        return Reference("normalize_dataset", {"dataset": args["dataset"]}, "the dataset just loaded")
    if _RETRY.search(text) and POINTS_BACK.search(text):
        run_id = previous.run_id if previous.run_id is not None else args.get("run_id")
        if run_id is not None:
            return Reference("retry_run", {"run_id": run_id}, "the run just discussed")
    return None


def _carry(target: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The previous call's arguments that ``target`` takes (a rule explained becomes the ruleset applied)."""
    if target == "apply_rules":
        rule = args.get("rule", args.get("ruleset"))
        return {"ruleset": rule} if rule in ("vip_tiering", "credit_hold") else {}
    if target == "export_dataset":
        return {k: v for k, v in (("dataset", args.get("report")), ("period", args.get("period"))) if v}
    return {k: v for k, v in args.items() if k in ("client_id", "product", "quantity")}


def shift_back(period: str, *, today: date) -> str | None:
    """The period of the same length just before ``period`` ("last_week" → the week before it)."""
    try:
        start, end = resolve_period(period, today=today)
    except ValueError:
        return None
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        first = _add_months(start, -months)
        return format_range(first, start - timedelta(days=1))
    length = (end - start).days + 1
    return format_range(start - timedelta(days=length), start - timedelta(days=1))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
