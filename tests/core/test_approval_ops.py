"""The approval store's state changes, each with its exact row and audit record, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.errors import Conflict, Forbidden, NotFound
from core.store import approval_ops, approval_sweeps
from core.store.approvals import ApprovalRequest, ApprovalStatus, ApprovalVote, call_lock_key
from core.store.audit import AuditLog

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _create(engine: Engine, **given: Any) -> tuple[Any, bool]:
    """``create_request`` for olive's payment of 10 to acme, with ``given`` overriding any argument."""
    defaults: dict[str, Any] = {
        "tool": "pay",
        "args": {"account": "acme", "amount": 10},
        "requester": "olive",
        "reasons": ["external"],
        "preview": {},
        "expiry": HOUR,
        "now": NOW,
    }
    return approval_ops.create_request(engine=engine, **{**defaults, **given})


def _request(
    engine: Engine, *, requester: str = "olive", at: datetime = NOW, expiry: timedelta = HOUR
) -> str:
    request, _ = _create(engine, requester=requester, expiry=expiry, now=at)
    return str(request.id)


def _after(engine: Engine, approval_id: str) -> tuple[Any, ...]:
    row = approval_ops.get_request(engine=engine, approval_id=approval_id)
    return (row.status, row.decided_by, row.decision_reason, row.run_id)


def _audit(engine: Engine, since: int = 0) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    return [
        (r.event, r.actor, r.subject, json.loads(r.data))
        for r in AuditLog(engine).iter_records()
        if r.seq > since
    ]


def _seq(engine: Engine) -> int:
    return AuditLog(engine).head().seq


def test_a_rejection_keeps_its_reason_or_says_there_was_none(any_engine: Engine) -> None:
    given, blank = _request(any_engine), _request(any_engine)
    seq = _seq(any_engine)
    approval_ops.reject(
        engine=any_engine, approval_id=given, approver="ann", role="approver", reason=" too much ", now=NOW
    )
    approval_ops.reject(
        engine=any_engine, approval_id=blank, approver="ann", role="approver", reason=" ", now=NOW
    )
    assert _after(any_engine, given) == (ApprovalStatus.REJECTED, "ann", "too much", None)
    assert _after(any_engine, blank) == (ApprovalStatus.REJECTED, "ann", "no reason given", None)
    assert _audit(any_engine, seq) == [
        ("approval.rejected", "ann", f"approval:{given}", {"reason": "too much"}),
        ("approval.rejected", "ann", f"approval:{blank}", {"reason": "no reason given"}),
    ]


def test_the_requester_may_withdraw_but_never_approve_their_own_request(any_engine: Engine) -> None:
    own = _request(any_engine, requester="ann")
    with pytest.raises(Forbidden, match="four-eyes"):
        approval_ops.approve(engine=any_engine, approval_id=own, approver="ann", role="approver", now=NOW)
    approval_ops.reject(
        engine=any_engine, approval_id=own, approver="ann", role="operator", reason="", now=NOW
    )
    assert _after(any_engine, own) == (ApprovalStatus.REJECTED, "ann", "no reason given", None)


def test_an_approval_must_match_the_arguments_it_was_shown(any_engine: Engine) -> None:
    approval_id = _request(any_engine)
    shown = approval_ops.get_request(engine=any_engine, approval_id=approval_id).binding
    with pytest.raises(Conflict) as caught:
        approval_ops.approve(
            engine=any_engine,
            approval_id=approval_id,
            approver="ann",
            role="approver",
            binding="0" * 64,
            now=NOW,
        )
    assert str(caught.value) == (
        f"approval request {approval_id} changed since it was shown; reload it before deciding"
    )
    _, completed = approval_ops.approve(
        engine=any_engine, approval_id=approval_id, approver="ann", role="approver", binding=shown, now=NOW
    )
    assert completed


def test_expiry_closes_only_what_is_due_once_and_audits_it(any_engine: Engine) -> None:
    due, later = _request(any_engine, expiry=HOUR), _request(any_engine, expiry=3 * HOUR)
    seq = _seq(any_engine)
    expired = approval_sweeps.expire_due(engine=any_engine, now=NOW + 2 * HOUR)
    assert [r.id for r in expired] == [due]
    assert approval_sweeps.expire_due(engine=any_engine, now=NOW + 2 * HOUR) == []
    assert _after(any_engine, due) == (
        ApprovalStatus.EXPIRED,
        "system",
        "expired before anyone decided",
        None,
    )
    assert _after(any_engine, later)[0] == ApprovalStatus.PENDING
    assert _audit(any_engine, seq) == [
        ("approval.expired", "system", f"approval:{due}", {"reason": "expired before anyone decided"})
    ]


def test_reminders_are_claimed_once_and_not_audited(any_engine: Engine) -> None:
    soon, later = _request(any_engine, expiry=HOUR), _request(any_engine, expiry=5 * HOUR)
    seq = _seq(any_engine)
    claimed = approval_sweeps.claim_reminders(engine=any_engine, now=NOW, window=2 * HOUR)
    assert [r.id for r in claimed] == [soon]
    assert approval_sweeps.claim_reminders(engine=any_engine, now=NOW, window=2 * HOUR) == []
    with Session(any_engine) as session:
        reminded = {r: session.get(ApprovalRequest, r).reminded_at for r in (soon, later)}  # type: ignore[union-attr]
    assert reminded[soon] is not None and reminded[soon].replace(tzinfo=UTC) == NOW
    assert reminded[later] is None
    assert _audit(any_engine, seq) == []


def test_an_edited_request_supersedes_the_original(any_engine: Engine) -> None:
    original = _request(any_engine)
    seq = _seq(any_engine)
    approval_ops.supersede(engine=any_engine, approval_id=original, actor="olive", new_id="apr_new", now=NOW)
    assert _after(any_engine, original) == (ApprovalStatus.SUPERSEDED, "olive", "edited as apr_new", None)
    assert _audit(any_engine, seq) == [
        ("approval.superseded", "olive", f"approval:{original}", {"reason": "edited as apr_new"})
    ]


def test_a_closed_request_cannot_be_closed_again(any_engine: Engine) -> None:
    approval_id = _request(any_engine)
    approval_ops.supersede(
        engine=any_engine, approval_id=approval_id, actor="olive", new_id="apr_new", now=NOW
    )
    with pytest.raises(Conflict, match=f"^approval request {approval_id} is already superseded by olive$"):
        approval_ops.supersede(
            engine=any_engine, approval_id=approval_id, actor="olive", new_id="apr_2", now=NOW
        )
    late = _request(any_engine)
    with pytest.raises(Conflict, match=f"^approval request {late} expired at 2026-11-22 13:00 UTC$"):
        approval_ops.supersede(engine=any_engine, approval_id=late, actor="olive", new_id="x", now=NOW + HOUR)


def test_a_racing_loser_is_told_why_its_update_matched_nothing(any_engine: Engine) -> None:
    # The conditional UPDATE lost a race: what the request is now says why (the store's _explain_not_pending).
    pending, gone = _request(any_engine), "apr_0000000000000000"
    with Session(any_engine) as session:
        meanwhile = approval_ops._explain_not_pending(session, pending, NOW)
        expired = approval_ops._explain_not_pending(session, pending, NOW + HOUR)
        missing = approval_ops._explain_not_pending(session, gone, NOW)
    assert [(type(e), str(e)) for e in (meanwhile, expired, missing)] == [
        (Conflict, f"approval request {pending} changed meanwhile"),
        (Conflict, f"approval request {pending} expired at 2026-11-22 13:00 UTC"),
        (Conflict, f"approval request {gone} does not exist"),
    ]


@pytest.mark.parametrize(
    ("ok", "error", "status", "data"),
    [
        (True, None, ApprovalStatus.EXECUTED, {"run_id": 5}),
        (
            False,
            "the far side is down",
            ApprovalStatus.FAILED,
            {"run_id": 5, "error": "the far side is down"},
        ),
    ],
)
def test_an_approved_request_is_marked_executed_once(
    any_engine: Engine, ok: bool, error: str | None, status: ApprovalStatus, data: dict[str, Any]
) -> None:
    approval_id = _request(any_engine)
    assert not approval_ops.mark_executed(
        engine=any_engine, approval_id=approval_id, run_id=5, ok=ok, error=error
    )
    approval_ops.approve(engine=any_engine, approval_id=approval_id, approver="ann", role="approver", now=NOW)
    seq = _seq(any_engine)
    assert approval_ops.mark_executed(
        engine=any_engine, approval_id=approval_id, run_id=5, ok=ok, error=error
    )
    assert not approval_ops.mark_executed(engine=any_engine, approval_id=approval_id, run_id=6, ok=ok)
    assert _after(any_engine, approval_id) == (status, "ann", None, 5)
    assert _audit(any_engine, seq) == [
        (f"approval.{status.value}", "system", f"approval:{approval_id}", data)
    ]


def test_requests_are_listed_newest_first_by_status_and_requester(any_engine: Engine) -> None:
    first = _request(any_engine, requester="olive", at=NOW)
    second = _request(any_engine, requester="ann", at=NOW + timedelta(minutes=1))
    third = _request(any_engine, requester="olive", at=NOW + timedelta(minutes=2))
    approval_ops.reject(
        engine=any_engine, approval_id=third, approver="bob", role="approver", reason="", now=NOW
    )

    def ids(**filters: Any) -> list[str]:
        return [r.id for r in approval_ops.list_requests(engine=any_engine, **filters)]

    assert ids() == [third, second, first]
    assert ids(limit=2) == [third, second]
    assert ids(status=ApprovalStatus.PENDING) == [second, first]
    assert ids(requester="olive") == [third, first]
    assert ids(status=ApprovalStatus.PENDING, requester="olive") == [first]


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)  # SQLite drops the zone


def test_a_request_stores_everything_it_was_given(any_engine: Engine) -> None:
    request, merged = _create(
        any_engine,
        preview={"text": "Pay acme 10"},
        risk="write",
        confidence=0.93,
        thread_id="t-1",
        policy_version="7",
    )
    row = approval_ops.get_request(engine=any_engine, approval_id=request.id)
    assert re.fullmatch(r"apr_[0-9a-f]{16}", row.id) and not merged
    assert (row.reasons, row.preview, row.risk, row.confidence, row.thread_id, row.policy_version) == (
        ["external"],
        {"text": "Pay acme 10"},
        "write",
        0.93,
        "t-1",
        "7",
    )
    assert (_utc(row.created_at), _utc(row.expires_at)) == (NOW, NOW + HOUR)


def test_a_missing_request_is_named(any_engine: Engine) -> None:
    assert approval_ops.get_request(engine=any_engine, approval_id=_request(any_engine)).risk == "external"
    with pytest.raises(NotFound, match="^approval request apr_nope does not exist$"):
        approval_ops.get_request(engine=any_engine, approval_id="apr_nope")


def test_each_vote_and_the_completing_one_are_audited_with_the_time_they_were_cast(
    any_engine: Engine,
) -> None:
    request, _ = _create(any_engine, quorum=2)
    seq = _seq(any_engine)
    later = NOW + timedelta(minutes=5)
    approval_ops.approve(engine=any_engine, approval_id=request.id, approver="ann", role="approver", now=NOW)
    done, completed = approval_ops.approve(
        engine=any_engine, approval_id=request.id, approver="bob", role="approver", now=later
    )
    subject = f"approval:{request.id}"
    assert completed and (done.status, done.decided_by, _utc(done.decided_at)) == (
        ApprovalStatus.APPROVED,
        "bob",
        later,
    )
    assert _audit(any_engine, seq) == [
        ("approval.vote", "ann", subject, {"votes": 1, "quorum": 2}),
        ("approval.vote", "bob", subject, {"votes": 2, "quorum": 2}),
        ("approval.approved", "bob", subject, {"tool": "pay", "binding": request.binding}),
    ]
    with Session(any_engine) as session:
        votes = session.exec(select(ApprovalVote).order_by(col(ApprovalVote.approver))).all()
    assert [(v.approver, _utc(v.created_at)) for v in votes] == [("ann", NOW), ("bob", later)]


def test_a_decision_records_when_it_was_made(any_engine: Engine) -> None:
    approval_id = _request(any_engine)
    later = NOW + timedelta(minutes=5)
    done = approval_ops.reject(
        engine=any_engine, approval_id=approval_id, approver="ann", role="approver", reason="", now=later
    )
    assert _utc(done.decided_at) == later


def test_claimed_requests_come_back_soonest_expiring_first(any_engine: Engine) -> None:
    late = _request(any_engine, expiry=2 * HOUR)
    early = _request(any_engine, at=NOW + timedelta(minutes=1), expiry=HOUR)
    assert [r.id for r in approval_sweeps.expire_due(engine=any_engine, now=NOW + 3 * HOUR)] == [early, late]


def test_a_new_request_is_audited_with_the_call_it_binds(any_engine: Engine) -> None:
    seq = _seq(any_engine)
    request, _ = _create(any_engine, quorum=2, parent_id="apr_parent", policy_version="7")
    assert _audit(any_engine, seq) == [
        (
            "approval.requested",
            "olive",
            f"approval:{request.id}",
            {
                "tool": "pay",
                "args": {"account": "acme", "amount": 10},
                "binding": request.binding,
                "reasons": ["external"],
                "quorum": 2,
                "expires_at": "2026-11-22T13:00:00+00:00",
                "parent_id": "apr_parent",
                "policy_version": "7",
            },
        )
    ]


def test_a_repeated_request_merges_into_the_pending_one_and_is_audited(any_engine: Engine) -> None:
    first, _ = _create(any_engine)
    seq = _seq(any_engine)
    later = NOW + timedelta(minutes=1)
    twin, merged = _create(
        any_engine, requester="bob", reasons=["again"], thread_id="t-2", merge_pending=True, now=later
    )
    assert merged and (twin.id, twin.requester, twin.reasons, twin.thread_id) == (
        first.id,
        "olive",
        ["external"],
        None,
    )
    assert _audit(any_engine, seq) == [
        (
            "approval.merged",
            "bob",
            f"approval:{first.id}",
            {"requester": "bob", "reasons": ["again"], "thread_id": "t-2"},
        )
    ]
    other, merged = _create(any_engine, args={"account": "acme", "amount": 11}, merge_pending=True, now=later)
    assert not merged and other.id != first.id
    assert [r.id for r in approval_ops.list_requests(engine=any_engine)] == [other.id, first.id]


def test_a_merging_request_first_takes_the_advisory_lock_of_its_call(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite stands in for PostgreSQL here: it answers pg_advisory_xact_lock with a function that records the
    # key and turns the dialect back to SQLite, so the rest of the transaction runs as usual.
    keys: list[int] = []

    def lock(key: int) -> None:
        keys.append(key)
        monkeypatch.setattr(engine.dialect, "name", "sqlite")

    def offer_lock(conn: Any, *_: Any) -> None:
        conn.connection.driver_connection.create_function("pg_advisory_xact_lock", 1, lock)

    event.listen(engine, "before_cursor_execute", offer_lock)
    monkeypatch.setattr(engine.dialect, "name", "postgresql")
    request, merged = _create(engine, merge_pending=True)
    assert not merged and keys == [call_lock_key("pay", request.binding)]


def test_the_same_approvers_racing_double_tap_counts_once(
    monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    # Dated in the past, so that judging by the wall clock instead of the given time would see it expired.
    at = datetime(2020, 1, 1, 12, 0, tzinfo=UTC)
    request, _ = _create(engine, quorum=2, now=at)
    real = approval_ops.write_session

    @contextmanager
    def other_tap_first(bind: Engine, **options: Any) -> Iterator[Session]:
        # The other tap was judged too, then committed its vote just before this one's transaction.
        monkeypatch.setattr(approval_ops, "write_session", real)
        approval_ops.approve(engine=bind, approval_id=request.id, approver="ann", role="approver", now=at)
        with real(bind, **options) as session:
            yield session

    monkeypatch.setattr(approval_ops, "write_session", other_tap_first)
    with pytest.raises(Conflict) as caught:
        approval_ops.approve(engine=engine, approval_id=request.id, approver="ann", role="approver", now=at)
    assert str(caught.value) == f"ann has already approved request {request.id}"
    row = approval_ops.get_request(engine=engine, approval_id=request.id)
    assert (row.status, row.approvals) == (ApprovalStatus.PENDING, 1)


def test_a_vote_lost_to_a_passing_collision_asks_to_try_again(
    monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    approval_id = _request(engine)
    seq = _seq(engine)

    def collide(*_: Any) -> None:
        raise IntegrityError("INSERT", {}, Exception("unique"))

    monkeypatch.setattr(approval_ops, "append_in", collide)
    with pytest.raises(Conflict) as caught:
        approval_ops.approve(engine=engine, approval_id=approval_id, approver="ann", role="approver", now=NOW)
    assert str(caught.value) == f"approval request {approval_id} changed meanwhile; try again"
    assert (_after(engine, approval_id), _seq(engine)) == ((ApprovalStatus.PENDING, None, None, None), seq)


def test_requests_are_listed_a_hundred_at_a_time_by_default(engine: Engine) -> None:
    with Session(engine) as session:
        session.add_all(
            ApprovalRequest(
                id=f"apr_{n:016x}",
                tool="pay",
                args={},
                binding="0" * 64,
                requester="olive",
                created_at=NOW + timedelta(seconds=n),
                expires_at=NOW + HOUR,
            )
            for n in range(101)
        )
        session.commit()
    listed = approval_ops.list_requests(engine=engine)
    assert [r.id for r in listed] == [f"apr_{n:016x}" for n in range(100, 0, -1)]


def _meanwhile(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """Run ``change(engine)`` once, after ``approve`` checked the rule and before its transaction begins."""
    real = approval_ops.write_session

    @contextmanager
    def changed_first(bind: Engine, **options: Any) -> Iterator[Session]:
        monkeypatch.setattr(approval_ops, "write_session", real)
        change(bind)
        with real(bind, **options) as session:
            yield session

    monkeypatch.setattr(approval_ops, "write_session", changed_first)


def test_an_approver_who_lost_to_a_rejection_is_told_who_rejected_it(
    monkeypatch: pytest.MonkeyPatch, any_engine: Engine
) -> None:
    approval_id = _request(any_engine)

    def bob_rejects(bind: Engine) -> None:
        approval_ops.reject(
            engine=bind, approval_id=approval_id, approver="bob", role="approver", reason="no", now=NOW
        )

    _meanwhile(monkeypatch, bob_rejects)
    with pytest.raises(Conflict) as caught:
        approval_ops.approve(
            engine=any_engine, approval_id=approval_id, approver="ann", role="approver", now=NOW
        )
    assert str(caught.value) == f"approval request {approval_id} is already rejected by bob"
    assert _after(any_engine, approval_id) == (ApprovalStatus.REJECTED, "bob", "no", None)


def test_a_vote_cast_at_the_moment_of_expiry_is_refused_as_expired(
    monkeypatch: pytest.MonkeyPatch, any_engine: Engine
) -> None:
    # Dated in the future, so that judging by the wall clock instead of the given time would see it still open.
    at = datetime(2100, 1, 1, 12, 0, tzinfo=UTC)
    approval_id, now = _request(any_engine, at=at), at + HOUR / 2

    def expiry_moved_to_now(bind: Engine) -> None:
        # Whatever moved it, the store's write, not the earlier rule check, has the last word on expiry.
        with Session(bind) as session:
            row = session.get(ApprovalRequest, approval_id)
            assert row is not None
            row.expires_at = now
            session.commit()

    _meanwhile(monkeypatch, expiry_moved_to_now)
    with pytest.raises(Conflict) as caught:
        approval_ops.approve(
            engine=any_engine, approval_id=approval_id, approver="ann", role="approver", now=now
        )
    assert str(caught.value) == f"approval request {approval_id} expired at 2100-01-01 12:30 UTC"
    row = approval_ops.get_request(engine=any_engine, approval_id=approval_id)
    assert (row.status, row.approvals, row.decided_by) == (ApprovalStatus.PENDING, 0, None)
