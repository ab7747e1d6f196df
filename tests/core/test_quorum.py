"""A quorum of N approvers: the request stays pending until the N-th distinct vote, which alone completes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from core.errors import Conflict
from core.store import approval_ops
from core.store.approvals import ApprovalStatus

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
APPROVERS = ["ann", "bob", "cy", "dee"]


@pytest.mark.parametrize("quorum", [1, 2, 3])
def test_only_the_quorums_last_vote_approves(any_engine: Engine, quorum: int) -> None:
    request, _ = approval_ops.create_request(
        engine=any_engine,
        tool="pay",
        args={"account": "acme", "amount": 10},
        requester="olive",
        reasons=["external"],
        preview={},
        expiry=timedelta(hours=24),
        quorum=quorum,
        now=NOW,
    )
    seen = []
    for approver in APPROVERS[:quorum]:
        after, completed = approval_ops.approve(
            engine=any_engine, approval_id=request.id, approver=approver, role="approver", now=NOW
        )
        seen.append((after.status, completed))

    assert seen == [(ApprovalStatus.PENDING, False)] * (quorum - 1) + [(ApprovalStatus.APPROVED, True)]
    with pytest.raises(Conflict, match=r"is already approved"):
        approval_ops.approve(
            engine=any_engine, approval_id=request.id, approver=APPROVERS[quorum], role="approver", now=NOW
        )
