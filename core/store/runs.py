"""The run store: every flow or tool execution is a Run with a status, attempts, timings and an audit trail.

Status moves Pending → Running → Succeeded | Partial | Failed; a failed run whose attempts are used up goes to
DeadLettered. Partial is a flow run that finished with some steps failed and others succeeded: never "succeeded",
and listed with the failed runs (``FAILED_STATUSES``).
A unique idempotency key makes a repeated request return the earlier run instead of executing again.
"""

from __future__ import annotations

import builtins
import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from core.errors import Conflict, NotFound
from core.store.audit import AuditEvent, append_in
from core.store.db import utcnow, write_session
from core.text import MESSAGE_LIMIT, clip


class RunStatus(enum.StrEnum):
    """Lifecycle states of a run."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"


# What "failed runs" means to every interface (CLI --failed, console filter, chat, alerts): something went wrong,
# including a flow that finished with some of its steps failed.
FAILED_STATUSES = (RunStatus.FAILED, RunStatus.PARTIAL, RunStatus.DEAD_LETTERED)


class Run(SQLModel, table=True):
    """One execution of a tool or a named flow."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, description="Tool or flow name.")
    kind: str = Field(default="tool", description="tool, flow or step.")
    status: RunStatus = Field(default=RunStatus.PENDING, index=True)
    attempt: int = 1
    max_attempts: int = 3
    parent_id: int | None = Field(default=None, index=True, description="The run this one retries.")
    pipeline_run_id: int | None = Field(
        default=None, index=True, description="The flow run this step is part of."
    )
    idempotency_key: str | None = Field(default=None, unique=True)
    actor: str = "system"
    inputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    output: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    versions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    error: str | None = None
    error_code: str | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def duration_ms(self) -> float | None:
        """Wall time of the run, when it has finished."""
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds() * 1000
        return None


class RunStore:
    """Creates runs and moves them through their states, auditing every transition."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find_by_key(self, key: str) -> Run | None:
        """The run created with this idempotency key, if any."""
        with Session(self.engine) as session:
            return session.execute(select(Run).where(col(Run.idempotency_key) == key)).scalar_one_or_none()  # type: ignore[no-any-return, unused-ignore]

    def create(
        self,
        *,
        name: str,
        actor: str,
        inputs: dict[str, Any],
        kind: str = "tool",
        idempotency_key: str | None = None,
        max_attempts: int = 3,
        parent_id: int | None = None,
        pipeline_run_id: int | None = None,
        attempt: int = 1,
        versions: dict[str, Any] | None = None,
        started: bool = False,
    ) -> tuple[Run, bool]:
        """Create a pending run, or return the existing one for the same idempotency key.

        With ``started`` the run is created running, as ``start`` would leave it, in the same transaction (a call that
        runs at once); its audit records are the same two, ``run.created`` then ``run.running``.

        Returns:
            The run and True when it was created now, False when it already existed.
        """
        run = Run(
            name=name,
            kind=kind,
            actor=actor,
            inputs=inputs,
            idempotency_key=idempotency_key,
            max_attempts=max_attempts,
            parent_id=parent_id,
            pipeline_run_id=pipeline_run_id,
            attempt=attempt,
            versions=versions or {},
        )
        if started:
            run.status, run.started_at = RunStatus.RUNNING, utcnow()
        try:
            with write_session(self.engine) as session:
                # INSERT … RETURNING: the row as stored (ids, types) without a read after the write.
                values = run.model_dump(exclude={"id"})
                run = session.execute(insert(Run).values(**values).returning(Run)).scalars().one()
                created = {
                    "name": name,
                    "kind": kind,
                    "inputs": inputs,
                    "attempt": attempt,
                    "parent_id": parent_id,
                    "versions": versions or {},
                }
                events = [AuditEvent("run.created", actor, f"run:{run.id}", created)]
                if started:
                    events.append(AuditEvent("run.running", actor, f"run:{run.id}", _status_audit(run)))
                append_in(session, events)
                session.expunge(run)
                return run, True
        except IntegrityError:
            if idempotency_key is None:
                raise
            existing = self.find_by_key(idempotency_key)
            if existing is None:
                raise
            return existing, False

    def _transition(
        self,
        run_id: int,
        status: RunStatus,
        *,
        allowed: tuple[RunStatus, ...],
        event: str | None = None,
        **changes: Any,
    ) -> Run:
        values = {"status": status, **changes}
        with write_session(self.engine) as session:
            # The allowed states sit in the UPDATE's WHERE and the row comes back from it: one round trip, and
            # two racing transitions cannot both pass the check.
            query = (
                update(Run)
                .where(col(Run.id) == run_id, col(Run.status).in_(allowed))
                .values(**values)
                .returning(Run)
                .execution_options(synchronize_session=False)
            )
            run: Run | None = session.execute(query).scalars().first()
            if run is None:
                current = session.get(Run, run_id)
                if current is None:
                    raise NotFound(f"run {run_id} does not exist", run_id=run_id)
                raise Conflict(
                    f"run {run_id} is {current.status.value}, cannot become {status.value}", run_id=run_id
                )
            name = event or f"run.{status.value}"
            append_in(session, [AuditEvent(name, run.actor, f"run:{run_id}", _status_audit(run))])
            session.expunge(run)
            return run

    def start(self, run_id: int) -> Run:
        """Pending → Running."""
        return self._transition(run_id, RunStatus.RUNNING, allowed=(RunStatus.PENDING,), started_at=utcnow())

    def resume(self, run_id: int) -> Run:
        """Pending or Running → Running again: the workflow that owns the run re-runs it after a crash."""
        return self._transition(
            run_id,
            RunStatus.RUNNING,
            allowed=(RunStatus.PENDING, RunStatus.RUNNING),
            event="run.resumed",
        )

    def succeed(self, run_id: int, output: dict[str, Any]) -> Run:
        """Running → Succeeded with a summary of outputs."""
        return self._transition(
            run_id, RunStatus.SUCCEEDED, allowed=(RunStatus.RUNNING,), output=output, finished_at=utcnow()
        )

    def partial(self, run_id: int, output: dict[str, Any], *, error: str) -> Run:
        """Running → Partial: the run finished, but some of its parts (a flow's steps) failed.

        Args:
            run_id: The run.
            output: A summary of outputs, as for ``succeed``.
            error: What failed, e.g. "step 3 (send_notification) failed: ..."; clipped to
                ``core.text.MESSAGE_LIMIT`` characters.
        """
        return self._transition(
            run_id,
            RunStatus.PARTIAL,
            allowed=(RunStatus.RUNNING,),
            output=output,
            error=clip(error, MESSAGE_LIMIT),
            error_code="partial",
            finished_at=utcnow(),
        )

    def fail(self, run_id: int, *, error: str, code: str = "error", final: bool = False) -> Run:
        """Running → Failed, or DeadLettered when this was the last allowed attempt (or ``final`` says so).

        ``error`` is kept (and audited) clipped to ``core.text.MESSAGE_LIMIT`` characters.
        """
        with Session(self.engine) as session:
            run = session.get(Run, run_id)
            last = final or (run is not None and run.attempt >= run.max_attempts)
        status = RunStatus.DEAD_LETTERED if last else RunStatus.FAILED
        return self._transition(
            run_id,
            status,
            allowed=(RunStatus.RUNNING, RunStatus.PENDING),
            error=clip(error, MESSAGE_LIMIT),
            error_code=code,
            finished_at=utcnow(),
        )

    def get(self, run_id: int) -> Run:
        """Load a run or raise NotFound."""
        with Session(self.engine) as session:
            run = session.get(Run, run_id)
            if run is None:
                raise NotFound(f"run {run_id} does not exist", run_id=run_id)
            return run

    def latest(self, *, name: str | None = None) -> Run | None:
        """The most recent top-level run, optionally of one tool or flow."""
        with Session(self.engine) as session:
            query = select(Run).where(col(Run.pipeline_run_id).is_(None))
            if name:
                query = query.where(col(Run.name) == name)
            found: Run | None = session.execute(
                query.order_by(col(Run.id).desc()).limit(1)
            ).scalar_one_or_none()
            return found

    def list(
        self,
        *,
        statuses: tuple[RunStatus, ...] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        name: str | None = None,
        include_steps: bool = False,
        limit: int = 50,
    ) -> list[Run]:
        """Runs, newest first, filtered by status, time and name."""
        with Session(self.engine) as session:
            query = select(Run)
            if statuses:
                query = query.where(col(Run.status).in_(statuses))
            if since:
                query = query.where(col(Run.created_at) >= since)
            if until:
                query = query.where(col(Run.created_at) < until)
            if name:
                query = query.where(col(Run.name) == name)
            if not include_steps:
                query = query.where(col(Run.pipeline_run_id).is_(None))
            return list(session.execute(query.order_by(col(Run.id).desc()).limit(limit)).scalars())

    def steps(self, run_id: int) -> builtins.list[Run]:
        """The step runs of a flow run, in order."""
        with Session(self.engine) as session:
            query = select(Run).where(col(Run.pipeline_run_id) == run_id).order_by(col(Run.id))
            return list(session.execute(query).scalars())


def _status_audit(run: Run) -> dict[str, Any]:
    """What a status change's audit record says: the status the run is in, its attempt, its error if any."""
    audit: dict[str, Any] = {"status": run.status.value, "attempt": run.attempt}
    if run.error:
        audit["error"] = run.error
    return audit
