"""Edges of the audit log that the chain tests leave open: setup, durability, time filters, batching, non-ASCII."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from core.errors import AuditUnavailable
from core.store.audit import GENESIS, AuditEvent, AuditLog, VerifyResult, append_in, ensure_head
from core.store.db import write_session


def _sql(engine: Engine, statement: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement))


def _fill(log: AuditLog, n: int) -> None:
    log.append_many([AuditEvent("test.event", "alice", f"item:{i}", {"i": i}) for i in range(n)])


def _hashes(log: AuditLog) -> dict[int, str]:
    return {r.seq: r.hash for r in log.iter_records()}


def test_ensure_head_starts_an_empty_log_once(any_engine: Engine) -> None:
    log = AuditLog(any_engine)
    _sql(any_engine, "DELETE FROM audit_head")
    with pytest.raises(AuditUnavailable) as raised:
        log.append("e", actor="alice")
    assert str(raised.value) == (
        "the audit log is not initialised; run 'switchboard demo' or init the database"
    )
    ensure_head(any_engine)
    with any_engine.connect() as conn:
        assert [tuple(row) for row in conn.execute(text("SELECT id, seq, hash FROM audit_head"))] == [
            (1, 0, GENESIS)
        ]
    first = log.append("e", actor="alice")
    assert first["prev_hash"] == GENESIS
    ensure_head(any_engine)  # idempotent: it never resets a head that exists
    assert (log.head().seq, log.head().hash) == (1, first["hash"])
    assert log.verify() == VerifyResult(True, 1, None, None, first["hash"])


def test_append_in_joins_the_callers_orm_transaction(engine: Engine) -> None:
    log = AuditLog(engine)
    with write_session(engine) as session:
        written = append_in(session, [AuditEvent("a", "alice"), AuditEvent("b", "bob", "run:1")])
    assert [row["seq"] for row in written] == [1, 2]
    with pytest.raises(RuntimeError), write_session(engine) as session:
        append_in(session, [AuditEvent("c", "carol")])
        raise RuntimeError("the caller's work failed")
    assert log.verify() == VerifyResult(True, 2, None, None, written[-1]["hash"])


def test_append_keeps_subject_and_data_and_stores_no_data_as_an_empty_object(engine: Engine) -> None:
    log = AuditLog(engine)
    with_data = log.append("e", actor="alice", subject="run:1", data={"x": 1})
    bare = log.append("e", actor="alice")
    assert (with_data["subject"], with_data["data"]) == ("run:1", '{"x":1}')
    assert (bare["subject"], bare["data"]) == (None, "{}")
    assert [(r.subject, r.data) for r in log.iter_records()] == [("run:1", '{"x":1}'), (None, "{}")]


def _synchronous(engine: Engine) -> int:
    """The commit mode SQLite's (single pooled) connection was left in: 1 NORMAL, 2 FULL."""
    raw = engine.raw_connection()
    try:
        return int(raw.cursor().execute("PRAGMA synchronous").fetchone()[0])
    finally:
        raw.close()


def test_only_a_durable_append_pays_for_a_full_sync_commit(engine: Engine) -> None:
    log = AuditLog(engine)
    log.append("e", actor="alice")
    assert _synchronous(engine) == 1
    log.append("e", actor="alice", durable=True)
    assert _synchronous(engine) == 2
    log.append_many([AuditEvent("e", "alice")])
    assert _synchronous(engine) == 1
    log.append_many([AuditEvent("e", "alice")], durable=True)
    assert _synchronous(engine) == 2


def test_a_failed_write_names_its_cause_and_leaves_the_chain_alone(engine: Engine) -> None:
    log = AuditLog(engine)
    with pytest.raises(AuditUnavailable) as raised:
        log.append("e", actor="alice", data={"ratio": float("nan")})
    assert str(raised.value) == "could not write the audit record: ValueError"
    assert isinstance(raised.value.__cause__, ValueError)
    assert log.verify() == VerifyResult(True, 0, None, None, GENESIS)


def test_iter_records_since_includes_a_record_written_at_that_instant(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(engine)
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for i in range(3):
        monkeypatch.setattr("core.store.audit.utcnow", lambda i=i: t0 + timedelta(seconds=i))
        log.append("test.event", actor="alice")
    assert [r.seq for r in log.iter_records(since=t0 + timedelta(seconds=1))] == [2, 3]
    assert [r.seq for r in log.iter_records(since=t0 + timedelta(microseconds=1))] == [2, 3]
    assert [r.seq for r in log.iter_records(batch=2)] == [1, 2, 3]


def test_reading_the_log_never_relies_on_the_databases_row_order(engine: Engine) -> None:
    # SQLite returns unordered SELECTs backwards with this pragma: only an explicit ORDER BY keeps chain order.
    event.listen(
        engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA reverse_unordered_selects = ON")
    )
    engine.dispose()
    log = AuditLog(engine)
    _fill(log, 3)
    assert [r.seq for r in log.iter_records()] == [1, 2, 3]
    assert [r.seq for r in log.iter_records(batch=2)] == [1, 2, 3]
    assert log.verify().ok


def test_hashes_at_finds_every_record_of_a_long_list_in_few_queries(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 1100)
    good = _hashes(log)
    selects: list[Any] = []
    event.listen(engine, "before_cursor_execute", lambda *args: selects.append(args[2].startswith("SELECT")))
    assert log.hashes_at([*good, 5000]) == good
    assert sum(selects) == 3  # 1101 seqs, asked 500 at a time


def test_a_head_row_with_the_right_seq_but_another_hash_is_reported(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 3)
    good = _hashes(log)
    _sql(engine, f"UPDATE audit_head SET hash = '{'f' * 64}'")
    assert log.verify() == VerifyResult(False, 3, 3, "the chain head does not match the last record", good[3])


def test_a_record_with_non_ascii_text_verifies(engine: Engine) -> None:
    log = AuditLog(engine)
    log.append("tool.call", actor="zoë", subject="kunde:Müller", data={"note": "café ✓"})
    assert log.verify().ok


def test_a_segment_missing_only_its_last_record_is_reported(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 5)
    good = _hashes(log)
    assert log.verify_segment(upto=6) == VerifyResult(False, 5, 6, "record 6 is missing", good[5])
    assert log.verify_segment(after=5, prev=good[5], upto=5) == VerifyResult(True, 0, None, None, good[5])


def test_an_append_on_postgres_costs_two_round_trips(any_engine: Engine) -> None:
    log = AuditLog(any_engine)
    log.append("warm", actor="alice")
    statements: list[str] = []
    event.listen(any_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    written = log.append_many([AuditEvent("a", "alice"), AuditEvent("b", "bob", "run:1", {"x": 1})])
    appended = list(statements)
    assert log.verify() == VerifyResult(True, 3, None, None, written[-1]["hash"])
    if any_engine.dialect.name == "postgresql":  # lock the head, then write the records and the tip at once
        assert len(appended) == 2
