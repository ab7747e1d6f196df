"""A logging filter that blanks the bot token out of log records (messages, arguments and tracebacks).

Bot API URLs contain the token (``/bot<TOKEN>/method``), and libraries log URLs at DEBUG. The filter goes on
the root logger's handlers, so it sees records from every logger, whatever level someone turns on.
"""

from __future__ import annotations

import logging

MASK = "<telegram-token>"


class TokenRedactor(logging.Filter):
    """Replaces one secret in every record that passes through the handler."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact and let the record through."""
        if not self.secret:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logger's problem, not ours
            return True
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, MASK), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.secret in record.exc_text:
            record.exc_text = record.exc_text.replace(self.secret, MASK)
        return True


def install_token_redaction(secret: str, logger: logging.Logger | None = None) -> None:
    """Add a redactor for ``secret`` to each handler of ``logger`` (the root logger by default), once."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, TokenRedactor) and f.secret == secret for f in handler.filters):
            handler.addFilter(TokenRedactor(secret))
