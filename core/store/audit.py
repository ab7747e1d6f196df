"""The tamper-evident audit log: append-only, hash-chained, written through one writer API.

Each record's hash is ``sha256(prev_hash + canonical_json(record))`` (``core.audit_verify.record_hash``). Appends
lock the single ``audit_head`` row (an ``UPDATE`` inside the caller's transaction), so concurrent writers queue
instead of forking the chain, and the head row also catches a carelessly truncated tail. Secret-looking keys are
redacted before anything is hashed or stored.

The chain alone cannot stop someone who may write to the database: they can recompute every hash and the head.
Signed checkpoints kept outside the database (``core.store.checkpoints``) catch that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, Session, SQLModel, col

from core.audit_verify import GENESIS, canonical_json, record_hash
from core.errors import AuditUnavailable
from core.redaction import redact
from core.store.db import utcnow, write_connection, write_session

__all__ = [
    "GENESIS",
    "AuditEvent",
    "AuditHead",
    "AuditLog",
    "AuditRecord",
    "VerifyResult",
    "append_in",
    "canonical_json",
    "ensure_head",
    "record_hash",
    "redact",
]


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
# Locks the head row and reads the tip in one statement; no row means the log was never initialised.
_LOCK_HEAD = text("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
_MOVE_HEAD = text("UPDATE audit_head SET seq = :head_seq, hash = :head_hash WHERE id = 1")
_COLUMNS = ("seq", "ts", "actor", "event", "subject", "data", "prev_hash", "hash")
# A data-modifying WITH runs whether or not the statement reads it; the records arrive as one array per column.
_APPEND_PG = text(
    "WITH appended AS (INSERT INTO audit_record (seq, ts, actor, event, subject, data, prev_hash, hash) "
    "SELECT * FROM unnest(CAST(:r_seq AS integer[]), CAST(:r_ts AS text[]), CAST(:r_actor AS text[]), "
    "CAST(:r_event AS text[]), CAST(:r_subject AS text[]), CAST(:r_data AS text[]), "
    "CAST(:r_prev_hash AS text[]), CAST(:r_hash AS text[]))) "
    "UPDATE audit_head SET seq = :head_seq, hash = :head_hash WHERE id = 1"
)


def append_in(session: Session | Connection, events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    """Append events inside the caller's transaction; they commit or roll back with it.

    The ``UPDATE`` of the head row takes the chain lock first (a row lock on PostgreSQL, the write lock on
    SQLite) and returns the tip it locked, so the tip cannot be stale. On PostgreSQL the records and the new tip
    are then written in one statement; an append costs two round trips, wherever it sits in a transaction.

    Returns:
        The written records as mappings (seq, ts, actor, event, subject, data, prev_hash, hash).
    """
    head = session.execute(_LOCK_HEAD).first()
    if head is None:
        raise AuditUnavailable(
            "the audit log is not initialised; run 'switchboard demo' or init the database"
        )
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
    if not written:
        return written
    tip = {"head_seq": seq, "head_hash": prev}
    dialect = session.get_bind().dialect if isinstance(session, Session) else session.dialect
    if dialect.name == "postgresql":
        # One round trip for the records and the new tip, through one fixed statement (cached once compiled).
        columns = {f"r_{name}": [row[name] for row in written] for name in _COLUMNS}
        session.execute(_APPEND_PG, columns | tip)
    else:
        session.execute(_RECORDS.insert(), written)
        session.execute(_MOVE_HEAD, tip)
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

    def iter_records(
        self, *, since: datetime | None = None, after: int = 0, upto: int | None = None, batch: int = 5000
    ) -> Iterator[AuditRecord]:
        """Yield records in chain order: optionally from a timestamp on, after a seq, up to a seq."""
        last = after
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
                if upto is not None:
                    query = query.where(col(AuditRecord.seq) <= upto)
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

    def hashes_at(self, seqs: Collection[int]) -> dict[int, str]:
        """The stored hash of each of these records that exists."""
        found: dict[int, str] = {}
        wanted = sorted(set(seqs))
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                rows = conn.execute(
                    select(_RECORDS.c.seq, _RECORDS.c.hash).where(
                        _RECORDS.c.seq.in_(wanted[start : start + 500])
                    )
                )
                found.update({int(seq): str(digest) for seq, digest in rows})
        return found

    def verify(self) -> VerifyResult:
        """Recompute the whole chain and compare the head row; report the first record that does not fit."""
        result = self.verify_segment()
        if not result.ok:
            return result
        head = self.head()
        if head.seq != result.records or head.hash != result.head:
            count = result.records
            return VerifyResult(
                False,
                count,
                count + 1 if head.seq > count else count,
                "the chain head does not match the last record",
                result.head,
            )
        return result

    def verify_segment(self, *, after: int = 0, prev: str = GENESIS, upto: int | None = None) -> VerifyResult:
        """Recompute the chain from the record after ``after`` (whose hash is ``prev``) up to ``upto``.

        ``records`` counts the records read; ``head`` is the last good hash. The head row is not compared.
        """
        expected, count = after + 1, 0
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
        query = select(*columns).where(_RECORDS.c.seq > after).order_by(_RECORDS.c.seq)
        if upto is not None:
            query = query.where(_RECORDS.c.seq <= upto)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=10_000).execute(query)
            for seq, ts, actor, event, subject, data, prev_hash, stored in result:
                count += 1
                if seq != expected:
                    return VerifyResult(False, count, expected, f"record {expected} is missing", prev)
                if prev_hash != prev:
                    return VerifyResult(
                        False, count, seq, "its prev_hash does not match the previous record", prev
                    )
                # record_hash, inlined: verify runs it for every record of the log.
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
        if upto is not None and expected <= upto:
            return VerifyResult(False, count, expected, f"record {expected} is missing", prev)
        return VerifyResult(True, count, None, None, prev)

    def first_since(self, since: datetime) -> int | None:
        """The seq of the first record written at or after ``since``; None when there is none."""
        cutoff = since.isoformat(timespec="microseconds")
        with self.engine.connect() as conn:
            found = conn.execute(
                select(_RECORDS.c.seq).where(_RECORDS.c.ts >= cutoff).order_by(_RECORDS.c.seq).limit(1)
            )
            seq = found.scalar_one_or_none()
        return int(seq) if seq is not None else None

    def export(self, out: IO[str], *, since: datetime | None = None, head: AuditHead | None = None) -> int:
        """Write records as JSONL up to ``head`` (the current head when None), then a final line with that head.

        With ``since``, the records run without a gap from the first one written at or after it, so the chain
        can be recomputed from its first ``prev_hash``.
        """
        head = head or self.head()
        after = 0
        if since is not None:
            first = self.first_since(since)
            after = head.seq if first is None else first - 1
        count = 0
        for rec in self.iter_records(after=after, upto=head.seq):
            out.write(canonical_json({**rec.model_dump(), "data": json.loads(rec.data)}) + "\n")
            count += 1
        out.write(canonical_json({"chain_head": {"seq": head.seq, "hash": head.hash}}) + "\n")
        return count
