"""One rule for what counts as a secret, shared by the audit log and the logs.

Values held as ``SecretStr`` and values under secret-looking keys (password, secret, token, API or private key,
authorization, cookie) are replaced by ``[redacted]`` before a record is stored or a log line is written.
``scrub`` masks credentials that travel inside free text, where no key names them: ``Bearer``/``Basic``
credentials, Switchboard API tokens (``sb_...``) and the bot token in Bot API URLs (``/bot<id>:<secret>/``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|api[_-]?key|authorization|private[_-]?key|cookie", re.I)
_IN_TEXT = (
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.I), rf"\1 {REDACTED}"),
    (re.compile(r"\bsb_[A-Za-z0-9_-]{16,}"), REDACTED),
    (re.compile(r"/bot\d+:[A-Za-z0-9_-]+"), f"/bot{REDACTED}"),
)


def is_secret_key(name: object) -> bool:
    """Whether a value stored under ``name`` is treated as a secret."""
    return bool(_SECRET_KEY.search(str(name)))


def redact(value: Any) -> Any:
    """Return ``value`` as JSON-ready data, with secret-looking keys and SecretStr values replaced by ``[redacted]``."""
    if isinstance(value, SecretStr | SecretBytes):
        return REDACTED
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): (REDACTED if is_secret_key(k) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def scrub(text: str) -> str:
    """Mask credentials found in free text (messages, tracebacks, finished log lines)."""
    for pattern, replacement in _IN_TEXT:
        text = pattern.sub(replacement, text)
    return text
