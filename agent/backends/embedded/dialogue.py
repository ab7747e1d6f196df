"""The thread's state for short messages that point back: "how'd that go", "go ahead", "and the week before?".

A follow-up needs evidence that it continues the previous call: a word that points back ("that", "it", "the one
before"), an ellipsis that only makes sense after it ("and the week before?"), a value for one of its slots, or a
verb that fits what was just done. Being in a thread is not evidence, so "lol" or markup after a delivery request
is a message of its own. ``resolve_reference`` handles the messages that name no slot value at all; slot changes
("now just EMEA") are read by the backend's extractors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from agent.backends.base import Turn
from agent.backends.embedded.dialogue_time import THAT_ONE, new_value, next_period
from agent.backends.embedded.extract.ids import bare_numbers
from agent.backends.embedded.extract.text import REJECTING
from agent.backends.embedded.next_step import Reference, go_ahead, switch
from agent.backends.embedded.places import delivery_refusal
from agent.backends.embedded.signals import no_tool_does
from agent.backends.embedded.speech_acts import clauses, end_clauses

# Words that mark a message as a change to the previous call rather than a new request ("now as xml", "failed only").
FOLLOWUP_WORD = re.compile(
    r"^\s*((please|pls|kindly)\s+)?(now|and|also|same|what about|how about|ok(ay)? (now|and)|then|instead|just|only|but|"
    r"actually)\b"
    r"|\b(instead|same (for|but|again)|as well|that one|do the same|again for|too)\b|\bonly\W*$"
    r"|\b(restrict|limit|narrow|filter|cut)(ed)?\s+(it\s+|that\s+)?(down\s+)?to\b"
    r"|^\W*(actually\W+)?(make|change)\s+(it|that)\b|^\W*(re-?run|re-?do|repeat|re-?quote)\s+(it|that)\s+(with|for|at)\b"
    r"|\bnot\s+[\w-]+\W*$|\bi\s+meant\b|^\W*((ah|oh|um+|uh+|hmm+|er+)\W+)?(sorry|perd[oó]n|pardon|oops|my\s+bad)\b"
    r"|\b(do|run|make)\s+(it|that)\s+again\s+(that\s+way|like\s+that|with|in|as)\b"
    r"|\b(the\s+)?(rest|everything\s+else|all\s+else)\b.{0,25}\b(unchanged|the\s+same|as\s+(it\s+)?(is|was))\b",
    re.I,
)
_DIGIT = re.compile(r"\d")
_CHANGED = re.compile(
    r"\b(for|with|in|as|but|only|instead|except|without)\b(?!\s+(me|us)\b)", re.I
)  # "… for LATAM only"
_AGAIN = re.compile(r"\bagain\b|\bonce\s+more\b", re.I)
# Questions that can simply be asked again ("run that report once more"); a write or a list's runs cannot.
_ASKED_AGAIN = frozenset({"run_report", "lookup_customer", "quote_price", "get_run_status", "explain_rule"})
# An earlier sentence that still asks: it points back, rejects a value, or is a question ("And if they take 120?").
_ASKS_ON = re.compile(
    r"\b(that|it|them|those|this|the same|correction|typo|(must|should)\s+be)\b|\bnot\s+\w|\?\W*$", re.I
)
# "same again", "once more": the thread's last call exactly as it was made, whatever a router makes of the words
# (agent.references repeats it for every backend).
SAME_AGAIN = re.compile(
    r"^\W*(same|do it|the same|that|once more)\s*(again|one more time|thing again)\W*$|^\W*again\W*$", re.I
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# Indian business English uses a bare "same" for the thing just discussed: "revert with the status of same".
POINTS_BACK = re.compile(
    r"\b(that|it|them|those|this|the same|the result|the report|the one)\b|"
    r"\b(of|for|on|with|about|apply|process|do|run|send|share)\s+same\b|^\W*(\w+\W+)?same\s+(may|can|should|to)\b",
    re.I,
)
# "the order", "the export": a definite noun for the previous call points back too, for a verb naming another tool.
_DEFINITE = re.compile(
    r"\bthe\s+(order|quote|price|export|file|rules?|ruleset|run|job|pedido|commande|po)\b", re.I
)
# Courtesies and fillers say nothing about the call: "Lovely, thank you. Could you do the same for the month before
# as well?" is as short as "same for the month before".
_FILLER = re.compile(
    r"\b(please|pls|plz|kindly|thanks?|thank\s+you|ta|cheers|lovely|great|perfect|cool|nice|brilliant|ok(ay)?|"
    r"(could|can|would|will)\s+you|as\s+well|too|also|now|let\s+me\s+know|in\s+a\s+(little\s+)?(while|bit)|"
    r"when\s+you\s+(can|get\s+a\s+(chance|minute)))\b|[^\w\s'@:/.-]",
    re.I,
)
# A verdict or thanks that opens a follow-up says nothing about the call: "That all looks sensible to me, so please
# go ahead", "Wonderful, they've accepted, so place it", "Thank you, that's clear; now ...". Only whole clauses go.
_ACK_CLAUSE = re.compile(
    r"^\W*(?:(?:yeah|yes|yep|yup|ya|ja|oui)\W+)?(?:(?:that|this|it)(?:'s|\s+is|\s+all)?\s+(?:all\s+)?(?:(?:looks?|sounds?|seems?|reads?)\s+)?"
    r"(?:(?:very|really|perfectly|most)\s+)?(?:sensible|good|great|fine|clear|helpful|perfect|right|lovely|useful|"
    r"ok(?:ay)?)(?:\s+to\s+(?:me|us))?|thanks?(?:\s+(?:a\s+lot|so\s+much))?|thank\s+you(?:\s+(?:so|very)\s+much)?|"
    r"cheers|lovely|wonderful|great|perfect|excellent|brilliant|super|splendid|fantastic|nice|cool|got\s+it|tidy|lush|"
    r"fine|good|ok(?:ay)?|right|alright|sure|bet|(?:looks?|sounds?)\s+(?:good|fine|right|great)|"
    r"(?:the\s+)?(?:preview|results?|numbers|figures|changes|corrections|list)\s+(?:is|are|looks?|seems?)\s+"
    r"(?:\w+\s+)?(?:satisfactory|good|fine|ok(?:ay)?|right|correct|sensible|in\s+order)|"
    r"understood|noted|makes\s+sense|(?:they|he|she|we|the\s+(?:client|customer))(?:'ve|\s+have)?\s+"
    r"(?:accepted|agreed|signed(?:\s+off)?|confirmed)(?:\s+it)?)\s*(?:[,;.!]+|\s[-–—]\s)\s*(?:(?:and|so)\s+)?",
    re.I,
)
# At most this many words (fillers aside): a longer message says enough to be decided on its own.
SHORT = 8
_END_CLAUSE = (
    12  # the clause that ends (or opens) a long message may say a little more ("book it for them before…")
)
_ING = r"(?:ing|in'?)"
_STATUS = re.compile(
    r"\b(how'?d|how\s+did|did\s+(it|that|this|the\s+\w+)\s+(work|go|run|finish|succeed|pass|go\s+through|complete|fail)|"
    r"(is|was|has)\s+(it|that|this|the\s+same)\s+(done|finished|through|ok|okay|completed?|over|failed|still\s+running)|"
    r"(it|that|this|the\s+same)\s+(has|is)\s+(been\s+)?(completed?|finished|done|through)\b(?!\s+\w)|"
    r"any\s+(luck|news|update|progress|word)|all\s+good|how\s+(it|that|this)\s+(went|turned\s+out|ended)|(it|that)\s+(worked|work|go\s+through|went\s+ok|ended\s+up)|"
    rf"done\s+yet|finished\s+yet|still\s+(running|go{_ING}|work{_ING}|busy|on\s+it)|or\s+(done|finished)|"
    rf"how\s+(it|that|this|things)(\s+is|'s|\s+are)\s+(go{_ING}|gett{_ING}\s+on|com{_ING}\s+along|look{_ING})|where\s+(are\s+we|is\s+it|are\s+things)\s+(with|at|on)|"
    rf"how'?s\s+(it|that|this|things)\s+(go{_ING}|look{_ING}|do{_ING}|com{_ING}\s+along|gett{_ING}\s+on)|"
    rf"how\s+(is|are)\s+(it|that|things)\s+(go{_ING}|look{_ING}|com{_ING}\s+along))\b|"
    r"^\W*(status|progress|update|news)(\s+(on|of)\s+(it|that|this|the\s+(retry|rerun|re-run|run|job|export|sync)))?\W*$|\b(its|it'?s)\s+(run\s+)?status\b|"
    # "done?", "finished?", "ok?" after a start; "is it gone well?" (a Dutch or German speaker's perfect tense)
    r"^\W*(is\s+(it\s+)?)?(done|finish(ed)?|complete[d]?|succeeded|ok(ay)?|good|success(ful)?|worked|through|over)\W*\?[\W]*"
    r"((abi|abla|hocam|bro|mate|boss|sir|pls|please)\W*)?$|"
    r"\b(is|has)\s+(it|that|this)\s+(gone|went|run|ran)\s+(well|ok(ay)?|fine|alright|through|smoothly)\b|"
    r"^\W*how\s+is\s+it\b|\b(finish(ed)?|done|complete[d]?)\s+already\b|"
    r"(^|[.?!]\s*)\W*(is\s+it\s+|it'?s\s+)?already\s+(finish(ed)?|done|complete[d]?|through|over)(\s+or\s+not(\s+yet)?)?\W*$|"
    r"\b(revert|reply|come\s+back|get\s+back)\s+(to\s+me\s+)?with\s+(the\s+)?status\b|"
    r"\b(is|was|has)\s+the\s+(retry|rerun|run|job|export|sync|load|import|upload|delivery)\s+(done|finished|through|"
    r"ok(ay)?|complete[d]?|over)\b",
    re.I,
)
_GO_AHEAD = re.compile(
    r"\b(go\s+ahead|kick\s+(it|that|this)\s+off|fire\s+(it|that)\s+(off|away)|"
    r"(do|dae)\s+(it|that|this)(\s+(for\s+real|now|4\s+real|properly))?(?!\s+again)|"
    # "now real do", "please do real one", "ok now actually run the tiering!!"
    r"(now|do|run)\s+(a\s+|the\s+)?real(\s+(one|do|thing|run|deal))?\b|actually\s+(run|apply|do)\b|"
    r"(run|apply|execute|start|launch|ship|commit|action)\s+(it|that|them|this)|make\s+it\s+(so|happen)|proceed|"
    r"let'?s\s+(do|go)|(for|4)\s+real|go\s+for\s+it|pull\s+the\s+trigger|green[\s-]?light|"
    r"^\W*commit\W*$|carry\s+(it|that|them|those|this)\s+out|make\s+it\s+real(ly)?|lock\s+it\s+in|"
    r"(apply|run|make|do)\s+(the|those|these)\s+\w+(\s+\w+)?\s+(now|for\s+real|properly)|"
    r"(ok|okay|yes|yep|fine|good)\s*,?\s*(now|then)?\s*(run|apply|do)\b|"
    r"convert\s+(it\s+|that\s+|this\s+)?(in)?to\s+(an?\s+)?order|execute\s+(it|that|this|with|now|for\s+real)|"
    r"^\W*(lgtm|ship\s+it)\W*(\W+apply)?\W*$|\W(->|→)\s*(apply|run|go)\W*$|"
    r"\b(may|can|should)\s+be\s+(applied|done|run|processed|executed|placed|actioned)\b)",
    re.I,
)
_CLEAN = re.compile(r"\b(clean|tidy|dedupe|de-duplicate|normali[sz]e|fix)\b", re.I)
_RETRY = re.compile(
    r"\b(retry|re-?run|rerun|bounce|restart|re-?submit|re-?do|re-?launch|re-?trigger|re-?start|re-?drive|"
    r"re-?queue|re-?process|re-?play|re-?fire|"
    r"try\s+(it|that)\s+again|again|once\s+more|another\s+(go|try|shot))\b",
    re.I,
)
# "now drop the region filter": the previous call without that argument.
_DROP_FILTER = re.compile(r"\b(drop|remove|clear|lose|without)\s+(the\s+)?(region|status|limit)\b", re.I)
# A correction's rejected value ("is G200, not G100X") is no value of the call.
_REJECTED = re.compile(  # "not in csv", "Tuesday instead of Monday"
    rf"\b{REJECTING}\s+(?:(?:in|as|into|to|for|a|an|the|on|at)\s+)?[\w-]+(?:[:.]\d{{2}})?",
    re.I,
)
# "the same message to sales": the previous call's text stays, only where it goes changes.
SAME_PAYLOAD = re.compile(
    r"\b(send\s+)?((the|that|this)\s+)?(very\s+)?(same|identical|exact)\s+(message|note|text|words|thing)\b",
    re.I,
)
_NARROWS = re.compile(r"\bsame\b|^\W*(and|what\s+about|how\s+about|only|just)\b", re.I)
# At most this many words answer the argument a previous call lacked ("1090", "the finance share"), or this many
# when the message says it is an answer ("the client id is 1433", "it is the customers, of course").
_ANSWER_WORDS = 3
_STATED_ANSWER_WORDS = 7
_STATED = re.compile(
    r"^\W*(?:it'?s|it\s+is|that'?s|that\s+is|for|(?:the\s+)?(?:client|customer|account|dataset|file|id)\b|"
    r"the\s+[\w\s-]{0,20}\b(?:ruleset|rules|flow|report|dataset|destination|format)\W*$)",
    re.I,
)
_COPULA = re.compile(r"\b(client|customer|account|id|dataset)\s+(?:is|=|:)\s+", re.I)
# "that will be all", "nothing else": the thread is closed, whatever words follow.
CLOSING = re.compile(
    r"\b(?:that'?s|that\s+is|that\s+will\s+be|that\s+would\s+be)\s+all\b(?!\s+(?:of|the|[\w-]+ing)\b)|"
    r"\bnothing\s+(?:else|more)\b|"
    r"\b(?:we'?re|i'?m|all)\s+done\s+(?:here|for\s+(?:now|today))\b",
    re.I,
)
# A rule explained and the ruleset that applies it (tools/rules.py).

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


def keeps_preview(previous: Turn | None, tool: str, said: Mapping[str, Any]) -> bool:
    """Whether a call of ``tool`` after a preview of the same tool stays a preview: it does unless it says otherwise."""
    return (
        previous is not None
        and previous.tool == tool
        and previous.args.get("dry_run") is True
        and "dry_run" not in said
    )


def previous_args(previous: Turn) -> dict[str, Any]:
    """The previous call's arguments, with the run it started as ``run_id`` ("did that load finish?")."""
    if previous.run_id is None or "run_id" in previous.args:
        return dict(previous.args)
    return {**previous.args, "run_id": previous.run_id}


def last_call(context: list[Turn]) -> Turn | None:
    """The thread's most recent call, if any."""
    for turn in reversed(context):
        if turn.role == "assistant" and turn.tool:
            return turn
    return None


def kept_text(text: str) -> str:
    """What a follow-up's values are read from: not "that one", the same message, or a value it rejects."""
    return _REJECTED.sub(" ", SAME_PAYLOAD.sub(" ", THAT_ONE.sub(" ", text)))


def value_sentences(text: str) -> list[str]:
    """The sentences of a follow-up its values are read from, in order: the last, and those that point back.

    "My daughter says orders came in late yesterday. Could you run that report again?" changes no period; "That's
    only ten. Make it the top 25" sets 25, the later sentence winning over the earlier.
    """
    sentences = [s for s in _SENTENCE.split(text.strip()) if s.strip()]
    if len(sentences) < 2:
        return [text]
    earlier = [s for s in sentences[:-1] if _ASKS_ON.search(s) or FOLLOWUP_WORD.search(s)]
    return [*earlier, sentences[-1]]


def request_part(text: str) -> str:
    """``text`` without the verdicts and thanks that open it ("Lovely, thank you; and the month before?")."""
    while (found := _ACK_CLAUSE.match(text)) is not None and text[found.end() :].strip():
        text = text[found.end() :]
    return text


def asks_anew(text: str) -> bool:
    """A long request of its own ("now tidy up the orders table"), not a repeat ("the same for …") or a narrowing."""
    return not is_short(text) and not _NARROWS.search(text)


def is_short(text: str, words: int = SHORT) -> bool:
    """A message short enough to lean on the thread ("and the week before?"), courtesies aside."""
    return len(_FILLER.sub(" ", text).split()) <= words


def resolve_reference(text: str, previous: Turn, *, today: date) -> Reference | None:
    """The call a short, pointing-back message asks for, or None when it is not one of those.

    A long message is read by its last clause, then its first, and only as a status question, a go-ahead, a switch
    or a retry: what comes between does not say which call is meant. Work no tool does is never a reference
    ("deliver it to our Salesforce sandbox" after an export).
    """
    core = request_part(text)  # without the verdicts and thanks in front ("Fine. Commit.")
    if previous.tool is None or no_tool_does(text) or delivery_refusal(text):
        return None
    if not is_short(core):
        # "... so apply it now, for real", "...; please proceed to place that order", "Any word on how that went?
        # The bank is fussy about it.": the last clause, then the first, then a sentence between that asks on
        # ("Thank you! Could I also see the month before that? I want to compare them.").
        ends = [p for p in end_clauses(core) if p != core]
        parts = [p for p in _asking_parts(core) if is_short(p, _END_CLAUSE + 4)]
        for part in parts:  # what the message asks about the call: its status, the next step, a new value
            if _STATUS.search(part):
                return _status(previous)
            if (switched := _switch(part, previous.tool, previous.args)) or (
                switched := next_period(part, previous.tool, previous.args, today)
                or new_value(part, previous.tool, previous.args)
            ):
                return switched
        ends = [p for p in parts if p in ends and is_short(p, _END_CLAUSE)]
        for part in ends:  # at the message's end or start: a go-ahead or a retry
            if previous.tool in _ASKED_AGAIN and _AGAIN.search(part):
                return _retry(part, previous)  # "What if we scale to 900? Run it again.": asked again
            if _GO_AHEAD.search(part) and (ahead := go_ahead(previous.tool, previous.args)) is not None:
                return ahead
            if retried := _retry(part, previous):
                return retried
        return None
    args = dict(previous.args)
    tool = previous.tool
    if _STATUS.search(text):
        return _status(previous)
    if shifted := next_period(text, tool, args, today):
        return shifted
    if (dropped := _DROP_FILTER.search(text)) is not None and dropped.group(3).lower() in args:
        return Reference(tool, {k: v for k, v in args.items() if k != dropped.group(3).lower()}, "")
    if changed := new_value(text, tool, args):
        return changed
    if (_GO_AHEAD.search(text) or _GO_AHEAD.search(core)) and (ahead := go_ahead(tool, args)) is not None:
        return ahead
    if switched := _switch(text, tool, args):
        return switched
    if _CLEAN.search(text) and POINTS_BACK.search(text) and "dataset" in args:
        return Reference("normalize_dataset", {"dataset": args["dataset"]}, "the dataset just loaded")
    return _retry(text, previous)


def _asking_parts(text: str) -> list[str]:
    """Where a long message asks: its last clause, its first (or the whole), then each sentence between that asks on."""
    parts = end_clauses(text)
    sentences = [s for s in _SENTENCE.split(text.strip()) if s.strip()]
    between = [*sentences[1:-1], *clauses(text)[1:-1]]
    return [
        *parts,
        *(s for s in between if (_ASKS_ON.search(s) or FOLLOWUP_WORD.search(s)) and s not in parts),
    ]


def _switch(text: str, tool: str, args: Mapping[str, Any]) -> Reference | None:
    """The next tool a message pointing back asks for ("book it" after a quote, "preview that" after a rule)."""
    return switch(text, tool, args) if POINTS_BACK.search(text) or _DEFINITE.search(text) else None


def _status(previous: Turn) -> Reference | None:
    """A status question after a call that starts a run, or after a status answer."""
    tool, args = previous.tool, previous.args
    if tool not in _STARTS_RUNS and tool != "get_run_status":
        return None
    if previous.run_id is not None:
        return Reference("get_run_status", {"run_id": previous.run_id}, "status of the run just started")
    if "flow" in args:
        return Reference("get_run_status", {"flow": args["flow"]}, "status of that flow's latest run")
    run_id = args.get("run_id")
    return None if run_id is None else Reference("get_run_status", {"run_id": run_id}, "status of that run")


def _retry(text: str, previous: Turn) -> Reference | None:
    """A retry of the run just started or shown ("retry it")."""
    if not (_RETRY.search(text) and POINTS_BACK.search(text)):
        return None
    run_id = previous.run_id if previous.run_id is not None else previous.args.get("run_id")
    if (
        run_id is None
        and previous.tool in _ASKED_AGAIN
        and not (_DIGIT.search(text) or _CHANGED.search(text))
    ):
        # "run that report once more": a question asked again, with nothing to retry (a run listed is retried)
        return Reference(previous.tool, dict(previous.args), "the same question again")
    return None if run_id is None else Reference("retry_run", {"run_id": run_id}, "the run just discussed")


def answer_to_lack(
    text: str,
    previous: Turn,
    *,
    required: Sequence[str],
    extract: Callable[[str, str], Mapping[str, Any]],
) -> Reference | None:
    """A short message that gives a required argument the previous call lacked ("1090" for the client).

    Only the lacking arguments are read from it, so an answer can change nothing else about the call.
    """
    lacking = [name for name in required if name not in previous.args]
    words = len(_FILLER.sub(" ", text).split())
    if (
        previous.tool is None
        or not lacking
        or words > (_STATED_ANSWER_WORDS if _STATED.match(text) else _ANSWER_WORDS)
    ):
        return None
    values = extract(previous.tool, _COPULA.sub(r"\1 ", text))  # "the customer is 1187": customer 1187
    given = {name: values[name] for name in lacking if values.get(name) is not None}
    if not given:
        return None
    return Reference(previous.tool, {**previous.args, **given}, "the answer to what the call lacked")


# When a sales question names no report, the regional breakdown is the default view.
_SALES_WORDS = re.compile(r"\b(sales|sell|sells|sold|selling|revenue|turnover)\b", re.I)


def implied_args(props: Mapping[str, Any], text: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """What the words imply but no extractor names, for a tool with ``props``: a lone id, the default sales report."""
    extra: dict[str, Any] = {}
    ids = [name for name in props if name.endswith("_id") and name not in args]
    used = {str(v) for v in args.values() if isinstance(v, int) and not isinstance(v, bool)}
    numbers = [n for n in bare_numbers(kept_text(text)) if n not in used]  # not "not 20"
    if len(ids) == 1 and len(numbers) == 1 and sum(1 for n in props if n.endswith("_id")) == 1:
        extra[ids[0]] = int(numbers[0])  # "what happened to 9931?" → run_id 9931
    if "report" in props and "report" not in args and _SALES_WORDS.search(text):
        extra["report"] = "sales_by_region"
    return extra
