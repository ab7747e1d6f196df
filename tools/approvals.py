"""Approval tools: what is waiting for a decision."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from core.store.approvals import ApprovalRequest, ApprovalStatus
from core.store.audit import canonical_json
from tools.base import NoArgs, Table, ToolContext, ToolResult, ToolSpec


def _list_pending(ctx: ToolContext, _args: NoArgs) -> ToolResult:
    with Session(ctx.engine) as session:
        rows = list(
            session.execute(
                select(ApprovalRequest)
                .where(ApprovalRequest.status == ApprovalStatus.PENDING)  # type: ignore[arg-type]
                .order_by(ApprovalRequest.created_at)  # type: ignore[arg-type]
            ).scalars()
        )
    table = Table(
        title="Pending approvals",
        columns=["id", "tool", "args", "requested_by", "reasons", "expires"],
        rows=[
            [
                r.id,
                r.tool,
                canonical_json(r.args),
                r.requester,
                "; ".join(r.reasons),
                r.expires_at.strftime("%Y-%m-%d %H:%M"),
            ]
            for r in rows
        ],
    )
    summary = f"{len(rows)} request(s) waiting for approval." if rows else "Nothing is waiting for approval."
    return ToolResult(summary=summary, table=table, data={"count": len(rows)})


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name="list_pending_approvals",
        description="List the actions waiting for an approver's decision, with who asked, what and until when.",
        args_model=NoArgs,
        risk="read",
        func=_list_pending,
    ),
)
