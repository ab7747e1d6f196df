"""Audit: pages of records filtered by user, tool, event and time, and the chain and checkpoint verification.

Admins and approvers read every record; operators read the records they are the actor of.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import or_, select
from sqlmodel import Session

from console.deps import State, User
from console.schemas import AuditPage, AuditRecordOut, VerifyOut
from console.views import audit_data
from core.audit_keys import checkpoint_path, trusted_keys
from core.errors import BadInput, SwitchboardError
from core.store.audit import AuditLog, AuditRecord
from core.store.checkpoints import read_checkpoints, verify_log

router = APIRouter(prefix="/api/audit", tags=["audit"])
Name = Annotated[str | None, Query(max_length=100)]


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ts(value: datetime, name: str) -> str:
    try:
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    except (OverflowError, ValueError):
        raise BadInput(f"{name} is out of range") from None


@router.get("", response_model=AuditPage)
def audit_records(
    principal: User,
    state: State,
    user: Annotated[Name, Query(description="Only records by this actor.")] = None,
    tool: Annotated[Name, Query(description="Only records about this tool (calls, runs, approvals).")] = None,
    event: Annotated[Name, Query(description="Only events starting with this, e.g. 'approval.'.")] = None,
    since: Annotated[datetime | None, Query(description="From this time (ISO; UTC when no zone).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time.")] = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**62, description="Records older than this seq (paging).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """A page of records, newest first."""
    query = select(AuditRecord)
    if not principal.is_approver:
        query = query.where(AuditRecord.actor == principal.name)  # type: ignore[arg-type]
    if user:
        query = query.where(AuditRecord.actor == user)  # type: ignore[arg-type]
    if event:
        query = query.where(AuditRecord.event.like(_like(event) + "%", escape="\\"))  # type: ignore[attr-defined]
    if tool:
        pattern = _like(tool)
        query = query.where(
            or_(
                AuditRecord.subject == f"tool:{tool}",  # type: ignore[arg-type]
                AuditRecord.data.like(f'%"tool":"{pattern}"%', escape="\\"),  # type: ignore[attr-defined]
                AuditRecord.data.like(f'%"name":"{pattern}"%', escape="\\"),  # type: ignore[attr-defined]
            )
        )
    if since:
        query = query.where(AuditRecord.ts >= _ts(since, "since"))  # type: ignore[arg-type]
    if until:
        query = query.where(AuditRecord.ts < _ts(until, "until"))  # type: ignore[arg-type]
    if before:
        query = query.where(AuditRecord.seq < before)  # type: ignore[arg-type]
    with Session(state.sb.engine) as session:
        rows = list(session.execute(query.order_by(AuditRecord.seq.desc()).limit(limit + 1)).scalars())  # type: ignore[attr-defined]
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(
        records=[
            AuditRecordOut(
                seq=r.seq, ts=r.ts, actor=r.actor, event=r.event, subject=r.subject, data=audit_data(r)
            )
            for r in rows
        ],
        next_before=rows[-1].seq if more and rows else None,
    )


@router.get("/verify", response_model=VerifyOut)
def verify(_principal: User, state: State) -> VerifyOut:
    """Recompute the whole hash chain and hold it against the signed checkpoints; name what does not fit."""
    path = checkpoint_path(state.settings)
    if not path.is_file():
        result = AuditLog(state.sb.engine).verify()
        return VerifyOut(
            ok=result.ok,
            records=result.records,
            first_bad=result.first_bad,
            reason=result.reason,
            head=result.head,
        )
    try:
        outcome = verify_log(
            state.sb.engine, checkpoints=read_checkpoints(path), keys=trusted_keys(state.settings)
        )
    except SwitchboardError as exc:  # a damaged checkpoint file or key: the verdict, not an error page
        result = AuditLog(state.sb.engine).verify()
        return VerifyOut(
            ok=False,
            records=result.records,
            first_bad=None,
            reason=exc.message,
            head=result.head,
            checkpoints=exc.message,
        )
    chain, verdict = outcome.chain, outcome.checkpoints
    said = verdict.message if verdict is not None else None
    reason = chain.reason  # a broken chain is named first; else what the checkpoints found, if anything
    if chain.ok and verdict is not None and not verdict.ok:
        reason = said
    return VerifyOut(
        ok=reason is None,
        records=chain.records,
        first_bad=chain.first_bad,
        reason=reason,
        head=chain.head,
        checkpoints=said,
    )
