"""Booleans from phrasing: does the operator want a dry run ("just show me, don't change anything")?"""

from __future__ import annotations

import re

from agent.backends.embedded.extract.text import fold, mask

# Checked first and masked out, so "not a dry run" or "don't just preview" never counts as asking for one.
_LIVE = re.compile(
    r"\b(?:for\s+real|go\s+ahead\s+and\s+(?:apply|do\s+it|run\s+it|change)|apply\s+(?:it|them|the\s+changes?|for\s+real|now)|"
    r"actually\s+(?:apply|change|do\s+it|run\s+it)|make\s+the\s+changes?|commit\s+(?:it|the\s+changes?)|"
    r"(?:not|no)\s+(?:a\s+)?(?:dry[\s-]?run|preview|simulation|test\s+run)|skip\s+the\s+(?:dry[\s-]?run|preview)|"
    r"(?:don'?t|do\s+not|not)\s+(?:just\s+)?(?:preview|simulate|show)|live\s+run|do\s+it\s+live|"
    r"without\s+(?:a\s+)?(?:dry[\s-]?run|preview)|wet\s+run|really\s+apply|persist\s+(?:it|the\s+changes?))\b"
)
_DRY = re.compile(
    r"\b(?:dry[\s-]?run|just\s+(?:show|tell|list|check|preview|see)|show\s+me\s+what|"
    r"what\s+(?:would|will|could)\s+(?:[\w-]+\s+){0,5}?(?:change|happen|be\s+changed|do)|"
    r"what\s+(?:[\w-]+\s+){1,5}?(?:would|will)\s+(?:change|happen|do)|"
    r"what\s+(?:will|would)\s+it\s+(?:change|do)|preview|simulat(?:e|ion|ed)|without\s+(?:applying|changing|saving|committing|writing)|"
    r"(?:don'?t|do\s+not|dont)\s+(?:change|apply|touch|modify|save|write|commit|update)|no\s+changes|"
    r"(?:change|touch|modify)\s+nothing|read[\s-]?only|test\s+run|trial\s+run|what[\s-]if|"
    r"before\s+(?:applying|i\s+apply|we\s+apply)|leave\s+(?:the\s+|our\s+|all\s+)?(?:data|records?|customers|rows|everything|it)\s+(?:alone|untouched|as\s+(?:it\s+)?is)|"
    r"(?:nothing|no\s+data|no\s+records?)\s+(?:should|must|shall|will)\s+(?:actually\s+|really\s+)?(?:be\s+)?(?:changed|saved|written|updated|committed|touched)|"
    r"without\s+(?:committing|touching|modifying|updating|persisting)|nothing\s+(?:gets|is)\s+(?:changed|saved))\b"
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
    live = [m.span() for m in _LIVE.finditer(folded)]
    dry = _DRY.search(mask(folded, live)) is not None
    if live and dry:
        return None
    if live:
        return False
    return True if dry else None
