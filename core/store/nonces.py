"""Seen request signatures: a signed webhook request is accepted once, even when replayed inside its time window.

A signature covers the request's timestamp, so a request signed anew never repeats one; a replay repeats it
exactly. The primary key makes the claim atomic across console workers and hosts. A row is kept until its
request's timestamp leaves the replay window, after which the timestamp check alone refuses it, so claims clean
up the expired rows as they go.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from core.store.db import write_connection


class SeenSignature(SQLModel, table=True):
    """A signature already accepted, kept until its request could no longer pass the timestamp check."""

    __tablename__ = "seen_signature"

    signature: str = Field(primary_key=True, max_length=128)
    expires_at: datetime = Field(index=True)


_SEEN = SeenSignature.__table__  # type: ignore[attr-defined]


def claim_signature(engine: Engine, *, signature: str, expires_at: datetime, now: datetime) -> bool:
    """Record ``signature`` as seen; False when it already was (the request is a replay)."""
    try:
        with write_connection(engine) as conn:
            conn.execute(delete(_SEEN).where(_SEEN.c.expires_at < now))
            conn.execute(insert(_SEEN).values(signature=signature, expires_at=expires_at))
    except IntegrityError:
        return False
    return True
