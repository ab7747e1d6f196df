"""Residual entity text ("look up Acme Logistics" -> "Acme Logistics") and artifact references.

``extract_query`` returns the thing being looked up (a name, an e-mail address or an id as text);
``extract_artifact`` returns "latest" or an artifact id for ``deliver_file`` when no file name was given.
"""

from __future__ import annotations

import re

from agent.backends.embedded.extract.freetext import extract_quoted
from agent.backends.embedded.extract.ids import extract_client_id
from agent.backends.embedded.extract.text import fold

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LEAD = re.compile(
    r"^(?:(?:can|could|would)\s+(?:you|u)|please|pls|plz|kindly|hey|hi|ok|okay|so|now|quickly|look\s*up|look\s+for|whois|"
    r"do\s+we\s+have|have\s+we\s+got|is\s+there|are\s+there|any|"
    r"find(?:\s+out)?|search(?:\s+for)?|show(?:\s+me)?|get(?:\s+me)?|give\s+me|pull\s+up|bring\s+up|check|"
    r"who\s+is|who's|whos|what\s+is|what's|whats|what\s+do\s+we\s+(?:know|have)\s+(?:about|on)|tell\s+me\s+about|"
    r"i\s+need|i\s+want|i'm\s+looking\s+for|info(?:rmation)?(?:\s+(?:on|for|about))?|details?(?:\s+(?:on|for|of|about))?|"
    r"the|a|an|our|this|that|customer|customers|client|clients|account|accounts|company|record|records|"
    r"contact|profile|entry|called|named|for|about|on|with|of|me|us|by|name|email|e-mail|id|number|no\.?|"
    r"and|also|pull|fetch|find|fnd|lookup|look|up|search|srch|custmer|costumer|costumers|cust|acct|where|who|what|"
    r"phone|address|"
    # a correction's lead-in: "no wait i meant wayne foods", "nah try initech systems"
    r"no|nah|nope|wait|try|actually|sorry|um+|uh+|hmm+|i\s+meant|i\s+mean)"
    r"(?=[\s,:;?!]|$)[\s,:;]*",
)
_TRAIL = re.compile(
    r"[\s,:;.!?]*(?:\b(?:please|pls|plz|for\s+me|4\s+me|for\s+us|details?|record|info|profile|thanks|thank\s+you|again|now|"
    r"real\s+quick|quickly|asap|when\s+you\s+can|"
    r"in\s+the\s+(?:crm|database|db|system)|customer|client|account)\b[\s,:;.!?]*)*$"
)
_NAMED = re.compile(r"\b(?:named|called)\s+")
_BARE_ID = re.compile(r"(?<![\w.,-])(\d{3,7})(?![\w.-]|,\d|\.\d|\s*(?:units?|pcs|pieces?|items?|x\b|of\b|%))")
_ID_LABEL = re.compile(r"\bid\s*[:#=]\s*(\d{3,7})\b", re.I)
_POSSESSIVE = re.compile(r"'s?$")
_ARTIFACT_ID = re.compile(
    r"\b(?:artifact|artefact)\s*(?:id|no\.?|number)?\s*[:#=]?\s*#?\s*(?P<n>\d{1,9})\b|"
    r"\b(?:file|export|output)\s*(?:id|no\.?|number)?\s*[:#=]?\s*#?\s*(?P<n2>\d{1,9})\b"
    r"(?!\s+(?:the\s+)?(?:partner|bank|finance|erp|sftp|share|webhook|ops|sales)\b)"  # "export 2 partner": 2 = to
)
# "deliver 271 -> partner_sftp": a bare number right after the verb, before where it goes, is the file's id.
_DELIVER_ID = re.compile(
    r"^\W*(?:deliver|send|push|ship|upload|drop|transfer)\s+#?(?P<n>\d{1,9})\s*(?:->|=>|→|\bto\b|\bon(?:to)?\b)"
)
_LATEST = re.compile(
    r"\b(?:latest|la+t+e?s+t|lastest|most\s+recent|newest|newst|freshest|just\s+(?:generated|made|created)|"
    r"last\s+(?:one|file|export|artifact|artefact|report|output|generated|created|exported|produced|written))\b|"
    r"\bthe\s+last\s+one\b"
)


# A run of capitalised words is almost always the name being looked up ("Orion Medical Supplies").
# A full stop inside a word ("J.P.") keeps the run going; one that ends a sentence ("Distribution. Region") ends it.
_WORD = r"(?:(?:[A-Z]\.){1,3}|[A-Z](?:[\w&'-]|\.(?=\w))*)"
_PROPER = re.compile(rf"(?<![\w']){_WORD}(?:\s+(?:&\s+)?{_WORD})*")
# "do we have stark industries as a customer?", "is lumen freight one of ours": the name between the words.
_HAVE_AS = re.compile(
    r"\b(?:do\s+we\s+(?:have|know)|have\s+we\s+got|is)\s+(?P<name>[\w&'. -]+?)\s+"
    r"(?:as\s+an?\s+|an?\s+|one\s+of\s+our\s+)(?:customers?|clients?|accounts?)\b|"
    r"\bis\s+(?P<ours>[\w&'. -]+?)\s+(?:one\s+of\s+)?ours\b"
)
_NOT_NAMES = {
    "i",
    "i'm",
    "i've",
    "i'd",
    "ok",
    "okay",
    "hey",
    "hi",
    "please",
    "can",
    "could",
    "find",
    "look",
    "show",
    "get",
    "pull",
    "who",
    "what",
    "whats",
    "what's",
    "where",
    "is",
    "the",
    "do",
    "does",
    "and",
    "also",
    "lookup",
    "search",
    "tell",
    "give",
    "ceo",
    "crm",
    "id",
    "try",  # "Wrong one. Try Redwood Retail."
    "kindly",
    "negative",
    # courtesy that opens a sentence: "Thank you. Please set out the rule"
    "thank",
    "thanks",
    "thx",
    "cheers",
    "sorry",
    "hello",
    "dear",
    "now",
    "then",
    "who's",
    "whos",
    "request",  # a form's heading: "Request: customer record lookup, account ref. 1264"
    "send",
    # interjections that open a correction: "Hmm, not them. What about Pinnacle Retail?"
    *("hm", "hmm", "hmmm", "um", "umm", "uh", "er", "erm", "oh", "ah", "well", "no", "nope", "nah", "wait"),
}
# Lower-case messages: the name follows the last of these ("phone number for acme logistics").
_ANCHOR = re.compile(r"\b(?:for|about|at|called|named|under the name|regarding|on)\s+")


def _proper_noun(text: str) -> str | None:
    best: str | None = None
    for match in _PROPER.finditer(text):
        words = match.group().split()
        while words and words[0].casefold().strip(".,") in _NOT_NAMES:
            words.pop(0)
        candidate = " ".join(words).strip(" ,.;:!?")
        candidate = _POSSESSIVE.sub("", candidate)
        if (
            candidate
            and candidate.casefold() not in _NOT_NAMES
            and (best is None or len(candidate) > len(best))
        ):
            best = candidate
    return best


def _after_anchor(rest: str) -> str:
    folded = fold(rest)
    anchors = list(_ANCHOR.finditer(folded))
    for anchor in reversed(anchors):
        tail = rest[anchor.end() :]
        trail = _TRAIL.search(fold(tail))
        tail = tail[: trail.start()] if trail is not None else tail
        tail = re.split(r"[,;!?]|\s+-\s+", tail)[0].strip(" .")
        if tail and fold(tail) not in ("me", "us", "it", "them", "now"):
            return tail
    return rest


def extract_query(text: str) -> str | None:
    """Return what the operator is looking up: an e-mail, a customer id (as text) or the residual name.

    Args:
        text: E.g. "look up Acme Logistics please", "find customer #1042", "who is jane@acme.com?".

    Returns:
        The query text as written, or None when nothing is left.
    """
    if m := _EMAIL.search(text):
        return m.group()
    quoted = extract_quoted(text)
    if quoted:
        return quoted
    client_id = extract_client_id(text)
    if client_id is None and (labelled := _ID_LABEL.search(text)):
        client_id = int(labelled.group(1))  # "Ask: customer lookup / ID: 1276 / Purpose: ..."
    if client_id is not None:
        return str(client_id)
    if proper := _proper_noun(text):
        return proper
    if len(ids := {str(found) for found in _BARE_ID.findall(text)}) == 1:
        return ids.pop()  # "who was that customer, 1415? I can't read the rest"
    if have := _HAVE_AS.search(text):
        return (have["name"] or have["ours"]).strip()
    rest = _after_anchor(text.strip())
    asked, _, more = rest.partition("? ")
    if more and (lead := _LEAD.match(fold(asked))) and lead.end() and fold(asked)[lead.end() :].strip():
        rest = asked  # "whos ironclad engineering? tier + hold status. over": the name is what was asked
    if named := _NAMED.search(fold(rest)):
        rest = rest[named.end() :]
    while True:
        m = _LEAD.match(fold(rest))
        if m is None or m.end() == 0:
            break
        rest = rest[m.end() :]
    trail = _TRAIL.search(fold(rest))
    if trail is not None:
        rest = rest[: trail.start()]
    rest = _POSSESSIVE.sub("", rest.strip(" \t,:;.!?#")).strip()
    return None if all(w.casefold().strip(".,!?") in _NOT_NAMES for w in rest.split()) else rest


def extract_artifact(text: str) -> str | None:
    """Return an artifact reference for delivery: an id ("export #12" -> "12") or "latest".

    Args:
        text: Free text without file names (those come from ``paths``).

    Returns:
        The id as text, "latest", or None when the text does not say which file.
    """
    folded = fold(text)
    if m := _ARTIFACT_ID.search(folded) or _DELIVER_ID.search(folded):
        return m.group("n") or m.group("n2")
    if _LATEST.search(folded):
        return "latest"
    return None
