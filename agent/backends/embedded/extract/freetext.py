"""Free-text arguments of notifications: the quoted or "saying ..." message, and who receives it.

Recipients are a group (finance, ops, sales), an e-mail address, a webhook URL, a Telegram "@handle" or a chat
id. Group words right after "to", "tell", "notify"... win over group words elsewhere ("tell ops the sales export
is late" -> ops). The kind of address also names its channel: a URL is a webhook, an "@handle" is Telegram.
"""

from __future__ import annotations

import re

from agent.backends.embedded.extract.text import fold, mask

RECIPIENT_GROUPS: dict[str, tuple[str, ...]] = {
    "finance": ("finance", "finance team", "accounting", "accountants", "finance people", "treasury"),
    "ops": ("ops", "operations", "ops team", "on-call", "on call", "oncall", "operators", "ops people"),
    "sales": ("sales", "sales team", "sales people", "salespeople", "sales reps", "account managers"),
}
_QUOTES = re.compile(r"\"([^\"]+)\"|(?<!\w)'(.+?)'(?!\w)|`([^`]+)`")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\bhttps?://[^\s\"'<>`]+")
_HANDLE = re.compile(r"(?<![\w@.])@(?P<h>[a-z][a-z0-9_]{2,31})\b")
_CHAT_ID = re.compile(r"\bchat(?:\s*id)?\s*[:#=]?\s*(?P<id>-?\d{5,15})\b|(?<![\w-])(?P<sg>-100\d{6,13})\b")
_STRONG_BEFORE = re.compile(
    r"(?:\bto|\btell|\bnotify|\bping|\bmessage|\balert|\binform|\bemail|\be-mail|\bmail|\btelegram|\btext|\blet|\bcc|"
    r"\bwarn|\bremind|\bupdate|\bfor)\s+(?:the\s+)?$"
)
_MESSAGE_MARKERS = re.compile(
    r"\b(?:saying|that\s+says|which\s+says|with\s+(?:the\s+)?(?:message|text|note)|message\s*:|text\s*:|note\s*:|"
    r"to\s+say|(?:letting|to\s+let)\s+(?:them|him|her|everyone|the\s+team)\s+know|"
    r"to\s+(?:tell|inform|warn)\s+(?:them|him|her|everyone))(?:\s+that)?\s*:?\s*"
)
_CHANNEL_WORD = r"(?:telegram|e-?mail|mail|tg|webhook)"
# "by e-mail", "with email", "through the telegram": how people name the channel right after the recipient.
_VIA = rf"(?:on|via|by|over|with|through|using|per|in|for)\s+(?:the\s+|an?\s+)?{_CHANNEL_WORD}"
_GROUP_NOUN = r"(?:team|group|people|folks|guys|department|dept|colleagues|crew|desk|squad|channel|chat)"
_TELL = re.compile(
    r"\b(?:tell|inform|remind|let|notify|warn|ping|message|alert|update)\s+(?:the\s+|our\s+)?"
    r"(?!(?:to|for|on|in)\s)(?P<who>[\w.@+-]+)"
    rf"(?:\s+{_GROUP_NOUN})?(?:\s+know)?(?:\s+{_VIA}\s*[,:;]?)?\s+(?:that\s+|about\s+)?"  # "ping ops on email, the …"
)
# "that" opens a message, unless it is the thing sent: "telegram that to @ops", dictated "telegram that two @ops",
# "send that very same note to sales".
_THAT = re.compile(
    r"\bthat\s+(?!(?:very\s+)?(?:to|two|too|over\s+to|same|exact|identical|one|note|message|text|update|alert|e-?mail)\b)"
)
_ADDRESS_LEAD = re.compile(
    r"(?:(?:on|via|by|over)\s+(?:telegram|email|e-mail|mail|tg)\s+)?(?:at|to|on)\s+[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s+"
    r"(?:that\s+|saying\s+|about\s+)?"
)
_COLON = re.compile(r":\s+")
_NOTIFY_VERB = re.compile(
    r"\b(?:send|tell|notify|message|ping|alert|inform|email|e-mail|telegram|text|let|post|warn)\b"
)
_TRAILING = re.compile(rf"(?:[\s,]+{_VIA}|[\s,]+please|[\s,]+pls|[\s,]+thanks?(?:\s+you)?)+\W*$")


def address_spans(text: str) -> list[tuple[int, int]]:
    """Return the spans of URLs and e-mail addresses, whose words ("mail", "hooks") name no channel."""
    return [m.span() for pattern in (_URL, _EMAIL) for m in pattern.finditer(text)]


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Return the spans (quotes included) of every quoted passage in text."""
    return [m.span() for m in _QUOTES.finditer(fold(text))]


def extract_quoted(text: str) -> str | None:
    """Return the longest passage in quotes ("...", '...', curly quotes, backticks), without the quotes.

    Args:
        text: Free text.

    Returns:
        The quoted text as written, or None when nothing is quoted.
    """
    best: str | None = None
    for m in _QUOTES.finditer(fold(text)):
        group = next(i for i in (1, 2, 3) if m.group(i) is not None)
        inner = text[m.start(group) : m.end(group)].strip()
        if inner and (best is None or len(inner) > len(best)):
            best = inner
    return best


def _clean(message: str) -> str | None:
    cleaned = _TRAILING.sub("", message.strip()).strip().rstrip(".").strip()
    return cleaned or None


_ONLY_CHANNEL = re.compile(
    r"^(?:(?:on|by|via|over|through|using|in)\s+)?(?:the\s+)?(?:telegram|tg|e-?mail|mail|webhook|web hook)"
    r"(?:\s+(?:too|as well|please|pls|now))?[\s.!]*$"
)


def find_message(text: str) -> tuple[str, tuple[int, int]] | None:
    """Find the message to send, with its span: quoted, after "saying", "tell X that ...", or after ":".

    Args:
        text: Free text.

    Returns:
        ``(message, (start, end))`` or None.
    """
    folded = fold(text)
    quoted = extract_quoted(text)
    if quoted:
        start = text.find(quoted)
        return quoted, (max(start - 1, 0), start + len(quoted) + 1)
    marker = _MESSAGE_MARKERS.search(folded)
    if marker is None and _NOTIFY_VERB.search(folded):
        # An explicit colon is the clearest delimiter; "tell X ..." and "... that ..." are guesses after it.
        marker = _COLON.search(folded) or _TELL.search(folded) or _THAT.search(folded)
    if marker is None:
        return None
    start = marker.end()
    lead = _ADDRESS_LEAD.match(folded, start)
    if lead is not None:
        start = (
            lead.end()
        )  # "... by email at wh@example.com that stock is in": the address is not the message
    raw = text[start:]
    message = _clean(raw)
    if message and _ONLY_CHANNEL.match(fold(message)):
        return None  # "ping ops on telegram": the channel, not a message
    if not message:
        return None
    # The span ends with the message: a channel said after it ("..., on telegram please") stays visible.
    begin = start + len(raw) - len(raw.lstrip())
    return message, (start, begin + len(message))


def extract_message(text: str) -> str | None:
    """Find the text of a notification ("tell ops 'the bank file is late'", "... saying the run failed").

    Args:
        text: Free text.

    Returns:
        The message as written (without trailing channel words or a final period), or None.
    """
    found = find_message(text)
    return found[0] if found else None


def _group_hits(folded: str) -> list[tuple[str, bool, int]]:
    hits: list[tuple[str, bool, int]] = []
    for group, phrases in RECIPIENT_GROUPS.items():
        for phrase in phrases:
            for m in re.finditer(rf"(?<![\w@.]){re.escape(phrase)}(?![\w@])", folded):
                strong = _STRONG_BEFORE.search(folded[: m.start()]) is not None
                hits.append((group, strong, m.start()))
    return sorted(hits, key=lambda h: h[2])


def extract_recipient(text: str) -> str | None:
    """Find who a notification goes to: an e-mail address, "@handle", chat id, or group finance/ops/sales.

    The message itself (quoted or after "saying") is ignored, so a group named inside it does not count.

    Args:
        text: Free text.

    Returns:
        The address or handle as written, the chat id, or the group name; None when unclear.
    """
    message = find_message(text)
    folded = fold(text)
    visible = mask(folded, [message[1]]) if message else folded
    if m := _URL.search(visible):
        return text[m.start() : m.end()].rstrip(".,;:!?)")
    if m := _EMAIL.search(visible):
        return text[m.start() : m.end()]
    if m := _HANDLE.search(visible):
        return "@" + text[m.start("h") : m.end("h")]
    if m := _CHAT_ID.search(visible):
        return m.group("id") or m.group("sg")
    hits = _group_hits(visible)
    strong = [group for group, is_strong, _ in hits if is_strong]
    if strong:
        return strong[0]
    distinct = list(dict.fromkeys(group for group, _, _ in hits))
    return distinct[0] if len(distinct) == 1 else None


def channel_of(recipient: str) -> str | None:
    """The channel an address implies: a URL is a webhook, an e-mail address e-mail, a handle or chat id Telegram.

    Args:
        recipient: A value from :func:`extract_recipient`.

    Returns:
        "webhook", "email" or "telegram", or None for a group name, which any channel can reach.
    """
    if _URL.fullmatch(recipient):
        return "webhook"
    if _EMAIL.fullmatch(recipient):
        return "email"
    if recipient.startswith("@") or re.fullmatch(r"-?\d{5,15}", recipient):
        return "telegram"
    return None
