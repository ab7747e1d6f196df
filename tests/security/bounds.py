"""The documented bounds every adversarial case checks: error bodies, audit records and replies stay small.

``core.text`` defines them: one message (an error, a run's error, a text field of an audit record) is at most
``MESSAGE_LIMIT`` characters, one chat reply at most ``REPLY_LIMIT``, a quoted list at most ``ITEMS_LIMIT`` items.
An error body as a whole (problem+json, or what the CLI prints) must fit in ``ERROR_BODY_LIMIT`` bytes.

Every engine a security case writes to is registered with ``watch``; after each case the conftest checks the audit
records appended since the last check (``check_new_audit``), so no case can pass while leaving an unbounded record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.text import ITEMS_LIMIT, MESSAGE_LIMIT, REPLY_LIMIT

ERROR_BODY_LIMIT = 8 * 1024  # bytes: an error body is a message plus its problem+json envelope
AUDIT_RECORD_LIMIT = (
    64 * 1024
)  # bytes of one record's data: ITEMS_LIMIT clipped values at most, in practice far less

_watched: dict[int, tuple[Engine, int]] = {}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _containers(value: Any) -> Iterator[dict[str, Any] | list[Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _containers(item)
    elif isinstance(value, list):
        yield value
        for item in value:
            yield from _containers(item)


def check_error_body(body: bytes | str, *, what: str = "error body") -> None:
    """An error body (HTTP or CLI output) is at most ERROR_BODY_LIMIT bytes and quotes no string over MESSAGE_LIMIT."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    assert len(raw) <= ERROR_BODY_LIMIT, (
        f"{what} is {len(raw):,} bytes (bound {ERROR_BODY_LIMIT:,}): {raw[:200]!r}…"
    )
    try:
        parsed = json.loads(raw)
    except ValueError:
        return
    for value in _strings(parsed):
        assert len(value) <= MESSAGE_LIMIT, (
            f"{what} quotes {len(value):,} characters (bound {MESSAGE_LIMIT:,})"
        )


def check_reply(reply: str) -> None:
    """A chat reply is at most REPLY_LIMIT characters."""
    assert len(reply) <= REPLY_LIMIT, f"reply is {len(reply):,} characters (bound {REPLY_LIMIT:,})"


def check_audit_row(seq: int, actor: str, event: str, subject: str | None, data: str) -> None:
    """One audit record: text fields at most MESSAGE_LIMIT, lists at most ITEMS_LIMIT items, data bounded."""
    where = f"audit record {seq} ({event})"
    for name, value in (("actor", actor), ("event", event), ("subject", subject or "")):
        assert len(value) <= MESSAGE_LIMIT, f"{where}: {name} is {len(value):,} characters"
    assert len(data) <= AUDIT_RECORD_LIMIT, f"{where}: data is {len(data):,} characters"
    parsed = json.loads(data)
    for value in _strings(parsed):
        assert len(value) <= MESSAGE_LIMIT, f"{where}: a field is {len(value):,} characters"
    for container in _containers(parsed):
        assert len(container) <= ITEMS_LIMIT, f"{where}: a list or mapping holds {len(container):,} items"


def watch(engine: Engine) -> None:
    """Check this engine's new audit records after every case from now on."""
    _watched.setdefault(id(engine), (engine, 0))


def unwatch(engine: Engine) -> None:
    """Stop checking this engine (it is about to be disposed)."""
    _watched.pop(id(engine), None)


def check_new_audit() -> int:
    """Check every audit record appended since the last call, on every watched engine; returns how many."""
    checked = 0
    for key, (engine, after) in list(_watched.items()):
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT seq, actor, event, subject, data FROM audit_record WHERE seq > :after ORDER BY seq"
                ),
                {"after": after},
            ).all()
        # Moved on before checking, so one bad record fails the case that wrote it and no later one. A tampering
        # case may have deleted records: then start again from the current end.
        with engine.connect() as conn:
            top = int(conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM audit_record")).scalar_one())
        _watched[key] = (engine, top)
        for row in rows:
            check_audit_row(row.seq, row.actor, row.event, row.subject, row.data)
        checked += len(rows)
    return checked
