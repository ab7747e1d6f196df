"""Booleans from phrasing: does the operator want a dry run ("just show me, don't change anything")?"""

from __future__ import annotations

import re

from agent.backends.embedded.extract.text import fold, mask

_PREVIEW_WORDS = (
    r"(?:dry(?:[\s_-]?run)?|preview(?:ed)?|simulat(?:e|ed|ion)|test(?:ed)?\s+run|test\s+mode|trial(?:\s+run)?|rehearsal|"
    r"drill|sandbox|what[\s-]if)"
)
# "apply it as a dry run", "now apply it, but only as a simulation": the live verb is followed by a preview.
_NOT_AS_PREVIEW = (  # "Apply it; dry run only." too
    r"(?![\s,;:]+(?:it|them)?[\s,;:]*(?:but\s+)?(?:only\s+)?(?:as|in)\s+(?:a\s+)?(?:dry|preview|simulat|test)|"
    r"[\s,;:]+(?:but\s+)?(?:a\s+|as\s+a\s+)?(?:dry[\s_-]?run|preview|simulation|test\s+run)\s+only\b)"
)
# Checked first and masked out, so "not a dry run" or "don't just preview" never counts as asking for one.
_LIVE = re.compile(
    rf"\b(?:for\s+real|go\s+ahead\s+and\s+(?:apply|do\s+it|run\s+it|change)|now\s+apply\b{_NOT_AS_PREVIEW}|"
    rf"you\s+may\s+(?:now\s+)?(?:apply|proceed|go\s+ahead)|apply\s+(?:it|them|the\s+changes?|for\s+real|now){_NOT_AS_PREVIEW}|"
    r"actually\s+(?:apply|change|do\s+it|run\s+it)|make\s+the\s+changes?|commit\s+(?:it|the\s+changes?)|"
    rf"(?:not|no|never)\s+(?:just\s+|only\s+|merely\s+|simply\s+)?(?:as\s+)?(?:a\s+|an\s+|another\s+|the\s+)?{_PREVIEW_WORDS}|"
    r"skip\s+the\s+(?:dry[\s-]?run|preview)|"
    r"(?:don'?t|do\s+not|not)\s+(?:just\s+|only\s+)?(?:preview|simulate|show)|live\s+run|do\s+it\s+live|"
    r"without\s+(?:a\s+)?(?:dry[\s-]?run|preview)|wet\s+run|really\s+apply|persist\s+(?:it|the\s+changes?)|"
    r"dry[\s_-]?run\s*(?:[:=]|is|set\s+to|to)?\s*(?:false|no|off|0|disabled)|real\s+run|go\s+live|live\s+mode|"
    r"productive\s+(?:run|mode)|production\s+(?:run|mode)|"
    r"(?:apply|run|do|execute)\s+(?:it\s+|them\s+|this\s+)?(?:really|properly|definitively|for\s+good)|"
    r"(?:really|properly)\s+(?:apply|run|execute|do\s+it|change)|make\s+it\s+(?:permanent|stick|real)|"
    r"(?:save|write|keep)\s+the\s+(?:changes?|results?)|(?:(?:is|'s|are)\s+to\s+be|should\s+be|must\s+be|has\s+to\s+be|needs\s+to\s+be)\s+applied)\b"
)
# A negation right before a live phrase turns it into a request to hold back ("don't commit it").
_NEGATED = re.compile(
    r"\b(?:don'?t|dont|do\s+not|never|not|without|no\s+need\s+to|shouldn'?t|won'?t|mustn'?t|nothing)"
    r"(?:\s+(?:yet|actually|really|want|need|to|be))*\s*$"
)
_DRY = re.compile(
    r"\b(?:dry[\s_-]?run|(?:just|only|merely|simply)\s+(?:want\s+to\s+)?(?:show|tell|list|check|preview|see|look|view|"
    r"simulate|a\s+preview|a\s+look)|show\s+me\s+what|"
    r"what\s+(?:would|will|could)\s+(?:[\w-]+\s+){0,5}?(?:change|happen|be\s+changed|do|make)|"
    r"what\s+(?:[\w-]+\s+){1,5}?(?:would|will)\s+(?:change|happen|do|make|modify|affect|touch)|"
    r"what\s+(?:will|would)\s+it\s+(?:change|do)|preview|simulat(?:e|ion|ed)|without\s+(?:applying|changing|saving|committing|writing)|"
    r"(?:don'?t|do\s+not|dont|never)\s+(?:want\s+(?:to\s+)?|need\s+(?:to\s+)?)?(?:actually\s+|really\s+|yet\s+)?"
    r"(?:change|apply|touch|modify|save|write|commit|update|persist|alter|execute)|no\s+changes|"
    r"(?:change|touch|modify)\s+nothing|read[\s-]?only|test\s+run|trial\s+run|trial\s+(?:first|only)|what[\s-]if|"
    r"before\s+(?:applying|i\s+apply|we\s+apply)|leave\s+(?:the\s+|our\s+|all\s+)?(?:data|records?|customers|rows|everything|it)\s+(?:alone|untouched|as\s+(?:it\s+)?is)|"
    r"(?:nothing|no\s+data|no\s+records?)\s+(?:should|must|shall|will)\s+(?:actually\s+|really\s+)?(?:be\s+)?(?:changed|saved|written|updated|committed|touched|applied)|"
    r"without\s+(?:committing|touching|modifying|updating|persisting|doing\s+it)|nothing\s+(?:gets|is)\s+(?:changed|saved)|"
    r"\bif\s+(?:the\s+|we\s+|you\s+)?(?:[\w-]+\s+){0,4}(?:were|was|got)\s+(?:run|applied|executed)\b|"
    r"which\s+(?:records|rows|customers|entries|orders|products)\s+would|"
    r"would\s+(?:[\w-]+\s+){1,3}change\s+anything|\bif\s+we\s+(?:ran|run|applied|apply)\s+(?:it|them)\b|"
    r"dry|sim(?:\s+only|\s+run|\s+mode)|rehearsal|sandbox|test\s+mode|on\s+paper|hypothetical(?:ly)?|as\s+a\s+test|"
    r"(?:only|just)\s+(?:as\s+)?(?:a\s+)?test|nothing\s+to\s+(?:change|save|write|update)|"
    r"(?:show|see|give)\s+(?:me\s+)?(?:the\s+)?(?:[\w-]+\s+){0,3}?diff)\b"
)


# A preview asked for before the change: "apply it, but show me first what would change".
_PREVIEW_FIRST = re.compile(
    r"\b(?:show|tell|let)\s+me\s+(?:know\s+)?first\b|\bfirst\s+(?:show|tell)\s+me\b|"
    r"\b(?:preview|show\s+(?:it|them|me))\s+first\b|\bwithout\s+(?:altering|changing|touching|modifying|amending|updating|applying)\s+anything\b"
)


# "before we go live, show me what it would change": the live run comes later, this one is a preview.
_BEFORE_IT = re.compile(r"\b(?:before|until|till|ahead\s+of)\s+(?:we\s+|i\s+|you\s+|it\s+|going\s+)?$")


# A preview already seen and found good says nothing about the next run: "Preview looks fine. Now the real run."
_REVIEWED = re.compile(
    r"\b(?:the\s+)?(?:preview|dry[\s_-]?run|simulation|test\s+run|trial(?:\s+run)?)\s+(?:looks?|is|was|seems?|went)\s+"
    r"(?:fine|good|ok(?:ay)?|right|correct|clean|great|alright)\b"
)


def extract_dry_run(text: str) -> bool | None:
    """Tell whether the operator asks to preview (True), to really apply (False), or does not say (None).

    Args:
        text: Free text, e.g. "apply the vip rules but just show me, don't change anything".

    Returns:
        True for a dry run, False for an explicit live run, None when the text is silent or contradicts
        itself.
    """
    folded = fold(text)
    folded = mask(
        folded, [m.span() for m in _REVIEWED.finditer(folded)]
    )  # "preview looks fine. now for real"
    if _PREVIEW_FIRST.search(folded):
        return True
    live = [
        m.span()
        for m in _LIVE.finditer(folded)
        if not _NEGATED.search(folded[: m.start()]) and not _BEFORE_IT.search(folded[: m.start()])
    ]
    dry = _DRY.search(mask(folded, live)) is not None
    if live and dry:
        return None
    if live:
        return False
    return True if dry else None
