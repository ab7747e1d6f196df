"""Candidate training examples: a person's correction of the agent, waiting for an admin's review.

A candidate is made where the correction happens (a "no" to a confirmation, a "Did you mean" pick other than the
first, an approver's edit or a rejection with a reason), always together with its ``model.correction`` audit
record. An admin accepts it (as the person meant it), fixes it (another tool, other arguments or words) or discards
it. Only accepted and fixed candidates ever reach the reviewed training file (``agent.modelops.reviewed``);
``reviewed_version`` names the first version that held one.

Text, context and arguments are stored already redacted by the audit log's rules: the callers redact them.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, false, select
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col

from core.errors import Conflict, NotFound
from core.store.db import utcnow


class CandidateStatus(enum.StrEnum):
    """Where a candidate is in its review."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    FIXED = "fixed"
    DISCARDED = "discarded"


REVIEWED = (CandidateStatus.ACCEPTED, CandidateStatus.FIXED)  # the statuses that go into the training file


def new_candidate_id() -> str:
    """A short random id (12 hex digits), easy to type in ``switchboard examples accept``."""
    return uuid.uuid4().hex[:12]


class TrainingCandidateBase(SQLModel):
    """What a correction says: the words, what the agent chose and what the person meant.

    Attributes:
        user: Who made the correction.
        channel: Where (console, telegram, cli, chat, api).
        kind: What they did (``agent.modelops.events.CorrectionKind``).
        text: The message the agent decided on (redacted).
        context: The thread's earlier user messages, oldest first (redacted).
        chose_tool: The tool the agent chose.
        chose_args: Its arguments (redacted).
        confidence: The agent's confidence in ``chose_tool``.
        meant_tool: The tool the person meant, when known.
        meant_args: The arguments they meant, when known (redacted).
        reason: What the person said about it (a rejection's reason), redacted.
    """

    user: str = Field(index=True)
    channel: str
    kind: str
    text: str = ""
    context: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    chose_tool: str | None = None
    chose_args: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    confidence: float | None = None
    meant_tool: str | None = None
    meant_args: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    reason: str | None = None


class TrainingCandidateCreate(TrainingCandidateBase):
    """A new candidate, as the capture service makes it."""


class TrainingCandidate(TrainingCandidateBase, table=True):
    """One candidate example and its review."""

    __tablename__ = "training_candidate"

    id: str = Field(default_factory=new_candidate_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    status: str = Field(default=CandidateStatus.PENDING.value, index=True)
    out_of_scope: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    note: str | None = None
    reviewed_version: int | None = None


class TrainingCandidatePublic(TrainingCandidateBase):
    """A candidate as the review queue shows it."""

    id: str
    created_at: datetime
    status: str
    out_of_scope: bool
    reviewed_by: str | None
    reviewed_at: datetime | None
    note: str | None
    reviewed_version: int | None


def add_in(
    session: Session, candidate: TrainingCandidateCreate, *, candidate_id: str | None = None
) -> TrainingCandidate | None:
    """Store a new pending candidate inside the caller's transaction (its audit record goes in the same one).

    With a ``candidate_id`` that is already stored, nothing is written and None is returned: a correction seen
    twice (a turn replayed after a crash) stays one candidate. A racing insert of the same id fails on the key.
    """
    if candidate_id is not None and session.get(TrainingCandidate, candidate_id) is not None:
        return None
    update = {"id": candidate_id} if candidate_id is not None else None
    row = TrainingCandidate.model_validate(candidate, update=update)
    session.add(row)
    session.flush()
    return row


def get_candidate(*, engine: Engine, candidate_id: str) -> TrainingCandidate:
    """Load a candidate or raise NotFound."""
    with Session(engine) as session:
        row = session.get(TrainingCandidate, candidate_id)
    if row is None:
        raise NotFound(f"no candidate example {candidate_id!r}")
    return row


def pending_in(session: Session, candidate_id: str) -> TrainingCandidate:
    """A candidate still waiting for review, locked for the caller's transaction.

    Raises:
        NotFound: No such candidate.
        Conflict: It was reviewed already.
    """
    row: TrainingCandidate | None = session.execute(
        select(TrainingCandidate).where(col(TrainingCandidate.id) == candidate_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no candidate example {candidate_id!r}")
    if row.status != CandidateStatus.PENDING:
        raise Conflict(f"candidate example {candidate_id} is already {row.status}")
    return row


def list_candidates(
    *, engine: Engine, status: CandidateStatus | None = CandidateStatus.PENDING, limit: int = 200
) -> list[TrainingCandidate]:
    """Candidates by status (all when None), oldest first."""
    query = select(TrainingCandidate).order_by(col(TrainingCandidate.created_at), col(TrainingCandidate.id))
    if status is not None:
        query = query.where(col(TrainingCandidate.status) == status.value)
    with Session(engine) as session:
        return list(session.execute(query.limit(limit)).scalars())


def reviewed_in(session: Session) -> list[TrainingCandidate]:
    """Every accepted or fixed candidate, in the order they were reviewed."""
    query = (
        select(TrainingCandidate)
        .where(col(TrainingCandidate.status).in_([s.value for s in REVIEWED]))
        .order_by(col(TrainingCandidate.reviewed_at), col(TrainingCandidate.id))
    )
    return list(session.execute(query).scalars())
