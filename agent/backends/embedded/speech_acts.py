"""Which clause of a message asks for something, and which only says what not to do.

"Don't start anything, I only want to know whether last night's export worked" asks about a run; a bag of words
sees "start" and "export". A message is split into clauses; a clause that opens with a negation ("don't ...",
"no need to ...", "without ...", "nothing should ...") says what not to do, and the router reads the others. When a
negation is followed by a focusing clause ("just ...", "only ...", "instead ..."), that clause alone says what is
wanted ("order 40 A100X but don't place it yet, just quote" is a quote). A message of negations only asks nothing.

Messages without a leading negation in any clause are left exactly as they are.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from agent.backends.embedded.extract.spoken import unspoken

_SPLIT = re.compile(  # a comma or colon between digits ("1,000 units", "at 6:30") splits nothing
    r"(?:(?<!\d)[,:]|[,:](?!\d)|[;!?])+|\.(?:\s|$)|\s+[-–—]\s+|"
    r"\s+(?=(?:but|without|though|although|however|and\s+(?:don'?t|do\s+not|not)|just|only|instead|rather)\b)",
    re.I,
)
_QUOTED = re.compile(r'"[^"]*"|\u201c[^\u201d]*\u201d')
_PUNCTUATION = ",;:!?.-"
_PRIVATE = "".join(chr(0xE000 + i) for i in range(len(_PUNCTUATION)))  # never typed, so safe to borrow
_HIDE = str.maketrans(_PUNCTUATION, _PRIVATE)
_SHOW = str.maketrans(_PRIVATE, _PUNCTUATION)
_LEAD = re.compile(
    r"^(?:(?:and|but|so|then|though|although|however|ok(?:ay)?|please|pls|plz|also)\s+)+", re.I
)
_NEGATION = re.compile(
    r"^(?:(?:i|we|he|she|they|(?:mr|ms|mrs|dr)\.?\s+\w+)\s+)?(?:don'?t|dont|do\s+not|does\s+not|doesn'?t|"
    r"never|no\s+need\s+to|no\b|not\b|nothing\b|without\b|hold\s+off\b|"
    r"skip\b|avoid\b|stop\b|(?:please\s+)?refrain\b|(?:there'?s\s+)?no\s+need\b)",
    re.I,
)
# Negated phrases that still ask for something.
_NOT_NEGATION = re.compile(
    r"^(?:don'?t|dont|do\s+not|never)\s+(?:forget|hesitate|miss)\b|^not\s+(?:sure|certain)\b|^no\s+problem\b|"
    r"^no\s*,?\s*(?:(?:wait|sorry|actually|hang\s+on|hold\s+on|oops)\W*)*(?:i\s+meant|i\s+mean|make\s+(?:it|that)|use)\b|"
    r"^not\s+[\w-]+\W*$",  # "200, not 20": a value corrected, not an action held back
    re.I,
)
_NOUN_NEGATION = re.compile(r"^not\s+(?:an?|the|one)\s", re.I)
# A worry about doing it wrong is no order not to do it: "I don't want to send it to the wrong place".
_WORRY = re.compile(
    r"\b(?:wrong|by\s+mistake|by\s+accident|accidentally|twice|mess\s+(?:it|this|that|things)\s+up)\b", re.I
)
_BARE_NEGATION = re.compile(r"^(?:don'?t|dont|do\s+not|not|never)$", re.I)
_FOCUS = re.compile(
    r"^(?:(?:i|we)\s+)?(?:(?:just|only|simply|merely)\b|instead\b|rather\b|all\s+(?:i|we)\s+(?:need|want)\b)",
    re.I,
)
_CONTENT = re.compile(r"[^\W\d_]{3,}")
_DIGIT = re.compile(r"\d")  # "no, 6": a value corrected is something asked for
# A focusing clause made only of these asks for nothing of its own ("I just want to see the list"): the clauses
# before it say what.
_GENERIC = frozenset(
    "just only simply merely instead rather want wanted need like would see look view check know show tell give "
    "the that this those them what list result results outcome numbers figures answer please for now".split()
)
# Verbs that mean "do it now" whatever the tool.
_GENERIC_ACT = (
    r"do\s+it|do\s+anything|execute|go\s+ahead|actually\s+do|run\s+it|act\s+on\s+it|make\s+it\s+happen"
)
# The verbs of each acting tool: "book 10 B200 for 1042 but don't submit it" holds the order back.
ACT_VERBS: Mapping[str, str] = {
    "create_order": r"place|submit|book|order|put\s+(?:it\s+)?through|raise|create|enter",
    "deliver_file": r"send|deliver|ship|push|upload|transfer|drop",
    "send_notification": r"send|notify|tell|e-?mail|message|ping|post|page",
    "run_flow": r"run|start|kick|launch|trigger|fire",
    "schedule_flow": r"schedule|cron|set\s+up",
    "ingest_file": r"load|ingest|import|upload",
    "normalize_dataset": r"clean|normali[sz]e|dedupe|fix",
    "retry_run": r"retry|re-?run|restart|bounce|kick",
    "apply_rules": r"apply|change|update|commit|write",
}


@dataclass(frozen=True)
class SpeechAct:
    """A message read clause by clause.

    Attributes:
        ask: What the router should read: the focusing clauses after a negation, else every clause that is not
            a negation; the whole message when it has no negated clause.
        args_text: The text the arguments are read from: every clause that is not a negation.
        negated: The clauses that say what not to do.
        after_ask: The negated clauses that follow a clause that asks ("book it, but don't submit it yet"):
            only these can hold the asked-for call back; "don't run it now, schedule it" asks anew after one.
    """

    ask: str
    args_text: str
    negated: tuple[str, ...] = ()
    after_ask: tuple[str, ...] = ()

    @property
    def asks_nothing(self) -> bool:
        """Only negations ("please don't send anything today")."""
        return (
            bool(self.negated) and not _CONTENT.search(self.args_text) and not _DIGIT.search(self.args_text)
        )

    def holds(self, tool: str) -> bool:
        """Whether a negated clause tells ``tool`` (or anything) not to act ("but don't place it yet")."""
        verbs = ACT_VERBS.get(tool)
        if verbs is None:
            return False
        pattern = re.compile(rf"\b(?:{verbs}|{_GENERIC_ACT})", re.I)
        # "…, not a duplicate upload" negates a thing, not the act: only a clause about acting holds it back.
        return any(
            pattern.search(c) and not _NOUN_NEGATION.match(c) and not _WORRY.search(c) for c in self.after_ask
        )


def read_speech_act(text: str) -> SpeechAct:
    """Split ``text`` into the clauses that ask and those that only say what not to do."""
    clauses: list[str] = []
    # A quoted message is one piece whatever it says: "Q4 push starts Monday, no excuses" holds no negated clause.
    hidden = _QUOTED.sub(lambda m: m.group().translate(_HIDE), text)
    for part in _SPLIT.split(hidden):
        clause = _LEAD.sub("", part.strip()).translate(_SHOW)
        if clauses and _BARE_NEGATION.match(clauses[-1]):
            clauses[-1] = f"{clauses[-1]} {clause}"  # "don't | just quote it" is one clause
        elif clause:
            clauses.append(clause)
    negated = [c for c in clauses if _NEGATION.match(c) and not _NOT_NEGATION.match(c)]
    if not negated:
        return SpeechAct(ask=text, args_text=text)
    asking = [c for c in clauses if c not in negated]
    after_negation = clauses[clauses.index(negated[0]) + 1 :]
    focus = [c for c in after_negation if c in asking and _FOCUS.match(c) and _asks_something(c)]
    args_text = " ".join(asking)
    first_ask = clauses.index(asking[0]) if asking else len(clauses)
    after_ask = tuple(c for c in clauses[first_ask + 1 :] if c in negated)
    return SpeechAct(
        ask=" ".join(focus) if focus else args_text,
        args_text=args_text,
        negated=tuple(negated),
        after_ask=after_ask,
    )


# A statement after the request only says why: "I need every product we carry as a CSV — the merch stall is doing a
# stocktake". It opens with its subject and neither asks, wants, nor holds anything back.
_ASIDE_BREAK = re.compile(r"\s+[-–—]\s+|;\s+|(?<=[a-z0-9])\.\s+")
_STATEMENT = re.compile(r"^(?:the|our|my|his|her|their|we|they|he|she|it|its|it's|this|these|those)\s", re.I)
_ASKS = re.compile(
    r"\?|\b(?:please|pls|kindly|should|must|needs?|wants?|would|could|can|will|shall|don'?t|not|never|no|also|then)\b|"
    r"'ll\b",
    re.I,
)


def before_aside(text: str) -> str | None:
    """The request before a statement that only explains it, or None when nothing follows it or that asks too."""
    parts = _ASIDE_BREAK.split(text.strip(), maxsplit=1)
    if (
        len(parts) == 2
        and len(parts[0].split()) >= 3
        and _STATEMENT.match(parts[1])
        and not _ASKS.search(parts[1])
    ):
        return parts[0]
    return None


def _asks_something(clause: str) -> bool:
    """Whether a focusing clause names anything beyond "just show me" ("just the quote" does; "I just want to see")."""
    return any(word.casefold() not in _GENERIC for word in _CONTENT.findall(clause))


# Where a long message's last clause starts: "I have a meeting soon, so before I go: did that complete?"
# A capitalised verb with its object starts one too where the speech-act reader joined sentences ("off Apply it").
_CLAUSE_BREAK = re.compile(
    r"(?<!dry_run)(?<!dry run)[.:;!?]+\s+|\s[-–—]\s|,\s*(?:and\s+)?so\s+|\s+so,\s+|"  # not "dry_run: false"
    r",\s+(?=(?:they|we|i|he|she)(?:['’]\w+)?\s)|(?-i:(?<=[a-z])\s+(?=[A-Z][a-z]+\s+(?:it|that|them|this)\b))",
    re.I,
)


def last_clause(text: str) -> str:
    """The last clause of ``text`` (all of it when it has one)."""
    return end_clauses(text)[0]


def clauses(text: str) -> list[str]:
    """The clauses of ``text`` in order (the whole text when it has one)."""
    return [part for part in _CLAUSE_BREAK.split(text) if part.strip()] or [text]


def end_clauses(text: str) -> list[str]:
    """The last clause of ``text``, then its first when it has more than one: where a long message asks."""
    parts = clauses(text)
    return [parts[-1], parts[0]] if len(parts) > 1 else parts


# A letter's frame: "Dear Switchboard," before the request, "Kind regards, Arthur" after it. Neither asks anything,
# and a sign-off read as the last clause hides the request before it.
_SALUTATION = re.compile(
    r"^\s*dear\s+[^,\n:]{1,40}[,:\n]\s*|"
    r"^\s*(?:hi|hello|hey|good\s+(?:morning|afternoon|evening))(?:\s+[^,\n:!]{1,30})?\s*[,:!]?\s*\n+",
    re.I,
)
_SIGN_OFF = re.compile(
    r"(?:^|(?<=[.!?])\s+|\n+)\s*(?:(?:kind|best|warm|warmest|many|with)\s+(?:regards|wishes|thanks)|regards|"
    r"yours\s+(?:sincerely|faithfully|truly)|sincerely|respectfully|thanks\s+(?:again|in\s+advance)|with\s+thanks)"
    r"\s*[,.!]?(?:\s*\n?\s*[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,2})?\s*[.!]?\s*$",
    re.I,
)


# "1) Top customers 2) EMEA only 3) YTD 4) top 25": the items' numbers are no values.
_ENUMERATOR = re.compile(r"(?:^|(?<=\s))\(?\d{1,2}[).]\s+")


# A counter's shorthand for the words that name a tool: "qte them 30 B300", "sched the sync for 6", Hinglish
# "chalao"; and Indian business English's "revert" for "reply" ("check party code 1311 and revert with the
# details"), which an ERP consultant's "revert the posting" would otherwise make sound like undoing something.
_SHORTHAND = {
    "qte": "quote",
    "qtes": "quotes",
    "quot": "quote",
    "sched": "schedule",
    "rpt": "report",
    "chalao": "run",  # Hindi and Bengali "run it": "customer sync ta ekhon chalao"
    "chalaao": "run",
}
_SHORTHAND_WORD = re.compile(rf"(?<![\w-])({'|'.join(_SHORTHAND)})(?![\w-])", re.I)
# A value repaired as it is typed: "Look up 1256 — no wait, 1265", "20 B200, sorry, I mean B300". The first is gone.
_SELF_REPAIR = re.compile(
    r"(?<![\w-])[A-Za-z]{0,3}-?\d[\w-]*\s*[-–—,]?\s*(?:no\s*,?\s*)?(?:wait|sorry|oops)?\s*,?\s*"
    r"(?:(?<=wait)|(?<=wait,)|(?<=sorry)|(?<=sorry,)|(?<=oops)|(?<=oops,)|i\s+mean[t]?\s*,?|correction\s*:?|"
    r"scratch\s+that\s*,?)\s+(?=[A-Za-z]{0,3}-?\d)",
    re.I,
)
# Filipino "po", a courtesy ("Kindly quote po 1.5k pcs", "applies po."), is no purchase order ("the PO 4471").
_PO_COURTESY = re.compile(
    r"(?<=[a-z])(?<!\bthe)(?<!\ba)(?<!\bour)(?<!\bthis)(?<!\bthat)(?<!\byour)(?<!\btheir)(?<!\bnew)(?<!\bref)"
    r" po(?=[.,!?]|\s*$|\s+\d)"
)
# "the state of the execution 91" (Romanian "starea", French "l'état"): a run's state is its status.
_STATE_OF_RUN = re.compile(r"\bstate\s+of\s+(?:the\s+)?(?:execution|run|job)\b", re.I)
_REVERT_REPLY = re.compile(
    r"\brevert(?=\s+(?:back\s+)?(?:with|to\s+(?:me|us)|at\s+the\s+earliest|asap)\b)", re.I
)


# An aside comparing the request with another system's transaction says nothing about ours: "display customer 1053
# (like XD03)", "reprocess run 3050, like BD87 for an IDoc in error", "Like VA01 pricing simulation, no saving".
_CODE = r"(?=[^,.;()]*\b(?:[A-Z]{2,}\d+\w*|SAP|ERP|IDocs?|BAPI|transaction\s+code)\b)"
_AS_IN = r"(?i:like|as\s+in|similar\s+to|same\s+as|analogous\s+to|e\.g\.)"
_ANALOGY = re.compile(
    rf"\s*\({_AS_IN}\b{_CODE}[^)]*\)|,\s*(?i:(?:it|this|that)\s+is\s+|it'?s\s+)?{_AS_IN}\s+{_CODE}[^,.;()]*|"
    rf"(?:^|(?<=[.!?]\s)){_AS_IN}\s+(?i:in\s+)?{_CODE}[^,.;]*[,;]?\s*"
)


def as_typed(text: str, skus: Collection[str] = ()) -> str:
    """The message as if typed in full: no letter's frame, list numbering, dictation ("one oh seven") or shorthand."""
    if len(_ENUMERATOR.findall(text)) >= 2:
        text = _ENUMERATOR.sub("", text)
    plain = _SHORTHAND_WORD.sub(lambda m: _SHORTHAND[m.group(1).casefold()], _ANALOGY.sub("", text)).strip()
    text = _STATE_OF_RUN.sub("status of run", _REVERT_REPLY.sub("reply", plain or text))
    text = _unquoted_sub(_PO_COURTESY, _unquoted_sub(_SELF_REPAIR, text))
    return unspoken(without_letter_frame(text), skus)


def _unquoted_sub(pattern: re.Pattern[str], text: str) -> str:
    """``text`` with ``pattern``'s matches removed outside quotes: a quoted message is sent as written."""
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    return pattern.sub(lambda m: m.group() if any(s <= m.start() < e for s, e in quoted) else "", text)


def without_letter_frame(text: str) -> str:
    """``text`` without a letter's salutation and sign-off (all of it when nothing else would be left)."""
    body = _SIGN_OFF.sub("", _SALUTATION.sub("", text, count=1), count=1).strip()
    return body if _CONTENT.search(body) else text
