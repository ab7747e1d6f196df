"""Examples: the admin's review queue of candidate training examples made from people's corrections.

Each pending candidate shows its words, the thread's earlier words, what the agent chose and what the person meant.
Accepting or fixing one writes the next version of the reviewed training file; discarding writes nothing. The
review itself (validation against the tool registry, the audit records) is ``agent.modelops.review``'s; only
admins may see or decide the queue (403 otherwise).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from agent.modelops.review import Meant, Review, Reviewed, Reviewer, training_dir
from console.deps import ConsoleState, PageUser, Principal, State, User, require_role
from console.routes.pages import render
from core.errors import Forbidden
from core.store.training_candidates import CandidateStatus, TrainingCandidatePublic

router = APIRouter(tags=["examples"])
CandidateId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
StatusFilter = Literal["pending", "accepted", "fixed", "discarded", "all"]
_ADMIN = ("admin",)


class ExampleList(BaseModel):
    """Candidate examples, oldest first."""

    examples: list[TrainingCandidatePublic]


class AcceptIn(BaseModel):
    """Accept as the person meant it, or with the tool and arguments given (or as out of scope)."""

    model_config = ConfigDict(extra="forbid")

    tool: str | None = Field(default=None, max_length=100)
    args: dict[str, Any] | None = None
    out_of_scope: bool = False


class FixIn(AcceptIn):
    """Change the tool, the arguments or the words, and keep the example."""

    text: str | None = Field(default=None, max_length=4_096)


class DiscardIn(BaseModel):
    """Why it is discarded (optional)."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=1_000)


class ReviewOut(BaseModel):
    """The candidate as stored after the review, and the reviewed version written (none for a discard)."""

    example: TrainingCandidatePublic
    version: int | None
    examples_in_version: int | None


def _review(state: ConsoleState) -> Review:
    return Review(
        engine=state.sb.engine, registry=state.sb.registry, directory=training_dir(state.settings.var_dir)
    )


def _reviewer(principal: Principal, action: str) -> Reviewer:
    require_role(principal, *_ADMIN, action=action)
    return Reviewer(principal.name, principal.role)


def _out(outcome: Reviewed) -> ReviewOut:
    version = outcome.version
    return ReviewOut(
        example=outcome.candidate,
        version=version.version if version is not None else None,
        examples_in_version=len(version.examples) if version is not None else None,
    )


@router.get("/api/examples", response_model=ExampleList, responses={403: {"description": "Not an admin."}})
def list_examples(principal: User, state: State, status: StatusFilter = "pending") -> ExampleList:
    """Candidate examples by status (admins only)."""
    _reviewer(principal, "reviewing training examples")
    found = _review(state).candidates(status=None if status == "all" else CandidateStatus(status))
    return ExampleList(examples=found)


@router.post(
    "/api/examples/{candidate_id}/accept",
    response_model=ReviewOut,
    responses={403: {"description": "Not an admin."}, 409: {"description": "Already reviewed."}},
)
def accept(
    candidate_id: CandidateId, principal: User, state: State, body: Annotated[AcceptIn | None, Body()] = None
) -> ReviewOut:
    """Accept a candidate; the next reviewed version holds it (admins only)."""
    reviewer = _reviewer(principal, "reviewing training examples")
    given = body or AcceptIn()
    meant = Meant(tool=given.tool, args=given.args, out_of_scope=given.out_of_scope)
    return _out(_review(state).accept(candidate_id=candidate_id, reviewer=reviewer, meant=meant))


@router.post(
    "/api/examples/{candidate_id}/fix",
    response_model=ReviewOut,
    responses={403: {"description": "Not an admin."}, 409: {"description": "Already reviewed."}},
)
def fix(candidate_id: CandidateId, body: FixIn, principal: User, state: State) -> ReviewOut:
    """Fix a candidate's tool, arguments or words and keep it (admins only)."""
    reviewer = _reviewer(principal, "reviewing training examples")
    meant = Meant(tool=body.tool, args=body.args, text=body.text, out_of_scope=body.out_of_scope)
    return _out(_review(state).fix(candidate_id=candidate_id, reviewer=reviewer, meant=meant))


@router.post(
    "/api/examples/{candidate_id}/discard",
    response_model=ReviewOut,
    responses={403: {"description": "Not an admin."}, 409: {"description": "Already reviewed."}},
)
def discard(
    candidate_id: CandidateId, principal: User, state: State, body: Annotated[DiscardIn | None, Body()] = None
) -> ReviewOut:
    """Discard a candidate: it never reaches training (admins only)."""
    reviewer = _reviewer(principal, "reviewing training examples")
    note = body.note if body is not None else None
    return _out(_review(state).discard(candidate_id=candidate_id, reviewer=reviewer, note=note))


@router.get("/examples", include_in_schema=False)
def examples_page(request: Request, principal: PageUser, state: State) -> Response:
    """The review queue (admins only)."""
    try:
        require_role(principal, *_ADMIN, action="reviewing training examples")
    except Forbidden as exc:
        return render(
            request, state, principal, "examples.html", "examples", status_code=403, refused=exc.message
        )
    pending = _review(state).pending()
    rows = [
        {
            "candidate": candidate,
            "args": json.dumps(
                candidate.meant_args if candidate.meant_args is not None else candidate.chose_args,
                ensure_ascii=False,
            ),
        }
        for candidate in pending
    ]
    return render(
        request,
        state,
        principal,
        "examples.html",
        "examples",
        refused=None,
        rows=rows,
        tools=sorted(state.sb.registry),
    )
