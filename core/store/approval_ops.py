"""Atomic state changes of approval requests.

Each decision is one durable transaction: a conditional ``UPDATE`` that only matches a pending, unexpired request,
the vote row (unique per approver, so a double tap counts once) and the audit record. If the audit record cannot be
written, the transaction rolls back and nothing is approved.

Expiry and reminders, which every process's ticker attempts, live in ``core.store.approval_sweeps``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from core.errors import Conflict, NotFound, SwitchboardError
from core.store.approval_rule import Ballot, Decision, Person, Rules, can_decide, still_open
from core.store.approvals import (
    ApprovalRequest,
    ApprovalStatus,
    ApprovalVote,
    binding_of,
    call_lock_key,
    pending_twin,
)
from core.store.audit import AuditEvent, append_in
from core.store.db import utcnow, write_session


def new_approval_id() -> str:
    """An opaque, unguessable id."""
    return "apr_" + secrets.token_hex(8)


def create_request(
    *,
    engine: Engine,
    tool: str,
    args: dict[str, Any],
    requester: str,
    reasons: list[str],
    preview: dict[str, Any],
    expiry: timedelta,
    quorum: int = 1,
    risk: str = "external",
    confidence: float | None = None,
    thread_id: str | None = None,
    parent_id: str | None = None,
    edited_by: str | None = None,
    policy_version: str | None = None,
    merge_pending: bool = False,
    now: datetime | None = None,
) -> tuple[ApprovalRequest, bool]:
    """Store a pending request bound to the exact tool and arguments, durably, with its audit record.

    With ``merge_pending``, a request for the same tool and binding that is still pending is returned unchanged
    instead (``approval.merged`` by ``requester`` is recorded on it). Returns the request and True when merged.
    """
    now = now or utcnow()
    request = ApprovalRequest(
        id=new_approval_id(),
        tool=tool,
        args=args,
        binding=binding_of(tool, args),
        requester=requester,
        reasons=reasons,
        preview=preview,
        quorum=quorum,
        risk=risk,
        confidence=confidence,
        thread_id=thread_id,
        parent_id=parent_id,
        edited_by=edited_by,
        policy_version=policy_version,
        created_at=now,
        expires_at=now + expiry,
    )
    with write_session(engine, durable=True) as session:
        if merge_pending:
            if engine.dialect.name == "postgresql":
                # Held to commit, so a racing twin's SELECT (a new snapshot) finds this row; on SQLite the
                # BEGIN IMMEDIATE of write_session already serialises the check and the insert.
                key = call_lock_key(tool, request.binding)
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            twin = session.execute(pending_twin(tool, request.binding, now)).scalars().first()
            if twin is not None:
                merged = {"requester": requester, "reasons": reasons, "thread_id": thread_id}
                append_in(session, [AuditEvent("approval.merged", requester, f"approval:{twin.id}", merged)])
                session.expunge(twin)
                return twin, True
        session.add(request)
        session.flush()
        append_in(
            session,
            [
                AuditEvent(
                    "approval.requested",
                    requester,
                    f"approval:{request.id}",
                    {
                        "tool": tool,
                        "args": args,
                        "binding": request.binding,
                        "reasons": reasons,
                        "quorum": quorum,
                        "expires_at": request.expires_at.isoformat(),
                        "parent_id": parent_id,
                        "policy_version": policy_version,
                    },
                )
            ],
        )
        session.refresh(request)
        session.expunge(request)
        return request, False


def get_request(*, engine: Engine, approval_id: str) -> ApprovalRequest:
    """Load a request or raise NotFound."""
    with Session(engine) as session:
        request = session.get(ApprovalRequest, approval_id)
    if request is None:
        raise NotFound(f"approval request {approval_id} does not exist")
    return request


def ballots(*, engine: Engine, requests: Sequence[ApprovalRequest]) -> list[Ballot]:
    """The requests as the approval rule sees them, with their approve votes read in one query.

    Only requests with votes are asked about: the counter moves with the vote rows, in their transaction
    (``approve``), so a request whose counter is 0 has none.
    """
    voters: dict[str, set[str]] = {}
    voted = [r.id for r in requests if r.approvals]
    if voted:
        with Session(engine) as session:
            rows = session.execute(
                select(col(ApprovalVote.approval_id), col(ApprovalVote.approver)).where(
                    col(ApprovalVote.approval_id).in_(voted)
                )
            )
            for approval_id, approver in rows:
                voters.setdefault(approval_id, set()).add(approver)
    return [Ballot.of(r, voters.get(r.id, ())) for r in requests]


def load_ballot(*, engine: Engine, approval_id: str) -> tuple[ApprovalRequest, Ballot]:
    """A request and its ballot, or raise NotFound."""
    request = get_request(engine=engine, approval_id=approval_id)
    return request, ballots(engine=engine, requests=[request])[0]


def _judge(
    engine: Engine, approval_id: str, person: Person, rules: Rules, decision: Decision, now: datetime
) -> ApprovalRequest:
    """Load the request and apply the approval rule to it; returns the request when ``person`` may decide."""
    request, ballot = load_ballot(engine=engine, approval_id=approval_id)
    can_decide(person, ballot, rules, decision=decision, now=now).check()
    return request


def _explain_not_pending(session: Session, approval_id: str, now: datetime) -> SwitchboardError:
    request = session.get(ApprovalRequest, approval_id)
    if request is None:
        return Conflict(f"approval request {approval_id} does not exist")
    verdict = still_open(Ballot.of(request), now=now)
    return (
        Conflict(f"approval request {approval_id} changed meanwhile") if verdict.allowed else verdict.error()
    )


def approve(
    *,
    engine: Engine,
    approval_id: str,
    approver: str,
    role: str,
    four_eyes: bool = True,
    binding: str | None = None,
    now: datetime | None = None,
) -> tuple[ApprovalRequest, bool]:
    """Record an approve vote; returns the request and True when this vote completed the quorum.

    Only the one transaction that moves the request from pending to approved returns True, so only one caller
    ever goes on to execute it.

    Raises:
        Forbidden: wrong role, or four-eyes (the approval rule, ``can_decide``).
        Conflict: already decided, expired, already voted, or the binding does not match the request.
    """
    now = now or utcnow()
    person, rules = Person(approver, role), Rules(four_eyes)
    request = _judge(engine, approval_id, person, rules, "approve", now)
    if binding is not None and binding != request.binding:
        raise Conflict(
            f"approval request {approval_id} changed since it was shown; reload it before deciding"
        )
    try:
        with write_session(engine, durable=True) as session:
            # Each UPDATE returns the row as it leaves it: the caller gets it without reading it again.
            bumped: ApprovalRequest | None = (
                session.execute(
                    update(ApprovalRequest)
                    .where(ApprovalRequest.id == approval_id)  # type: ignore[arg-type]
                    .where(ApprovalRequest.status == ApprovalStatus.PENDING)  # type: ignore[arg-type]
                    .where(ApprovalRequest.expires_at > now)  # type: ignore[arg-type]
                    .values(approvals=ApprovalRequest.approvals + 1)
                    .returning(ApprovalRequest)
                    .execution_options(synchronize_session=False)
                )
                .scalars()
                .first()
            )
            if bumped is None:
                raise _explain_not_pending(session, approval_id, now)
            session.expunge(bumped)
            decided = bumped
            session.add(ApprovalVote(approval_id=approval_id, approver=approver, created_at=now))
            session.flush()
            # The counter moves with the vote rows, in their transaction (a second vote of the same approver fails
            # on the unique row and rolls its bump back), so the row just returned counts this vote too.
            votes = bumped.approvals
            completed = votes >= request.quorum
            events = [
                AuditEvent(
                    "approval.vote",
                    approver,
                    f"approval:{approval_id}",
                    {"votes": votes, "quorum": request.quorum},
                )
            ]
            if completed:
                decided = (
                    session.execute(
                        update(ApprovalRequest)
                        .where(ApprovalRequest.id == approval_id)  # type: ignore[arg-type]
                        .values(status=ApprovalStatus.APPROVED, decided_at=now, decided_by=approver)
                        .returning(ApprovalRequest)
                        .execution_options(synchronize_session=False)
                    )
                    .scalars()
                    .one()
                )
                session.expunge(decided)
                events.append(
                    AuditEvent(
                        "approval.approved",
                        approver,
                        f"approval:{approval_id}",
                        {"tool": request.tool, "binding": request.binding},
                    )
                )
            append_in(session, events)
    except IntegrityError:
        # The same approver's other tap won the unique vote row: the rule now says why this one cannot count.
        _judge(engine, approval_id, person, rules, "approve", now)
        raise Conflict(f"approval request {approval_id} changed meanwhile; try again") from None
    return decided, completed


def reject(
    *,
    engine: Engine,
    approval_id: str,
    approver: str,
    role: str,
    reason: str,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Reject a pending request with a reason (the requester may withdraw their own too)."""
    now = now or utcnow()
    request = _judge(engine, approval_id, Person(approver, role), Rules(), "reject", now)
    reason = reason.strip() or "no reason given"
    return _finish(
        engine,
        request,
        ApprovalStatus.REJECTED,
        actor=approver,
        reason=reason,
        now=now,
    )


def supersede(
    *, engine: Engine, approval_id: str, actor: str, new_id: str, now: datetime | None = None
) -> ApprovalRequest:
    """Close a request that was replaced by an edited one."""
    request = get_request(engine=engine, approval_id=approval_id)
    return _finish(
        engine,
        request,
        ApprovalStatus.SUPERSEDED,
        actor=actor,
        reason=f"edited as {new_id}",
        now=now or utcnow(),
    )


def _finish(
    engine: Engine,
    request: ApprovalRequest,
    status: ApprovalStatus,
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> ApprovalRequest:
    with write_session(engine, durable=True) as session:
        query = (
            update(ApprovalRequest)
            .where(ApprovalRequest.id == request.id)  # type: ignore[arg-type]
            .where(ApprovalRequest.status == ApprovalStatus.PENDING)  # type: ignore[arg-type]
            .where(ApprovalRequest.expires_at > now)  # type: ignore[arg-type]
        )
        changed = session.execute(
            query.values(status=status, decided_at=now, decided_by=actor, decision_reason=reason)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise _explain_not_pending(session, request.id, now)
        append_in(
            session,
            [AuditEvent(f"approval.{status.value}", actor, f"approval:{request.id}", {"reason": reason})],
        )
    return get_request(engine=engine, approval_id=request.id)


def mark_executed(
    *, engine: Engine, approval_id: str, run_id: int | None, ok: bool, error: str | None = None
) -> bool:
    """Approved → executed (or failed) once; returns False if it was already marked."""
    status = ApprovalStatus.EXECUTED if ok else ApprovalStatus.FAILED
    with write_session(engine, durable=True) as session:
        changed = session.execute(
            update(ApprovalRequest)
            .where(ApprovalRequest.id == approval_id)  # type: ignore[arg-type]
            .where(ApprovalRequest.status == ApprovalStatus.APPROVED)  # type: ignore[arg-type]
            .values(status=status, run_id=run_id)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        append_in(
            session,
            [
                AuditEvent(
                    f"approval.{status.value}",
                    "system",
                    f"approval:{approval_id}",
                    {"run_id": run_id, **({"error": error} if error else {})},
                )
            ],
        )
    return True


def list_requests(
    *,
    engine: Engine,
    status: ApprovalStatus | None = None,
    requester: str | None = None,
    limit: int = 100,
) -> list[ApprovalRequest]:
    """Requests, newest first."""
    with Session(engine) as session:
        query = select(ApprovalRequest)
        if status is not None:
            query = query.where(ApprovalRequest.status == status)  # type: ignore[arg-type]
        if requester is not None:
            query = query.where(ApprovalRequest.requester == requester)  # type: ignore[arg-type]
        return list(session.execute(query.order_by(ApprovalRequest.created_at.desc()).limit(limit)).scalars())  # type: ignore[attr-defined]
