"""The approval rule as a table: four-eyes on and off, quorum, editors, roles, inactive accounts, state.

The same table runs twice: through ``can_decide`` itself, and through the store's ``approve``/``reject`` on SQLite
and PostgreSQL, which must refuse with exactly the rule's verdict (as a 403 or 409 error) or accept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.engine import Engine

from core.errors import Conflict, Forbidden, SwitchboardError
from core.store import approval_ops
from core.store.approval_rule import (
    ALLOWED,
    Ballot,
    Decision,
    Person,
    RefusalCode,
    Rules,
    Verdict,
    can_decide,
    still_open,
)
from core.store.approvals import ApprovalRequest, ApprovalStatus

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
EXPIRY = timedelta(hours=24)
REQUESTER = "olive"

ann, bob, root = Person("ann", "approver"), Person("bob", "approver"), Person("root", "admin")
oscar, olive = Person("oscar", "operator"), Person("olive", "operator")
olive_approver = Person(
    "olive", "approver"
)  # a requester who is an approver too: four-eyes is what stops her


@dataclass(frozen=True)
class Case:
    """One row: who decides what, on which request, and the verdict (``{id}`` stands for the request id)."""

    user: Person
    decision: Decision = "approve"
    four_eyes: bool = True
    edited_by: str | None = None
    quorum: int = 1
    voters: tuple[str, ...] = ()
    rejected_by: str | None = None
    expired: bool = False
    code: RefusalCode | None = None
    message: str = ""

    def verdict(self, approval_id: str) -> Verdict:
        return Verdict(self.code, self.message.format(id=approval_id))


ROLE = "{name} has the {role} role; only approvers and admins can decide requests"
FOUR_EYES = "four-eyes rule: you cannot approve your own request; another approver must decide it"

CASES: dict[str, Case] = {
    # roles
    "approver approves": Case(ann),
    "admin approves": Case(root),
    "operator is refused": Case(oscar, code="role", message=ROLE.format(name="oscar", role="operator")),
    "inactive approver is refused": Case(
        Person("ann", "approver", active=False),
        code="inactive",
        message="ann's account is deactivated; an admin can reactivate it",
    ),
    "inactive comes before the role": Case(
        Person("oscar", "operator", active=False),
        code="inactive",
        message="oscar's account is deactivated; an admin can reactivate it",
    ),
    # four-eyes, requester and editor
    "requester, four-eyes on": Case(olive_approver, code="four_eyes", message=FOUR_EYES),
    "requester, four-eyes off": Case(olive_approver, four_eyes=False),
    "operator requester, four-eyes off, still needs the role": Case(
        olive, four_eyes=False, code="role", message=ROLE.format(name="olive", role="operator")
    ),
    "editor, four-eyes on": Case(ann, edited_by="ann", code="four_eyes", message=FOUR_EYES),
    "editor, four-eyes off": Case(ann, edited_by="ann", four_eyes=False),
    "someone else than the editor": Case(bob, edited_by="ann"),
    # quorum
    "second approver of two": Case(bob, quorum=2, voters=("ann",)),
    "the same approver again": Case(
        ann, quorum=2, voters=("ann",), code="already_voted", message="ann has already approved request {id}"
    ),
    "the same approver again, four-eyes off": Case(
        ann,
        quorum=3,
        voters=("ann", "olive"),
        four_eyes=False,
        code="already_voted",
        message="ann has already approved request {id}",
    ),
    "requester's own vote, four-eyes off": Case(olive_approver, quorum=2, voters=("ann",), four_eyes=False),
    # the request's state
    "already decided": Case(
        bob, rejected_by="ann", code="not_pending", message="approval request {id} is already rejected by ann"
    ),
    "expired": Case(
        bob,
        expired=True,
        code="expired",
        message=f"approval request {{id}} expired at {NOW + EXPIRY:%Y-%m-%d %H:%M} UTC",
    ),
    "the role comes before the state": Case(
        oscar, rejected_by="ann", code="role", message=ROLE.format(name="oscar", role="operator")
    ),
    "the state comes before four-eyes": Case(
        olive_approver,
        rejected_by="ann",
        code="not_pending",
        message="approval request {id} is already rejected by ann",
    ),
    # rejecting: the requester may withdraw, four-eyes does not apply, an earlier vote does not matter
    "requester withdraws": Case(olive, decision="reject"),
    "approver rejects her own request": Case(olive_approver, decision="reject"),
    "editor rejects": Case(ann, decision="reject", edited_by="ann"),
    "voter rejects": Case(ann, decision="reject", quorum=2, voters=("ann",)),
    "operator rejects someone else's": Case(
        oscar, decision="reject", code="role", message=ROLE.format(name="oscar", role="operator")
    ),
    "inactive requester cannot withdraw": Case(
        Person("olive", "operator", active=False),
        decision="reject",
        code="inactive",
        message="olive's account is deactivated; an admin can reactivate it",
    ),
    "withdrawing a decided request": Case(
        olive,
        decision="reject",
        rejected_by="ann",
        code="not_pending",
        message="approval request {id} is already rejected by ann",
    ),
}


def ballot_of(case: Case) -> Ballot:
    return Ballot(
        approval_id="apr_1",
        requester=REQUESTER,
        edited_by=case.edited_by,
        quorum=case.quorum,
        voters=frozenset(case.voters),
        status=ApprovalStatus.REJECTED if case.rejected_by else ApprovalStatus.PENDING,
        expires_at=NOW + EXPIRY,
        decided_by=case.rejected_by,
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_rule(case: Case) -> None:
    now = NOW + EXPIRY if case.expired else NOW
    verdict = can_decide(case.user, ballot_of(case), Rules(case.four_eyes), decision=case.decision, now=now)
    assert verdict == case.verdict("apr_1")
    assert verdict.allowed is (case.code is None)


def test_verdicts_raise_as_403_or_409() -> None:
    assert [type(Verdict(code, "m").error()) for code in ("inactive", "role", "four_eyes")] == [Forbidden] * 3
    assert [type(Verdict(code, "m").error()) for code in ("not_pending", "expired", "already_voted")] == [
        Conflict
    ] * 3
    ALLOWED.check()
    with pytest.raises(Forbidden, match="^four-eyes rule: "):
        Verdict("four_eyes", FOUR_EYES).check()


def test_votes_needed_counts_down_to_zero() -> None:
    case = Case(bob, quorum=3, voters=("ann", "cy"))
    assert ballot_of(case).votes_needed == 1
    assert ballot_of(Case(bob, quorum=1, voters=("ann", "cy"))).votes_needed == 0


# The store is told who decides by an interface that authenticated them, and deactivated accounts never
# authenticate (the CLI checks the stored user itself), so the store's table leaves the inactive rows out.
STORE_CASES = {name: case for name, case in CASES.items() if case.user.active}


def _prepare(engine: Engine, case: Case) -> str:
    """A stored request in the state ``case`` describes, made at ``NOW``, with its votes and decision."""
    request, _ = approval_ops.create_request(
        engine=engine,
        tool="pay",
        args={"account": "acme", "amount": 10},
        requester=REQUESTER,
        reasons=["external"],
        preview={},
        expiry=EXPIRY,
        quorum=case.quorum,
        edited_by=case.edited_by,
        now=NOW,
    )
    for voter in case.voters:
        approval_ops.approve(
            engine=engine, approval_id=request.id, approver=voter, role="approver", four_eyes=False, now=NOW
        )
    if case.rejected_by:
        approval_ops.reject(
            engine=engine,
            approval_id=request.id,
            approver=case.rejected_by,
            role="approver",
            reason="no",
            now=NOW,
        )
    return request.id


def _decide(engine: Engine, case: Case, approval_id: str) -> SwitchboardError | None:
    now = NOW + EXPIRY if case.expired else NOW
    try:
        if case.decision == "approve":
            approval_ops.approve(
                engine=engine,
                approval_id=approval_id,
                approver=case.user.name,
                role=case.user.role,
                four_eyes=case.four_eyes,
                now=now,
            )
        else:
            approval_ops.reject(
                engine=engine,
                approval_id=approval_id,
                approver=case.user.name,
                role=case.user.role,
                reason="not now",
                now=now,
            )
    except SwitchboardError as exc:
        return exc
    return None


@pytest.mark.parametrize("case", STORE_CASES.values(), ids=STORE_CASES.keys())
def test_the_store_follows_the_rule(any_engine: Engine, case: Case) -> None:
    approval_id = _prepare(any_engine, case)
    refused = _decide(any_engine, case, approval_id)
    expected = case.verdict(approval_id)
    if expected.allowed:
        assert refused is None
        request = approval_ops.get_request(engine=any_engine, approval_id=approval_id)
        if case.decision == "approve":
            assert request.approvals == len(case.voters) + 1
        else:
            assert (request.status, request.decided_by) == (ApprovalStatus.REJECTED, case.user.name)
    else:
        assert refused is not None
        assert (type(refused), refused.message) == (type(expected.error()), expected.message)


def test_a_completed_quorum_decides_once(any_engine: Engine) -> None:
    approval_id = _prepare(any_engine, Case(bob, quorum=2))
    first = approval_ops.approve(
        engine=any_engine, approval_id=approval_id, approver="ann", role="approver", now=NOW
    )
    second = approval_ops.approve(
        engine=any_engine, approval_id=approval_id, approver="bob", role="admin", now=NOW
    )
    assert [(r.status, r.approvals, done) for r, done in (first, second)] == [
        (ApprovalStatus.PENDING, 1, False),
        (ApprovalStatus.APPROVED, 2, True),
    ]
    [ballot] = approval_ops.ballots(engine=any_engine, requests=[second[0]])
    assert (ballot.voters, ballot.votes_needed, ballot.decided_by) == (frozenset({"ann", "bob"}), 0, "bob")


def test_a_ballot_keeps_its_expiry_as_an_instant() -> None:
    plus_two = timezone(timedelta(hours=2))
    stored = ApprovalRequest(
        id="apr_1", tool="pay", args={}, binding="b", requester=REQUESTER, reasons=[], preview={}, quorum=1
    )
    naive = Ballot.of(stored.model_copy(update={"expires_at": datetime(2026, 11, 22, 12, 0)}))
    zoned = Ballot.of(
        stored.model_copy(update={"expires_at": datetime(2026, 11, 22, 14, 0, tzinfo=plus_two)})
    )
    # SQLite hands back naive UTC; a zone that came with the value is kept as it is
    assert (naive.expires_at, naive.expires_at.tzinfo) == (NOW, UTC)
    assert (zoned.expires_at, zoned.expires_at.tzinfo) == (NOW, plus_two)


def test_a_closed_request_says_who_closed_it_only_when_someone_did() -> None:
    base = Ballot("apr_1", REQUESTER, None, 1, frozenset(), ApprovalStatus.REJECTED, NOW + EXPIRY)
    by_ann = Ballot("apr_1", REQUESTER, None, 1, frozenset(), ApprovalStatus.REJECTED, NOW + EXPIRY, "ann")
    assert [still_open(b, now=NOW).message for b in (base, by_ann)] == [
        "approval request apr_1 is already rejected",
        "approval request apr_1 is already rejected by ann",
    ]


def test_deciding_means_approving_unless_said_otherwise() -> None:
    ballot = Ballot("apr_1", REQUESTER, None, 1, frozenset(), ApprovalStatus.PENDING, NOW + EXPIRY)
    assert can_decide(Person(REQUESTER, "approver"), ballot, Rules(), now=NOW).code == "four_eyes"


def test_an_allowed_verdict_has_no_error() -> None:
    with pytest.raises(AssertionError, match="^an allowed verdict has no error$"):
        Verdict().error()
