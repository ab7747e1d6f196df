"""The tamper-evident audit log: append-only, hash-chained, written through one writer API.

Each record's hash is ``sha256(prev_hash + canonical_json(record))``. Appends lock the single ``audit_head`` row
(an ``UPDATE`` inside the caller's transaction), so concurrent writers queue instead of forking the chain, and the
head row also catches a truncated tail. Secret-looking keys are redacted before anything is hashed or stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, Session, SQLModel, col

from core.errors import AuditUnavailable
from core.redaction import redact
from core.store.db import utcnow, write_connection, write_session

GENESIS = "0" * 64


class AuditRecord(SQLModel, table=True):
    """One audit event in the chain."""

    __tablename__ = "audit_record"

    seq: int = Field(primary_key=True)
    ts: str = Field(index=True)
    actor: str = Field(index=True)
    event: str = Field(index=True)
    subject: str | None = Field(default=None, index=True)
    data: str = "{}"
    prev_hash: str
    hash: str


class AuditHead(SQLModel, table=True):
    """The chain tip: the single row every append locks."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = GENESIS


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def record_hash(
    *, seq: int, ts: str, actor: str, event: str, subject: str | None, data: str, prev: str
) -> str:
    """Hash of one record given its predecessor's hash."""
    body = canonical_json(
        {"seq": seq, "ts": ts, "actor": actor, "event": event, "subject": subject, "data": data, "prev": prev}
    )
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEvent:
    """An event to append."""

    event: str
    actor: str
    subject: str | None = None
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a chain verification."""

    ok: bool
    records: int
    first_bad: int | None = None
    reason: str | None = None
    head: str = GENESIS


def ensure_head(engine: Engine) -> None:
    """Create the head row if the table is empty (idempotent)."""
    with write_session(engine) as session:
        if session.get(AuditHead, 1) is None:
            session.add(AuditHead(id=1, seq=0, hash=GENESIS))


_RECORDS = AuditRecord.__table__  # type: ignore[attr-defined]


def append_in(session: Session | Connection, events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    """Append events inside the caller's transaction; they commit or roll back with it.

    The ``UPDATE`` of the head row takes the chain lock first (a row lock on PostgreSQL, the write lock on
    SQLite), so the tip read below cannot be stale.

    Returns:
        The written records as mappings (seq, ts, actor, event, subject, data, prev_hash, hash).
    """
    bumped = session.execute(text("UPDATE audit_head SET seq = seq WHERE id = 1"))
    if bumped.rowcount != 1:  # type: ignore[attr-defined]
        raise AuditUnavailable(
            "the audit log is not initialised; run 'switchboard demo' or init the database"
        )
    head = session.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
    seq, prev = int(head[0]), str(head[1])
    written: list[dict[str, Any]] = []
    ts = utcnow().isoformat(timespec="microseconds")
    for item in events:
        seq += 1
        data = canonical_json(redact(dict(item.data or {}))) if item.data else "{}"
        digest = record_hash(
            seq=seq, ts=ts, actor=item.actor, event=item.event, subject=item.subject, data=data, prev=prev
        )
        written.append(
            {
                "seq": seq,
                "ts": ts,
                "actor": item.actor,
                "event": item.event,
                "subject": item.subject,
                "data": data,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    if written:
        session.execute(_RECORDS.insert(), written)
        session.execute(
            text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"), {"seq": seq, "hash": prev}
        )
    return written


class AuditLog:
    """The single writer API for the audit trail."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(
        self,
        event: str,
        *,
        actor: str,
        subject: str | None = None,
        data: Mapping[str, Any] | None = None,
        durable: bool = False,
    ) -> dict[str, Any]:
        """Append one event in its own transaction.

        Raises:
            AuditUnavailable: if the record could not be written (callers must then not act).
        """
        return self.append_many([AuditEvent(event, actor, subject, data)], durable=durable)[0]

    def append_many(self, events: Iterable[AuditEvent], *, durable: bool = False) -> list[dict[str, Any]]:
        """Append a batch of events in one transaction."""
        try:
            with write_connection(self.engine, durable=durable) as conn:
                return append_in(conn, events)
        except AuditUnavailable:
            raise
        except Exception as exc:
            raise AuditUnavailable(f"could not write the audit record: {type(exc).__name__}") from exc

    def iter_records(self, *, since: datetime | None = None, batch: int = 5000) -> Iterator[AuditRecord]:
        """Yield records in chain order, optionally from a timestamp on."""
        last = 0
        cutoff = since.isoformat(timespec="microseconds") if since else None
        with Session(self.engine) as session:
            while True:
                query = (
                    select(AuditRecord)
                    .where(col(AuditRecord.seq) > last)
                    .order_by(col(AuditRecord.seq))
                    .limit(batch)
                )
                if cutoff:
                    query = query.where(col(AuditRecord.ts) >= cutoff)
                rows = session.execute(query).scalars().all()
                if not rows:
                    return
                yield from rows
                last = rows[-1].seq

    def head(self) -> AuditHead:
        """The current chain tip."""
        with Session(self.engine) as session:
            head = session.get(AuditHead, 1)
            return head or AuditHead()

    def verify(self) -> VerifyResult:
        """Recompute the whole chain; report the first record that does not fit."""
        prev, expected, count = GENESIS, 1, 0
        sha256, dumps = hashlib.sha256, json.dumps
        columns = (
            _RECORDS.c.seq,
            _RECORDS.c.ts,
            _RECORDS.c.actor,
            _RECORDS.c.event,
            _RECORDS.c.subject,
            _RECORDS.c.data,
            _RECORDS.c.prev_hash,
            _RECORDS.c.hash,
        )
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=10_000).execute(
                select(*columns).order_by(_RECORDS.c.seq)
            )
            for seq, ts, actor, event, subject, data, prev_hash, stored in result:
                count += 1
                if seq != expected:
                    return VerifyResult(False, count, expected, f"record {expected} is missing", prev)
                if prev_hash != prev:
                    return VerifyResult(
                        False, count, seq, "its prev_hash does not match the previous record", prev
                    )
                body = dumps(
                    {
                        "seq": seq,
                        "ts": ts,
                        "actor": actor,
                        "event": event,
                        "subject": subject,
                        "data": data,
                        "prev": prev,
                    },
                    sort_keys=True,
                    separators=(",", ":"),
                    ensure_ascii=False,
                )
                digest = sha256((prev + body).encode("utf-8")).hexdigest()
                if digest != stored:
                    return VerifyResult(False, count, seq, "its content does not match its hash", prev)
                prev, expected = digest, expected + 1
        head = self.head()
        if head.seq != count or head.hash != prev:
            return VerifyResult(
                False,
                count,
                count + 1 if head.seq > count else count,
                "the chain head does not match the last record",
                prev,
            )
        return VerifyResult(True, count, None, None, prev)

    def export(self, out: IO[str], *, since: datetime | None = None) -> int:
        """Write records as JSONL, then a final line with the chain head to keep outside the database."""
        count = 0
        for rec in self.iter_records(since=since):
            out.write(canonical_json({**rec.model_dump(), "data": json.loads(rec.data)}) + "\n")
            count += 1
        head = self.head()
        out.write(canonical_json({"chain_head": {"seq": head.seq, "hash": head.hash}}) + "\n")
        return count
