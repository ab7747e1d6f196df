"""The one rule for who may decide an approval request, as a pure function every interface calls.

``can_decide`` answers "may this person approve (or reject) this request now?" from plain facts: the person's
name, role and whether their account is active; the request's requester, editor, quorum, votes, status and
expiry; and whether the four-eyes rule is on. It returns a ``Verdict`` with a stable code and a user-safe message
instead of raising, so the store raises it, the console shows it as a note and the bot answers a tap in its own
words. The store stays the authority: its conditional ``UPDATE`` repeats the status and expiry check atomically,
because another approver can decide the request between this check and the write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from core.errors import Conflict, Forbidden, SwitchboardError
from core.store.approvals import ApprovalRequest, ApprovalStatus
from core.store.db import utcnow
from core.vocabulary import APPROVER_ROLES

Decision = Literal["approve", "reject"]
RefusalCode = Literal["inactive", "role", "not_pending", "expired", "four_eyes", "already_voted"]

# Refusals about the request's state are conflicts (anyone would get them); the others are about the person.
_CONFLICTS: frozenset[RefusalCode] = frozenset({"not_pending", "expired", "already_voted"})


class Decider(Protocol):
    """Who wants to decide: a stored ``User``, the console's ``Principal`` or a ``Person`` all fit."""

    @property
    def name(self) -> str:
        """The user name."""

    @property
    def role(self) -> str:
        """operator, approver or admin."""

    @property
    def active(self) -> bool:
        """False once an admin deactivated the account."""


class RulePolicy(Protocol):
    """The policy setting the rule reads (the agent's ``PolicyConfig`` fits)."""

    @property
    def four_eyes(self) -> bool:
        """Nobody approves a request they made or edited."""


@dataclass(frozen=True)
class Person:
    """A ``Decider`` from plain values, for callers that hold only a name and a role."""

    name: str
    role: str
    active: bool = True


@dataclass(frozen=True)
class Rules:
    """A ``RulePolicy`` from a plain value."""

    four_eyes: bool = True


@dataclass(frozen=True)
class Ballot:
    """A request as the rule sees it: who asked and edited, who has voted, how many votes it needs, its state."""

    approval_id: str
    requester: str
    edited_by: str | None
    quorum: int
    voters: frozenset[str]
    status: ApprovalStatus
    expires_at: datetime
    decided_by: str | None = None

    @classmethod
    def of(cls, request: ApprovalRequest, voters: Iterable[str] = ()) -> Ballot:
        """The ballot of a stored request and the names of those who voted to approve it."""
        expires = request.expires_at
        return cls(
            approval_id=request.id,
            requester=request.requester,
            edited_by=request.edited_by,
            quorum=request.quorum,
            voters=frozenset(voters),
            status=request.status,
            expires_at=expires if expires.tzinfo else expires.replace(tzinfo=UTC),  # SQLite drops the zone
            decided_by=request.decided_by,
        )

    @property
    def votes_needed(self) -> int:
        """Approve votes still missing before the request runs."""
        return max(self.quorum - len(self.voters), 0)


@dataclass(frozen=True)
class Verdict:
    """Allowed (no code), or why not: a stable ``code`` for interfaces to word their own way, and a message."""

    code: RefusalCode | None = None
    message: str = ""

    @property
    def allowed(self) -> bool:
        """True when the person may decide."""
        return self.code is None

    def error(self) -> SwitchboardError:
        """The refusal as the domain error the store raises (409 for the request's state, else 403)."""
        assert self.code is not None, "an allowed verdict has no error"
        return Conflict(self.message) if self.code in _CONFLICTS else Forbidden(self.message)

    def check(self) -> None:
        """Raise the refusal, if any.

        Raises:
            Forbidden: inactive account, missing role, or four-eyes.
            Conflict: already decided, expired, or already voted.
        """
        if self.code is not None:
            raise self.error()


ALLOWED = Verdict()


def still_open(request: Ballot, *, now: datetime | None = None) -> Verdict:
    """Whether anybody may still decide ``request``: it is pending and has not expired."""
    if request.status != ApprovalStatus.PENDING:
        who = f" by {request.decided_by}" if request.decided_by else ""
        return Verdict(
            "not_pending", f"approval request {request.approval_id} is already {request.status.value}{who}"
        )
    if request.expires_at <= (now or utcnow()):
        return Verdict(
            "expired",
            f"approval request {request.approval_id} expired at {request.expires_at:%Y-%m-%d %H:%M} UTC",
        )
    return ALLOWED


def can_decide(
    user: Decider,
    request: Ballot,
    policy: RulePolicy,
    *,
    decision: Decision = "approve",
    now: datetime | None = None,
) -> Verdict:
    """May ``user`` approve (or reject) ``request`` now?

    Approving needs an active account with the approver or admin role, a pending unexpired request, a first vote
    from this person and, under four-eyes, someone other than the requester and whoever edited the arguments.
    Rejecting needs the same role, except that requesters may always withdraw their own request; four-eyes does
    not apply to a rejection.

    Args:
        user: Who wants to decide.
        request: The request with the names of those who already voted to approve it.
        policy: Whether the four-eyes rule is on.
        decision: approve or reject.
        now: The time to judge expiry by (defaults to now).

    Returns:
        ``ALLOWED``, or the first reason why not: the person's account and role come first, then the request's
        state, then four-eyes and an earlier vote.
    """
    if not user.active:
        return Verdict("inactive", f"{user.name}'s account is deactivated; an admin can reactivate it")
    withdrawing = decision == "reject" and user.name == request.requester
    if not withdrawing and user.role not in APPROVER_ROLES:
        return Verdict(
            "role", f"{user.name} has the {user.role} role; only approvers and admins can decide requests"
        )
    state = still_open(request, now=now)
    if not state.allowed or decision == "reject":
        return state
    if policy.four_eyes and user.name in (request.requester, request.edited_by):
        return Verdict(
            "four_eyes",
            "four-eyes rule: you cannot approve your own request; another approver must decide it",
        )
    if user.name in request.voters:
        return Verdict("already_voted", f"{user.name} has already approved request {request.approval_id}")
    return ALLOWED
