"""Deliveries to a place that is none of the configured destinations, and flows that are none of the flows.

``deliver_file`` reaches the destinations of ``core.vocabulary.DestinationName`` and nothing else. "Send the latest
export to the auditors' portal" names a place, and it is none of them: asking "which destination?" would invite
the operator to pick one the file was never meant for, so the request is refused, and the refusal names the
destinations there are. A message that names no place ("send it over"), or points at one already known ("the
usual place", "them"), is left to the usual question. "Run the fleet maintenance flow" is refused the same way,
naming the flows there are.
"""

from __future__ import annotations

import re
from typing import get_args

from agent.backends.embedded.extract.synonyms import DESTINATION, FLOW
from core.vocabulary import DestinationName, FlowName

# Words that tell a destination apart: its name's parts and its synonyms' words ("bank", "sftp", "finance").
_KNOWN = frozenset(
    word
    for name in get_args(DestinationName)
    for phrase in (name, name.replace("_", " "), *DESTINATION.get(name, ()))
    for word in re.findall(r"[a-z]+", phrase.casefold())
    if word
    not in {"the", "s", "server", "system", "folder", "drive", "share", "network", "file", "sftp", "webhook"}
) | frozenset(get_args(DestinationName))
# Where a file goes: "to X", "into X", "onto X"; the place ends where the sentence moves on.
_TARGET = re.compile(
    r"\b(?:over\s+to|up\s+to|across\s+to|to|into|onto)\s+(?P<place>(?:[^,.;!?()]|\.(?=\S))+)", re.I
)
# An address is never a destination's name, whatever words it shares with one ("s3://finance-archive").
_ADDRESS = re.compile(
    r"\w+://|\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|example|local|internal|co)\b",
    re.I,
)
_PLACE_END = re.compile(
    r"\s+(?:and|but|so|then|because|since|as|for|by|before|after|once|when|if|please|pls|asap|now|today|"
    r"tonight|tomorrow|this|at|with|without|in\s+(?:csv|xml|json|dat)|via|using)\b.*$",
    re.I,
)
# A place the thread or the config already knows, or none at all: these still get the usual question.
_NOT_A_PLACE = re.compile(
    r"^(?:the\s+)?(?:it|them|him|her|me|us|there|that|this|those|these|one|yours?|ours?|everyone|"
    r"(?:the\s+|our\s+|its\s+)?(?:usual|normal|same|right|correct|proper|default|regular|standard|agreed)\b.*|"
    r"(?:csv|xml|json|dat|excel|a\s+file|file|disk|the\s+file|date|day|\d.*)|"
    r"(?:an?\s+|our\s+)?(?:s?ftp|sftp\s+server|server|webhook|share)|"  # a kind alone: which one is asked
    r"(?:do|be|see|make|get|check|confirm|send|deliver|run|export|go)\b.*)$",
    re.I,
)
# What a place is called when it is one: a store, a machine, an organisation or a person.
_PLACE_NOUN = re.compile(
    r"\b(folders?|drives?|portals?|servers?|sites?|website|buckets?|box|office|laptops?|desktops?|computers?|pc|"
    r"printers?|systems?|ftp|sftp|cloud|accounts?|api|endpoints?|storage|repo|repository|archive|directory|"
    r"vault|branch|hq|headquarters|team|department|dept|auditors?|accountants?|lawyers?|solicitors?|"
    r"customers?|clients?|colleagues?|boss|manager|ceo|cfo|mailbox|inbox|phone|tablet|ipad|stick|usb|"
    r"platform|app|crm|dashboard|warehouse|store|shop|agency|authority|regulator|insurer|broker|"
    r"workspace|channel|group|partners?|vendors?|suppliers?)\b|@|[a-z]+_[a-z_]+",
    re.I,
)
# Verbs that move a file somewhere, for export_dataset: "upload the orders export to the auditors' portal".
_MOVES = re.compile(
    r"^\W*(?:(?:please|pls|can\s+you|could\s+you|would\s+you|kindly|also|just|now|then)\s+)*"
    r"(?:send|deliver|upload|push|transfer|ship|copy|move|put|drop|post|forward|sftp)\b",
    re.I,
)


def unknown_destination(text: str, tool: str, filled: str | None) -> str | None:
    """The place a file is to go when it is none of the destinations, else None.

    Args:
        text: The message (the clause that asks).
        tool: The routed tool; only ``deliver_file``, and ``export_dataset`` asked as a delivery, are read.
        filled: The destination the extractors found, if any: then only an address ("s3://…") is refused.
    """
    if tool not in {"deliver_file", "export_dataset"}:
        return None
    if tool == "export_dataset" and not _MOVES.search(text):
        return None  # "export customers to csv and send them to the bank": the export is the ask
    for match in _TARGET.finditer(text):
        place = _PLACE_END.sub("", match.group("place")).strip()
        if _ADDRESS.search(place):
            return place
        words = set(re.findall(r"[a-z]+", place.casefold()))
        if filled is not None or not place or _NOT_A_PLACE.match(place) or words & _KNOWN:
            continue
        if _PLACE_NOUN.search(place) or _proper_name(place):
            return place
    return None


def _proper_name(place: str) -> bool:
    """A capitalised name in the place: "Mary in accounts", "the Leeds office", "Filebase"."""
    return any(word[:1].isupper() and word[1:].islower() for word in place.split()[:4] if len(word) > 1)


def no_such_destination(place: str) -> str:
    """The refusal's words: the place asked for, and the destinations there are."""
    names = ", ".join(name.replace("_", " ") for name in get_args(DestinationName))
    return (
        f"I can't deliver to “{place}”: files go only to the destinations set up here ({names}). "
        "A new destination is added by an engineer."
    )


def delivery_refusal(text: str) -> str | None:
    """The refusal's words for a message moving a file to a place no destination is, else None."""
    place = unknown_destination(text, "deliver_file", None) if _MOVES.search(text) else None
    return no_such_destination(place) if place else None


def named_refusal(text: str) -> str | None:
    """For a message the router refused: why, when it names a place or a flow that is not configured."""
    return delivery_refusal(text) or (target_refusal(text, "run_flow", {}) if _STARTS.search(text) else None)


_STARTS = re.compile(r"\b(run|start|kick|launch|trigger|fire|schedule)\b", re.I)


def target_refusal(text: str, tool: str, args: dict[str, object]) -> str | None:
    """The refusal for a call whose destination or flow is named but is none of the configured ones, else None."""
    filled = args.get("destination")
    if place := unknown_destination(text, tool, filled if isinstance(filled, str) else None):
        return no_such_destination(place)
    if tool in {"run_flow", "schedule_flow"} and args.get("flow") is None and (flow := _unknown_flow(text)):
        names = ", ".join(name.replace("_", " ") for name in get_args(FlowName))
        return f"There is no “{flow}” flow: the flows are {names}. An engineer adds flows to the config."
    return None


# "the fleet maintenance flow": a flow named with its article, so the name is what stands between them.
_NAMED_FLOW = re.compile(
    r"\b(?:the|a|an|our|my|this|that)\s+(?P<name>[\w-]+(?:\s+[\w-]+){0,2})\s+(?:flow|pipeline|workflow)\b",
    re.I,
)
_FLOW_WORDS = frozenset(
    word
    for name in get_args(FlowName)
    for phrase in (name, *FLOW.get(name, ()))
    for word in re.findall(r"[a-z]+", phrase.replace("_", " ").casefold())
) | {
    "same",
    "whole",
    "entire",
    "new",
    "next",
    "usual",
    "last",
    "other",
    "first",
    "daily",
    "scheduled",
    "failed",
}


def _unknown_flow(text: str) -> str | None:
    for match in _NAMED_FLOW.finditer(text):
        words = set(re.findall(r"[a-z]+", match.group("name").casefold()))
        if words and not words & _FLOW_WORDS:
            return match.group("name")
    return None
