"""What an attacker with write access to the database does to the audit log, done carefully (hashes recomputed).

Each helper leaves a chain that ``AuditLog.verify`` alone accepts: only the signed checkpoints outside the
database can tell. They work on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.store.audit import GENESIS, AuditEvent, AuditLog, record_hash


def fill(engine: Engine, n: int, *, actor: str = "alice") -> None:
    """Append ``n`` records in one batch."""
    AuditLog(engine).append_many([AuditEvent("test.event", actor, f"item:{i}", {"i": i}) for i in range(n)])


def truncate(engine: Engine, *, keep: int) -> None:
    """Delete every record after ``keep`` and point the head at the last one kept."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record WHERE seq > :keep"), {"keep": keep})
        last = conn.execute(text("SELECT hash FROM audit_record WHERE seq = :keep"), {"keep": keep}).scalar()
        conn.execute(
            text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"),
            {"seq": keep, "hash": last or GENESIS},
        )


def rewrite(engine: Engine, *, seq: int, actor: str = "mallory") -> None:
    """Change record ``seq``'s actor, then recompute its hash, every later record's and the head."""
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_record SET actor = :actor WHERE seq = :seq"), {"actor": actor, "seq": seq}
        )
        rows = conn.execute(
            text(
                "SELECT seq, ts, actor, event, subject, data, prev_hash FROM audit_record "
                "WHERE seq >= :seq ORDER BY seq"
            ),
            {"seq": seq},
        ).all()
        prev = rows[0].prev_hash
        for row in rows:
            digest = record_hash(
                seq=row.seq,
                ts=row.ts,
                actor=row.actor,
                event=row.event,
                subject=row.subject,
                data=row.data,
                prev=prev,
            )
            conn.execute(
                text("UPDATE audit_record SET prev_hash = :prev, hash = :hash WHERE seq = :seq"),
                {"prev": prev, "hash": digest, "seq": row.seq},
            )
            prev = digest
        conn.execute(
            text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"),
            {"seq": rows[-1].seq, "hash": prev},
        )


def replace(engine: Engine, *, records: int = 0) -> None:
    """Delete every record, reset the head, and write ``records`` new ones (a fresh, valid chain)."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record"))
        conn.execute(
            text("UPDATE audit_head SET seq = 0, hash = :genesis WHERE id = 1"), {"genesis": GENESIS}
        )
    if records:
        fill(engine, records, actor="mallory")
