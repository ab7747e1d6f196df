"""Structured logs: one JSON object per line, carrying the request, thread, run and actor it belongs to.

Modules log as usual, with ``logger = logging.getLogger(__name__)`` and fields in ``extra=``; only entry points
call ``configure_logging``. Code that knows what a stretch of work is about binds it once::

    with bind(thread_id=thread_id, actor=user):
        ...  # every record logged in here carries both fields

Bindings live in a ContextVar, so they follow asyncio tasks and calls through ``asyncio.to_thread`` or
``run_in_threadpool`` (both run in a copy of the caller's context), and concurrent requests never see each
other's. A copy cannot hand a new binding back to its caller, so ``annotate`` adds fields to the innermost
``bind`` block in place: the console learns the actor inside a sync dependency, which runs in a worker thread,
and the request's later lines still carry it.

A line looks like ``{"ts": "...Z", "level": "info", "logger": "console.access", "msg": "GET /api/runs 200",
"request_id": "...", "actor": "olive", "status": 200, ...}``; an exception adds ``exc_type`` and ``exc`` (the
traceback, as one string field). Nothing secret is written: bound and ``extra=`` values go through
``core.redaction.redact`` (SecretStr values, secret-looking keys, header pairs such as ``authorization``), and
``scrub`` masks credentials inside the finished line, message and traceback included.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any, Literal, get_args

from core.redaction import REDACTED, is_secret_key, redact, scrub

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["json", "text"]
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)
# They log every request URL at INFO or DEBUG, and a Bot API URL contains the bot token: WARNING whatever the level.
QUIET_LOGGERS = ("httpx", "httpcore", "telegram")
# Attributes every LogRecord has; anything else on a record came from ``extra=``. uvicorn adds an ANSI-coloured
# copy of some messages, which a JSON line does not need.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
_bound: ContextVar[dict[str, Any] | None] = ContextVar("switchboard_log_fields", default=None)


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Attach ``fields`` to every record logged inside the block, in this task or thread (None values are skipped)."""
    token = _bound.set({**(_bound.get() or {}), **_present(fields)})
    try:
        yield
    finally:
        _bound.reset(token)


def annotate(**fields: Any) -> None:
    """Add ``fields`` to the innermost ``bind`` block in place, so code around a copied context sees them too.

    Outside any ``bind`` block it does nothing: there is no scope the fields would end with.
    """
    current = _bound.get()
    if current is not None:
        current.update(_present(fields))


def bound() -> dict[str, Any]:
    """The fields bound here and now."""
    return dict(_bound.get() or {})


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg, the bound fields, ``extra=`` fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one line of JSON."""
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": _message(record),
        }
        for key, value in _fields(record).items():
            line[f"{key}_" if key in line else key] = value
        if record.exc_info:
            line["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        exc = _traceback(self, record)
        if exc:
            line["exc"] = exc
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return scrub(json.dumps(line, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """``ts LEVEL logger: msg key=value ...`` for a person at a terminal; a traceback follows on its own lines."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as text, the fields after the message."""
        record.message = _message(record)
        record.asctime = self.formatTime(record, self.datefmt)
        text = self.formatMessage(record)
        pairs = " ".join(
            f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in _fields(record).items()
        )
        text = f"{text} {pairs}" if pairs else text
        exc = _traceback(self, record)
        if exc:
            text = f"{text}\n{exc}"
        if record.stack_info:
            text = f"{text}\n{self.formatStack(record.stack_info)}"
        return scrub(text)


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a format string that does not match its arguments is still worth a line
        return f"{record.msg!s} {record.args!r}"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = {**(_bound.get() or {})}
    fields.update((k, v) for k, v in vars(record).items() if k not in _RECORD_ATTRS and not k.startswith("_"))
    return {key: REDACTED if is_secret_key(key) else _loggable(value) for key, value in fields.items()}


def _loggable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return value.decode("latin-1")
    if isinstance(value, list | tuple) and value and all(_is_pair(item) for item in value):
        # Header lists as ASGI and httpx hold them: [(b"authorization", b"Bearer ..."), ...].
        pairs = [(_loggable(name), _loggable(item)) for name, item in value]
        return [[name, REDACTED if is_secret_key(name) else item] for name, item in pairs]
    return redact(value)


def _is_pair(item: Any) -> bool:
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str | bytes)


def _traceback(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    # Cached on the record, as logging.Formatter does: a filter may have redacted the cached text already.
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    return record.exc_text or ""


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time: test runners and typer's CliRunner swap it."""

    @property
    def stream(self) -> IO[str]:
        """The current ``sys.stderr``."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        """Ignored: the stream is always the current ``sys.stderr``."""


def configure_logging(level: str = "WARNING", *, json: bool = True) -> None:
    """Send records at ``level`` and above to stderr, one JSON object (or one text line) each.

    For entry points only. Calling it again changes the level and format of the same handler and keeps the
    filters others put on it (the bot's token redactor).

    Raises:
        ValueError: ``level`` is not a level name.
    """
    name = _level(level)
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, StderrHandler)), None)
    if handler is None:
        handler = StderrHandler()
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    root.setLevel(name)
    for quiet in QUIET_LOGGERS:
        logging.getLogger(quiet).setLevel(logging.WARNING)


def logging_config(level: str = "WARNING", *, json: bool = True) -> dict[str, Any]:
    """``configure_logging`` as a ``logging.config.dictConfig`` dict, for processes uvicorn starts (its log_config).

    Raises:
        ValueError: ``level`` is not a level name.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": JsonFormatter if json else TextFormatter}},
        "handlers": {"stderr": {"()": StderrHandler, "formatter": "line"}},
        "root": {"level": _level(level), "handlers": ["stderr"]},
        "loggers": {quiet: {"level": "WARNING"} for quiet in QUIET_LOGGERS},
    }


def _level(level: str) -> str:
    name = level.upper()
    if name not in LOG_LEVELS:
        raise ValueError(f"unknown log level {level!r}: use one of {', '.join(LOG_LEVELS)}")
    return name
