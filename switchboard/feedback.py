"""Feedback while a command works: a spinner on stderr, and log records turned into words for a person.

A step can take seconds (a mail server retried with backoff), so ``working`` shows a Rich status spinner on
stderr, only when stderr is a terminal: a pipe or a log file gets no spinner frames.

What the logs say during the step is decided here, once for every command that does work:

- ``-v`` (or ``--log-level``, or a configured level below WARNING) asks for the raw records (JSON or text lines,
  INFO and up with ``-v``) and gets them, unchanged.
- Otherwise a person gets words. A delivery's or a notification's retries (the outbox protocol's records) are
  shown in the spinner ("Running nightly_sales_export · could not reach the mail server …; retry 2 in 0.5 s") and
  nowhere else: how the retries ended is the command's own result or error, printed once. Any other warning
  becomes one line on stderr, ``warning: <message>``, instead of a raw record. A record with a traceback stays raw:
  it is what "the log on stderr has the details" points to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from rich.status import Status

from core.logs import StderrHandler
from switchboard.app import App
from switchboard.render import plain
from switchboard.terminal import err_console

# The logger of the retry loop every delivery, notification and bot send goes through (core.store.outbox).
RETRY_LOGGER = "core.store.outbox"


class _Narrator(logging.Handler):
    """Says a record in words: a retry in the spinner, any other warning as one ``warning:`` line."""

    def __init__(self, status: Status | None, label: str) -> None:
        super().__init__(level=logging.INFO)
        self.status, self.label = status, label

    def emit(self, record: logging.LogRecord) -> None:
        """Narrate ``record``."""
        if record.exc_info:
            return  # the raw handler writes it, traceback and all
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not worth failing the command for
            message = str(record.msg)
        if record.name == RETRY_LOGGER:
            if self.status is not None:
                # One line, cut to the terminal's width (a spinner that wraps redraws as a smear), so the reason
                # goes first.
                text = plain(f"{self.label} · {_retry(record) or message}")
                text.truncate(
                    max(err_console.width - 3, 20), overflow="ellipsis"
                )  # 2 cells go to the spinner
                self.status.update(text)
        elif record.levelno >= logging.WARNING:
            err_console.print(
                plain(f"{record.levelname.lower()}: {message}"), highlight=False, soft_wrap=True
            )


def _retry(record: logging.LogRecord) -> str | None:
    """Say a retry loop's record ("%s attempt %d failed (%s); retrying in %.2fs") as "<reason>; retry 2 in 0.5 s"."""
    match record.args:
        case (str(), int(attempt), str(reason), float(delay)) if record.levelno == logging.INFO:
            return f"{reason}; retry {attempt + 1} in {delay:.1f} s"
    return None


def _hide_raw(record: logging.LogRecord) -> bool:
    return record.exc_info is not None


@contextmanager
def working(state: App, label: str) -> Iterator[Callable[[str], None]]:
    """Show ``label`` with a spinner on stderr (at a terminal) while the block runs; narrate its logs.

    Yields a function that replaces the spinner's text (one line, cut to the terminal's width); without a
    spinner it does nothing.
    """
    asked = state.verbose > 0 or "log_level" in state.overrides
    raw = asked or logging.getLevelName(state.settings.log_level) < logging.WARNING
    with ExitStack() as stack:
        status: Status | None = None
        if err_console.is_terminal:
            status = stack.enter_context(err_console.status(plain(label)))
        if not raw:
            stack.enter_context(_narrated(status, label))
        yield lambda text: _say(status, text)


def _say(status: Status | None, text: str) -> None:
    if status is not None:
        line = plain(text)
        line.truncate(max(err_console.width - 3, 20), overflow="ellipsis")  # 2 cells go to the spinner
        status.update(line)


@contextmanager
def _narrated(status: Status | None, label: str) -> Iterator[None]:
    root = logging.getLogger()
    retries = logging.getLogger(RETRY_LOGGER)
    narrator = _Narrator(status, label)
    # The raw handler stays quiet in the block: every record it would write is said by the narrator instead.
    raw_handlers = [handler for handler in root.handlers if isinstance(handler, StderrHandler)]
    previous = retries.level
    if status is not None and retries.getEffectiveLevel() > logging.INFO:
        retries.setLevel(logging.INFO)  # the attempts are logged at INFO; the spinner is where they go
    root.addHandler(narrator)
    for handler in raw_handlers:
        handler.addFilter(_hide_raw)
    try:
        yield
    finally:
        for handler in raw_handlers:
            handler.removeFilter(_hide_raw)
        root.removeHandler(narrator)
        retries.setLevel(previous)
