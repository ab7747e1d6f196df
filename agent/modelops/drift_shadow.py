"""Where the shadow candidate router and the live router disagree, from the ``router.shadow`` audit records."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.engine import Engine

from agent.modelops.drift_windows import audit_rows
from agent.modelops.events import SHADOW_EVENT, RouterChoice, ShadowData

EXAMPLES = 10  # the newest disagreements shown


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ShadowPair(_Frozen):
    """How often the live router chose ``live`` where the candidate chose ``candidate`` (None: out of scope)."""

    live: str | None
    candidate: str | None
    count: int


class ShadowExample(_Frozen):
    """One message the two routers decided differently."""

    at: datetime
    text: str
    live: RouterChoice
    candidate: RouterChoice


class ShadowSummary(_Frozen):
    """The shadow decisions of a time range.

    Attributes:
        decisions: Messages both routers decided.
        disagreements: Of them, those where they chose different tools.
        candidates: The candidate routers' fingerprints seen.
        pairs: Disagreements by (live, candidate) choice, most frequent first.
        examples: The newest disagreements, newest first.
    """

    decisions: int
    disagreements: int
    candidates: list[str]
    pairs: list[ShadowPair]
    examples: list[ShadowExample]

    @property
    def agreement(self) -> float | None:
        """The share of messages both routers decided alike."""
        return 1 - self.disagreements / self.decisions if self.decisions else None


def shadow_summary(
    *, engine: Engine, start: datetime, end: datetime, examples: int = EXAMPLES
) -> ShadowSummary:
    """Count the shadow decisions of ``[start, end)`` and keep the newest disagreements."""
    decisions = 0
    pairs: Counter[tuple[str | None, str | None]] = Counter()
    candidates: dict[str, None] = {}
    newest: list[ShadowExample] = []
    for moment, _event, data in audit_rows(engine=engine, events=(SHADOW_EVENT,), start=start, end=end):
        try:
            shadow = ShadowData.model_validate_json(data)
        except ValidationError:
            continue
        decisions += 1
        candidates.setdefault(shadow.candidate_fingerprint)
        if shadow.agree:
            continue
        pairs[(shadow.live.tool, shadow.candidate.tool)] += 1
        newest.append(
            ShadowExample(at=moment, text=shadow.text, live=shadow.live, candidate=shadow.candidate)
        )
        del newest[:-examples]
    return ShadowSummary(
        decisions=decisions,
        disagreements=sum(pairs.values()),
        candidates=list(candidates),
        pairs=[ShadowPair(live=live, candidate=cand, count=n) for (live, cand), n in pairs.most_common()],
        examples=newest[::-1],
    )
