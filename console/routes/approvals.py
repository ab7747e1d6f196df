"""Approvals inbox: list requests, approve, reject with a reason, or edit the arguments.

Decisions go through the one ``ApprovalService`` the bot and the CLI use too, and both what a viewer is shown
(``can_decide``, ``blocked``) and what the store allows come from the one approval rule
(``core.store.approval_rule.can_decide``): role and four-eyes refusals are 403, already decided, expired or
already voted are 409, and execution happens exactly once whichever interface a decision comes from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Body, Path, Query

from console.deps import ConsoleState, Principal, State, User
from console.schemas import (
    ApprovalList,
    ApprovalOut,
    ApproveIn,
    DecisionResult,
    EditIn,
    PendingCount,
    RejectIn,
)
from console.views import approval_out
from core.errors import Conflict, Forbidden, SwitchboardError
from core.store import approval_ops as ops
from core.store.approvals import ApprovalRequest, ApprovalStatus

router = APIRouter(prefix="/api/approvals", tags=["approvals"])
ApprovalId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
StatusFilter = Literal[
    "pending", "approved", "rejected", "expired", "superseded", "executed", "failed", "all"
]
T = TypeVar("T")


def _requester_filter(principal: Principal) -> str | None:
    return None if principal.is_approver else principal.name


def _outs(state: ConsoleState, requests: list[ApprovalRequest], principal: Principal) -> list[ApprovalOut]:
    ballots = ops.ballots(engine=state.sb.engine, requests=requests)  # every request's votes in one query
    policy = state.sb.policy.config
    return [
        approval_out(request, principal, ballot=ballot, policy=policy)
        for request, ballot in zip(requests, ballots, strict=True)
    ]


def _out(state: ConsoleState, request: ApprovalRequest, principal: Principal) -> ApprovalOut:
    return _outs(state, [request], principal)[0]


def _load(state: ConsoleState, approval_id: str, principal: Principal) -> ApprovalRequest:
    request = ops.get_request(engine=state.sb.engine, approval_id=approval_id)
    if not principal.is_approver and request.requester != principal.name:
        raise Forbidden(f"approval request {approval_id} belongs to another user")
    return request


def _counted(state: ConsoleState, decision: str, action: Callable[[], T]) -> T:
    try:
        result = action()
    except Forbidden:
        state.metrics.approval_decisions.labels(decision, "forbidden").inc()
        raise
    except Conflict:
        state.metrics.approval_decisions.labels(decision, "conflict").inc()
        raise
    except SwitchboardError:
        state.metrics.approval_decisions.labels(decision, "error").inc()
        raise
    state.metrics.approval_decisions.labels(decision, "ok").inc()
    return result


@router.get("", response_model=ApprovalList)
def list_approvals(
    principal: User,
    state: State,
    status: StatusFilter = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ApprovalList:
    """Requests by status (approvers see all; operators their own); pending ones oldest first."""
    rows = ops.list_requests(
        engine=state.sb.engine,
        status=None if status == "all" else ApprovalStatus(status),
        requester=_requester_filter(principal),
        limit=limit,
    )
    if status == "pending":
        rows.sort(key=lambda r: r.created_at)
    return ApprovalList(approvals=_outs(state, rows, principal))


@router.get("/count", response_model=PendingCount)
def pending_count(principal: User, state: State) -> PendingCount:
    """How many requests are pending (the inbox badge)."""
    rows = ops.list_requests(
        engine=state.sb.engine,
        status=ApprovalStatus.PENDING,
        requester=_requester_filter(principal),
        limit=1000,
    )
    return PendingCount(pending=len(rows))


@router.get("/{approval_id}", response_model=ApprovalOut)
def get_approval(approval_id: ApprovalId, principal: User, state: State) -> ApprovalOut:
    """One request with its preview."""
    return _out(state, _load(state, approval_id, principal), principal)


@router.post(
    "/{approval_id}/approve",
    response_model=DecisionResult,
    responses={
        403: {"description": "Four-eyes rule or missing role."},
        409: {"description": "Already decided, expired, or changed since shown."},
    },
)
def approve(
    approval_id: ApprovalId, principal: User, state: State, body: Annotated[ApproveIn | None, Body()] = None
) -> DecisionResult:
    """Approve; when the quorum is complete the action runs once and the requester is told."""
    outcome = _counted(
        state,
        "approve",
        lambda: state.sb.approvals.approve(
            approval_id, approver=principal.name, role=principal.role, binding=body.binding if body else None
        ),
    )
    return DecisionResult(
        approval=_out(state, outcome.request, principal),
        executed=outcome.executed,
        run_id=outcome.run_id,
        text=outcome.text,
    )


@router.post(
    "/{approval_id}/reject",
    response_model=DecisionResult,
    responses={403: {"description": "Missing role."}, 409: {"description": "Already decided or expired."}},
)
def reject(approval_id: ApprovalId, body: RejectIn, principal: User, state: State) -> DecisionResult:
    """Reject with a reason that goes back to the requester's thread (requesters may withdraw their own)."""
    outcome = _counted(
        state,
        "reject",
        lambda: state.sb.approvals.reject(
            approval_id, approver=principal.name, role=principal.role, reason=body.reason
        ),
    )
    return DecisionResult(
        approval=_out(state, outcome.request, principal), executed=False, run_id=None, text=outcome.text
    )


@router.post(
    "/{approval_id}/edit",
    response_model=ApprovalOut,
    responses={
        403: {"description": "Neither an approver nor the requester."},
        409: {"description": "Already decided or expired."},
    },
)
def edit(approval_id: ApprovalId, body: EditIn, principal: User, state: State) -> ApprovalOut:
    """Replace the arguments: the old request is superseded by a new one that needs approval again."""
    request = _load(state, approval_id, principal)
    if not principal.is_approver and request.requester != principal.name:
        raise Forbidden(f"{principal.name} may not edit request {approval_id}")
    new = _counted(
        state,
        "edit",
        lambda: state.sb.approvals.edit(
            approval_id, editor=principal.name, role=principal.role, args=body.args
        ),
    )
    return _out(state, new, principal)
