"""Executors: which processes hold unfinished durable work, and handing over the work of one that is gone.

Every console worker, bot and CLI command is a DBOS executor with a stable id (README, "Running on several
hosts"). A process that dies has its work finished by its next start under the same id. When a host will not come
back, an admin hands its work over here, and whichever serving process takes it from the queue finishes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from console.deps import State, User, require_role
from core import durable

router = APIRouter(tags=["executors"])


class ExecutorOut(BaseModel):
    """One executor's unfinished workflows."""

    executor_id: str
    unfinished: int
    oldest: datetime | None
    this_process: bool


class ExecutorList(BaseModel):
    """Unfinished durable work by executor, most first."""

    executors: list[ExecutorOut]


class HandOverOut(BaseModel):
    """What a hand-over queued."""

    executor_id: str
    queued: int


@router.get("/api/executors", response_model=ExecutorList)
def list_executors(principal: User) -> ExecutorList:
    """Unfinished durable work by executor (admins only)."""
    require_role(principal, "admin", action="viewing executors")
    me = durable.executor_id()
    return ExecutorList(
        executors=[
            ExecutorOut(
                executor_id=work.executor_id,
                unfinished=work.unfinished,
                oldest=work.oldest,
                this_process=work.executor_id == me,
            )
            for work in durable.unfinished_work()
        ]
    )


@router.post("/api/executors/{executor_id}/hand-over", response_model=HandOverOut)
def hand_over(
    executor_id: Annotated[str, Path(min_length=1, max_length=200)], principal: User, state: State
) -> HandOverOut:
    """Queue a gone executor's unfinished work for the serving processes (admins only; audited)."""
    require_role(principal, "admin", action="handing over an executor's work")
    queued = durable.hand_over(executor_id)
    state.sb.runner.audit.append(
        "durable.handed_over",
        actor=principal.name,
        subject=f"executor:{executor_id}",
        data={"queued": queued},
    )
    return HandOverOut(executor_id=executor_id, queued=queued)
