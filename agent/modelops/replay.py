"""Replaying a day of live traffic through the live router and a candidate, to see where they would disagree.

The day's messages are the ``agent.decision`` records of the audit log (one per new request; answers to a
question are not new decisions). Each is read as the embedded backend reads it (the request part of the message,
customer and product names replaced by their placeholders when the database knows them, a quoted passage as one
word) and both routers decide on the same embedding. The disagreements are written as JSON lines beside the
candidate and, on request, appended to the audit log as ``router.shadow`` records (actor ``router-replay``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from agent.backends.embedded.entities import EntityIndex
from agent.backends.embedded.router import IntentRouter
from agent.backends.embedded.signals import quoted_as_payload
from agent.backends.embedded.speech_acts import read_speech_act
from agent.backends.factory import known_entities
from agent.modelops.events import SHADOW_EVENT, ShadowData
from agent.modelops.shadow import compare
from agent.state import DecisionRecord
from core.store.audit import AuditEvent, AuditLog

DECISION_EVENT = "agent.decision"
REPLAY_ACTOR = "router-replay"


@dataclass(frozen=True)
class ReplayResult:
    """Every replayed message's two choices, and where they were written."""

    day: date
    comparisons: list[ShadowData]
    written: Path | None

    @property
    def disagreements(self) -> list[ShadowData]:
        """The messages the two routers decide differently."""
        return [item for item in self.comparisons if not item.agree]


def messages_on(engine: Engine, day: date) -> list[str]:
    """The messages of the day's ``agent.decision`` records (UTC day), in chain order."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = (start + timedelta(days=1)).isoformat(timespec="microseconds")
    texts: list[str] = []
    for record in AuditLog(engine).iter_records(since=start):
        if record.ts >= end:
            break
        if record.event != DECISION_EVENT:
            continue
        decision = DecisionRecord.model_validate_json(record.data)
        if decision.text:
            texts.append(decision.text)
    return texts


def routed_text(text: str, index: EntityIndex | None) -> str:
    """The text the embedded backend's router reads for a message."""
    ask = read_speech_act(text).ask
    tagged = index.tag(ask).text if index is not None else ask
    return quoted_as_payload(tagged)


def replay(
    *,
    engine: Engine,
    day: date,
    live: IntentRouter,
    candidate: IntentRouter,
    live_fingerprint: str,
    candidate_fingerprint: str,
    out_dir: Path | None = None,
    record: bool = False,
) -> ReplayResult:
    """Decide on the day's messages with both routers; write the disagreements (and audit them when ``record``)."""
    texts = messages_on(engine, day)
    known = known_entities(engine)()
    index = EntityIndex(known.customers, known.products) if (known.customers or known.products) else None
    comparisons = compare(
        texts=texts,
        routed=[routed_text(text, index) for text in texts],
        live=live,
        candidate=candidate,
        live_fingerprint=live_fingerprint,
        candidate_fingerprint=candidate_fingerprint,
    )
    result = ReplayResult(day, comparisons, None)
    if out_dir is not None:
        path = out_dir / f"replay-{day.isoformat()}.jsonl"
        lines = [
            json.dumps(item.model_dump(mode="json"), ensure_ascii=False) for item in result.disagreements
        ]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        result = ReplayResult(day, comparisons, path)
    if record and comparisons:
        subject = f"router:{candidate_fingerprint}"
        AuditLog(engine).append_many(
            AuditEvent(SHADOW_EVENT, REPLAY_ACTOR, subject, item.model_dump(mode="json"))
            for item in comparisons
        )
    return result
