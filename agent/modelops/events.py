"""The audit events of model operations, as typed data.

Two producers and two readers share these shapes, so they are defined once:

- ``model.correction``: a person said the agent's choice was wrong (a "no", a "Did you mean" pick other than the
  top one, an approver's edit or a rejection with a reason). Written where the correction happens; read by the
  drift report and turned into a candidate training example.
- ``router.shadow``: a candidate router's decision on a live message, beside the live router's; it never acts.
  Read by the drift page to show where the two disagree.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CORRECTION_EVENT = "model.correction"
SHADOW_EVENT = "router.shadow"

CorrectionKind = Literal["declined", "other_choice", "approval_edit", "approval_rejected"]
Channel = Literal["console", "telegram", "cli", "chat", "api"]


class CorrectionData(BaseModel):
    """``data`` of a ``model.correction`` record.

    Attributes:
        kind: What the person did.
        tool: The tool the agent chose (``None`` when it chose none).
        meant: The tool the person meant, when their answer says so (a pick, an edit keeps the tool); else ``None``.
        confidence: The agent's confidence in ``tool`` when it chose.
        candidate: The id of the candidate training example made from it.
        channel: Where the correction was made.
    """

    model_config = ConfigDict(extra="forbid")

    kind: CorrectionKind
    tool: str | None
    meant: str | None = None
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    candidate: str
    channel: Channel = "chat"


class RouterChoice(BaseModel):
    """One router's top choice on a message (``tool`` is ``None`` for out of scope)."""

    model_config = ConfigDict(extra="forbid")

    tool: str | None
    confidence: float = Field(ge=0.0, le=1.0)


class ShadowData(BaseModel):
    """``data`` of a ``router.shadow`` record: the live and the candidate router on the same message."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The message, redacted by the audit log's rules.")
    live: RouterChoice
    candidate: RouterChoice
    live_fingerprint: str
    candidate_fingerprint: str

    @property
    def agree(self) -> bool:
        """Whether both routers chose the same tool (or both chose none)."""
        return self.live.tool == self.candidate.tool
