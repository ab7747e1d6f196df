"""The audit chain: appends, redaction, concurrency and tamper detection."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.store.audit import GENESIS, AuditEvent, AuditLog, VerifyResult, redact


def _sql(engine: Engine, statement: str) -> None:
    """Tamper with the log behind its back."""
    with engine.begin() as conn:
        conn.execute(text(statement))


def _fill(log: AuditLog, n: int) -> None:
    log.append_many([AuditEvent("test.event", "alice", f"item:{i}", {"i": i}) for i in range(n)])


def test_empty_chain_verifies(any_engine: Engine) -> None:
    result = AuditLog(any_engine).verify()
    assert (result.ok, result.records, result.first_bad, result.head) == (True, 0, None, GENESIS)


def test_appends_link_to_previous_record(any_engine: Engine) -> None:
    log = AuditLog(any_engine)
    first = log.append("a", actor="alice", data={"x": 1})
    second = log.append("b", actor="bob", subject="run:1")
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["prev_hash"] == GENESIS
    assert second["prev_hash"] == first["hash"]
    assert log.verify().ok
    assert log.head().hash == second["hash"]


def test_secrets_are_redacted_before_hashing() -> None:
    data = {
        "password": "hunter2",
        "nested": {"api_key": "k", "ok": 1},
        "token_value": SecretStr("t"),
        "note": "fine",
    }
    assert redact(data) == {
        "password": "[redacted]",
        "nested": {"api_key": "[redacted]", "ok": 1},
        "token_value": "[redacted]",
        "note": "fine",
    }


def test_secret_never_stored(engine: Engine) -> None:
    log = AuditLog(engine)
    log.append("login", actor="alice", data={"password": "hunter2", "session": {"cookie": "abc"}})
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT data FROM audit_record")).scalar_one()
    assert "hunter2" not in stored and "abc" not in stored


def test_edit_is_detected(any_engine: Engine) -> None:
    log = AuditLog(any_engine)
    _fill(log, 5)
    with any_engine.begin() as conn:
        conn.execute(text("UPDATE audit_record SET actor = 'mallory' WHERE seq = 3"))
    result = log.verify()
    assert (result.ok, result.first_bad, result.reason) == (False, 3, "its content does not match its hash")


def test_delete_is_detected(any_engine: Engine) -> None:
    log = AuditLog(any_engine)
    _fill(log, 5)
    with any_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record WHERE seq = 2"))
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 2)


def test_truncated_tail_is_detected(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 4)
    _sql(engine, "DELETE FROM audit_record WHERE seq = 4")
    result = log.verify()
    assert (result.ok, result.reason) == (False, "the chain head does not match the last record")


def test_reorder_is_detected(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 4)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_record SET seq = -2 WHERE seq = 2"))
        conn.execute(text("UPDATE audit_record SET seq = 2 WHERE seq = 3"))
        conn.execute(text("UPDATE audit_record SET seq = 3 WHERE seq = -2"))
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 2)


def test_recomputed_hash_still_breaks_the_next_link(engine: Engine) -> None:
    """An attacker who rewrites a record and its own hash is caught by the following record's prev_hash."""
    from core.store.audit import record_hash

    log = AuditLog(engine)
    _fill(log, 3)
    with engine.begin() as conn:
        row = conn.execute(
            text("SELECT seq, ts, actor, event, subject, prev_hash FROM audit_record WHERE seq = 2")
        ).one()
        forged = record_hash(
            seq=2,
            ts=row.ts,
            actor="mallory",
            event=row.event,
            subject=row.subject,
            data="{}",
            prev=row.prev_hash,
        )
        conn.execute(
            text("UPDATE audit_record SET actor='mallory', data='{}', hash=:h WHERE seq = 2"), {"h": forged}
        )
    result = log.verify()
    assert (result.ok, result.first_bad, result.reason) == (
        False,
        3,
        "its prev_hash does not match the previous record",
    )


def test_a_record_hash_is_pinned() -> None:
    """Known answer: sha256(prev + canonical JSON of the record with prev); any change to the formula breaks it."""
    from core.store.audit import record_hash

    digest = record_hash(
        seq=7,
        ts="2026-12-03T10:00:00.000000+00:00",
        actor="alice",
        event="tool.call",
        subject="run:42",
        data='{"quantity":3}',
        prev="ab" * 32,
    )
    assert digest == "fcf01142253ca584ea1463ff72cba172bd8d959d5a738fa6cd604be73bb44508"


def test_a_record_written_with_the_pinned_hash_verifies(engine: Engine) -> None:
    """The verifier recomputes the same formula as the writer (it has an inlined copy for speed)."""
    from core.store.audit import record_hash

    fields = {
        "seq": 1,
        "ts": "2026-12-03T10:00:00.000000+00:00",
        "actor": "alice",
        "event": "e",
        "subject": None,
    }
    digest = record_hash(**fields, data="{}", prev=GENESIS)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_record (seq, ts, actor, event, subject, data, prev_hash, hash) "
                "VALUES (:seq, :ts, :actor, :event, :subject, '{}', :prev, :hash)"
            ),
            {**fields, "prev": GENESIS, "hash": digest},
        )
        conn.execute(text("UPDATE audit_head SET seq = 1, hash = :h"), {"h": digest})
    assert AuditLog(engine).verify() == VerifyResult(True, 1, None, None, digest)


def test_forging_a_record_and_the_next_prev_hash_still_breaks_the_next_hash(engine: Engine) -> None:
    """Each hash covers the previous hash: relinking record 3 to a forged record 2 leaves record 3's hash wrong."""
    from core.store.audit import record_hash

    log = AuditLog(engine)
    _fill(log, 4)
    with engine.begin() as conn:
        row = conn.execute(
            text("SELECT seq, ts, actor, event, subject, prev_hash FROM audit_record WHERE seq = 2")
        ).one()
        forged = record_hash(
            seq=2,
            ts=row.ts,
            actor="mallory",
            event=row.event,
            subject=row.subject,
            data="{}",
            prev=row.prev_hash,
        )
        conn.execute(
            text("UPDATE audit_record SET actor='mallory', data='{}', hash=:h WHERE seq = 2"), {"h": forged}
        )
        conn.execute(text("UPDATE audit_record SET prev_hash = :h WHERE seq = 3"), {"h": forged})
    result = log.verify()
    assert (result.ok, result.first_bad, result.reason) == (False, 3, "its content does not match its hash")


def test_concurrent_writers_never_fork_the_chain(any_engine: Engine) -> None:
    log = AuditLog(any_engine)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                log.append("concurrent", actor=f"w{n}", data={"i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = log.verify()
    assert (result.ok, result.records) == (True, 200)


def test_export_ends_with_chain_head(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 3)
    out = io.StringIO()
    assert log.export(out) == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["seq"] for line in lines[:3]] == [1, 2, 3]
    assert lines[0]["data"] == {"i": 0}
    assert lines[-1] == {"chain_head": {"seq": 3, "hash": log.head().hash}}


def test_export_stops_at_the_head_it_was_given(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 3)
    head = log.head()
    _fill(log, 2)  # written while the export runs
    out = io.StringIO()
    assert log.export(out, head=head) == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line.get("seq") for line in lines] == [1, 2, 3, None]
    assert lines[-1] == {"chain_head": {"seq": 3, "hash": head.hash}}


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    target=st.integers(min_value=1, max_value=6),
    column=st.sampled_from(["ts", "actor", "event", "subject", "data", "prev_hash", "hash"]),
    value=st.text(min_size=1, max_size=12),
)
def test_any_edit_to_any_record_is_detected(engine: Engine, target: int, column: str, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record"))
        conn.execute(text("UPDATE audit_head SET seq = 0, hash = :g"), {"g": GENESIS})
    log = AuditLog(engine)
    _fill(log, 6)
    with engine.begin() as conn:
        original = conn.execute(
            text(f"SELECT {column} FROM audit_record WHERE seq = :s"), {"s": target}
        ).scalar_one()
        if original == value:
            value = value + "x"
        conn.execute(text(f"UPDATE audit_record SET {column} = :v WHERE seq = :s"), {"v": value, "s": target})
    result = log.verify()
    assert not result.ok
    assert result.first_bad is not None and result.first_bad <= target + 1


def _append_at(log: AuditLog, monkeypatch: pytest.MonkeyPatch, *times: datetime) -> None:
    for i, when in enumerate(times):
        monkeypatch.setattr("core.store.audit.utcnow", lambda when=when: when)
        log.append("test.event", actor="alice", data={"i": i})


def test_export_since_starts_at_the_first_record_written_at_or_after_it(
    any_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(any_engine)
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    _append_at(log, monkeypatch, t0, t0 + timedelta(seconds=1), t0 + timedelta(seconds=2))
    out = io.StringIO()
    assert log.export(out, since=t0 + timedelta(seconds=1)) == 2
    assert [json.loads(line).get("seq") for line in out.getvalue().splitlines()] == [2, 3, None]


def test_export_since_after_the_last_record_holds_only_the_head(
    any_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(any_engine)
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    _append_at(log, monkeypatch, t0)
    assert log.first_since(t0 + timedelta(microseconds=1)) is None
    out = io.StringIO()
    assert log.export(out, since=t0 + timedelta(seconds=1)) == 0
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [
        {"chain_head": {"seq": 1, "hash": log.head().hash}}
    ]


def test_first_since_follows_the_chain_when_the_clock_stepped_back(
    any_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A clock stepped back (NTP) writes a later record with an earlier time: the export still starts at the
    # first record in chain order, so it has no gap.
    log = AuditLog(any_engine)
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    _append_at(
        log, monkeypatch, t0 + timedelta(seconds=2), t0 + timedelta(seconds=1), t0 + timedelta(seconds=3)
    )
    assert log.first_since(t0 + timedelta(seconds=1)) == 1


def _hashes(log: AuditLog) -> dict[int, str]:
    return {r.seq: r.hash for r in log.iter_records()}


def test_each_break_in_the_chain_is_reported_whole(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 5)
    good = _hashes(log)
    assert log.verify_segment(upto=7) == VerifyResult(False, 5, 6, "record 6 is missing", good[5])
    assert log.verify_segment(upto=5) == VerifyResult(True, 5, None, None, good[5])
    _sql(engine, "UPDATE audit_record SET actor = 'mallory' WHERE seq = 3")
    assert log.verify() == VerifyResult(False, 3, 3, "its content does not match its hash", good[2])
    _sql(engine, "DELETE FROM audit_record WHERE seq = 3")
    assert log.verify() == VerifyResult(False, 3, 3, "record 3 is missing", good[2])
    _sql(engine, "UPDATE audit_record SET prev_hash = 'x' WHERE seq = 2")
    assert log.verify() == VerifyResult(
        False, 2, 2, "its prev_hash does not match the previous record", good[1]
    )


def test_a_head_row_out_of_step_with_the_records_is_reported(engine: Engine) -> None:
    log = AuditLog(engine)
    _fill(log, 3)
    good = _hashes(log)
    _sql(engine, "DELETE FROM audit_record WHERE seq = 3")
    assert log.verify() == VerifyResult(False, 2, 3, "the chain head does not match the last record", good[2])
    _sql(engine, "UPDATE audit_head SET seq = 1")
    assert log.verify() == VerifyResult(False, 2, 2, "the chain head does not match the last record", good[2])
