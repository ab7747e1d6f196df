"""The admin's review of candidate examples: accept, fix or discard; accepted ones go to the reviewed file.

Accepting or fixing a candidate writes the next version of the reviewed file (``agent.modelops.reviewed``) with
every accepted and fixed example so far, in the same transaction as the candidate's new status and its audit
record (``example.accepted``, ``example.fixed``); discarding (``example.discarded``) writes no file. Nothing that
was not reviewed ever reaches the file. The tool must be one the registry knows and the arguments must fit its
arguments model; a candidate whose meant tool is unknown (a "no") is fixed with a tool first, or accepted as out of
scope on purpose. Only admins review.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agent.modelops.corrections import clean
from agent.modelops.reviewed import ReviewedExample, ReviewedSet, write_next
from core.errors import BadInput, Forbidden, NotFound
from core.redaction import scrub
from core.store.audit import AuditEvent, append_in
from core.store.db import utcnow, write_session
from core.store.training_candidates import (
    CandidateStatus,
    TrainingCandidate,
    TrainingCandidatePublic,
    list_candidates,
    pending_in,
    reviewed_in,
)
from tools.bound import BoundCall
from tools.registry import Registry

REVIEWER_ROLES = ("admin",)
TRAINING_DIR = "training"  # under the settings' var_dir


def training_dir(var_dir: Path) -> Path:
    """Where the reviewed files live."""
    return var_dir / TRAINING_DIR


@dataclass(frozen=True)
class Reviewer:
    """Who reviews: a user name and their role (only admins may)."""

    name: str
    role: str

    def check(self) -> None:
        """Raise Forbidden unless the reviewer is an admin."""
        if self.role not in REVIEWER_ROLES:
            raise Forbidden(f"{self.name} has the {self.role} role; reviewing training examples needs admin")


@dataclass(frozen=True)
class Meant:
    """What a reviewer says the example is: a tool and its arguments, or out of scope; optionally new words."""

    tool: str | None = None
    args: Mapping[str, Any] | None = None
    text: str | None = None
    out_of_scope: bool = False


@dataclass(frozen=True)
class Reviewed:
    """The outcome of a review: the candidate as stored now, and the version written (None for a discard)."""

    candidate: TrainingCandidatePublic
    version: ReviewedSet | None = None


@dataclass(frozen=True)
class Review:
    """The review queue over one database, tool registry and training folder."""

    engine: Engine
    registry: Registry
    directory: Path

    def pending(self, *, limit: int = 200) -> list[TrainingCandidatePublic]:
        """Candidates waiting for review, oldest first."""
        return self.candidates(status=CandidateStatus.PENDING, limit=limit)

    def candidates(
        self, *, status: CandidateStatus | None, limit: int = 200
    ) -> list[TrainingCandidatePublic]:
        """Candidates by status (every status when None), oldest first."""
        rows = list_candidates(engine=self.engine, status=status, limit=limit)
        return [TrainingCandidatePublic.model_validate(row) for row in rows]

    def accept(self, *, candidate_id: str, reviewer: Reviewer, meant: Meant | None = None) -> Reviewed:
        """Accept a candidate as the person meant it (or with the tool and arguments given), writing a new version.

        Raises:
            Forbidden: The reviewer is not an admin.
            NotFound: No such candidate.
            Conflict: It was reviewed already.
            BadInput: The tool is unknown (a "no" must be fixed with a tool or marked out of scope), or the
                arguments do not fit it; nothing is written.
        """
        return self._keep(candidate_id, reviewer, meant or Meant(), CandidateStatus.ACCEPTED)

    def fix(self, *, candidate_id: str, reviewer: Reviewer, meant: Meant) -> Reviewed:
        """Change the tool, arguments or words of a candidate and keep it, writing a new version (see ``accept``)."""
        return self._keep(candidate_id, reviewer, meant, CandidateStatus.FIXED)

    def discard(self, *, candidate_id: str, reviewer: Reviewer, note: str | None = None) -> Reviewed:
        """Discard a candidate: it never reaches training.

        Raises:
            Forbidden: The reviewer is not an admin.
            NotFound: No such candidate.
            Conflict: It was reviewed already.
        """
        reviewer.check()
        with write_session(self.engine) as session:
            row = pending_in(session, candidate_id)
            row.status = CandidateStatus.DISCARDED.value
            row.reviewed_by, row.reviewed_at = reviewer.name, utcnow()
            row.note = scrub(note.strip()) if note and note.strip() else None
            data = {"candidate": row.id, "note": row.note}
            append_in(session, [AuditEvent("example.discarded", reviewer.name, f"example:{row.id}", data)])
            session.flush()
            return Reviewed(TrainingCandidatePublic.model_validate(row))

    def _keep(self, candidate_id: str, reviewer: Reviewer, meant: Meant, status: CandidateStatus) -> Reviewed:
        reviewer.check()
        written: list[Path] = []
        try:
            with write_session(self.engine) as session:
                _serialise(session)
                row = pending_in(session, candidate_id)
                tool, args = self._meant(row, meant)
                text = scrub(meant.text.strip()) if meant.text and meant.text.strip() else row.text
                if not text:
                    raise BadInput(
                        f"candidate example {row.id} has no words to learn from: fix it with the message's text"
                    )
                row.meant_tool, row.meant_args, row.text = tool, args, text
                row.out_of_scope = tool is None
                row.status = status.value
                row.reviewed_by, row.reviewed_at = reviewer.name, utcnow()
                session.flush()
                kept = reviewed_in(session)
                version = write_next(self.directory, [_example(r) for r in kept])
                written.extend([version.path] if version.path is not None else [])
                for example in kept:
                    if example.reviewed_version is None:
                        example.reviewed_version = version.version
                data = {
                    "candidate": row.id,
                    "tool": tool,
                    "version": version.version,
                    "sha256": version.sha256,
                }
                event = AuditEvent(f"example.{status.value}", reviewer.name, f"example:{row.id}", data)
                append_in(session, [event])
                session.flush()
                outcome = Reviewed(TrainingCandidatePublic.model_validate(row), version)
        except BaseException:
            # The review was not committed: the version written for it must not outlive it.
            for path in written:
                path.unlink(missing_ok=True)
            raise
        return outcome

    def _meant(self, row: TrainingCandidate, meant: Meant) -> tuple[str | None, dict[str, Any]]:
        """The tool and canonical arguments the example is kept with, validated against the registry."""
        if meant.out_of_scope:
            if meant.tool:
                raise BadInput("give a tool or mark the example out of scope, not both")
            return None, {}
        tool = meant.tool or row.meant_tool
        if not tool:
            raise BadInput(
                f"candidate example {row.id}: the tool the person meant is unknown; fix it with a tool, "
                "or accept it as out of scope"
            )
        try:
            self.registry.get_tool(tool)
        except NotFound as exc:
            raise BadInput(f"candidate example {row.id}: {exc.message}; nothing was written") from None
        if meant.args is not None:
            raw: Mapping[str, Any] = meant.args
        elif tool == row.meant_tool and row.meant_args is not None:
            raw = row.meant_args
        elif tool == row.chose_tool:
            raw = row.chose_args
        else:
            raw = {}
        try:
            parsed = self.registry.parse_args(tool, raw)
        except BadInput as exc:
            raise BadInput(f"candidate example {row.id}: {exc.message}; nothing was written") from None
        return tool, clean(BoundCall.of(tool, parsed).canonical)


def _example(row: TrainingCandidate) -> ReviewedExample:
    if row.reviewed_by is None or row.reviewed_at is None:
        raise RuntimeError(f"candidate {row.id} is {row.status} but was never reviewed")
    return ReviewedExample(
        id=row.id,
        text=row.text,
        tool=row.meant_tool,
        args=dict(row.meant_args or {}),
        context=list(row.context),
        source=row.kind,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
    )


def _serialise(session: Session) -> None:
    """Reviews that write a version take turns, so each version holds every example kept before it.

    SQLite's write transaction is already exclusive; PostgreSQL takes a transaction-scoped advisory lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.sha256(b"switchboard reviewed examples").digest()[:8], "big", signed=True
        )
        session.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
