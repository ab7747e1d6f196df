"""Capture corrections: each one becomes a candidate training example and a ``model.correction`` audit record.

The chat nodes and the approval service call ``Corrections`` where a person says the agent's choice was wrong:

- ``declined``: a "no" to a confirmation or to a low-confidence "did you mean X?" check;
- ``other_choice``: a "Did you mean …?" answered with a tool other than the first one offered;
- ``approval_edit``: an approver (or the requester) changed a request's arguments;
- ``approval_rejected``: a rejection with a reason.

The candidate row and its audit record are written in one transaction: both or neither. Text, context and
arguments are redacted by the audit log's rules first. Capturing must never break a turn or a decision, so the
service's methods log a failure and return None instead of raising.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any, get_args

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from agent.modelops.events import CORRECTION_EVENT, Channel, CorrectionData, CorrectionKind
from agent.state import ChatState, Pending
from core.config import CoreSettings
from core.faults import crash_point
from core.redaction import redact, scrub
from core.store.approvals import ApprovalRequest, ThreadMessage
from core.store.audit import AuditEvent, AuditRecord, append_in
from core.store.db import write_session
from core.store.training_candidates import TrainingCandidateCreate, add_in

logger = logging.getLogger(__name__)
CONTEXT_MESSAGES = 6  # earlier user messages kept with a candidate, for the reviewer
_CHANNELS: frozenset[str] = frozenset(get_args(Channel))
# The questions whose "no" says the agent's guess was wrong ("neither" of the tools offered, for a choice).
_DECLINABLE = ("confirm", "low_confidence", "choose")


def channel_of(source: str) -> Channel:
    """The channel an interface's ``source`` names (anything unknown counts as a plain chat)."""
    return source if source in _CHANNELS else "chat"  # type: ignore[return-value]


def clean(value: Any) -> Any:
    """JSON-ready ``value`` with secret-looking keys redacted and credentials masked inside every string."""
    redacted = redact(value)
    if isinstance(redacted, str):
        return scrub(redacted)
    if isinstance(redacted, dict):
        return {key: clean(item) for key, item in redacted.items()}
    if isinstance(redacted, list):
        return [clean(item) for item in redacted]
    return redacted


@dataclass(frozen=True)
class Correction:
    """One correction, as captured (before redaction).

    Attributes:
        kind: What the person did.
        user: Who.
        channel: Where.
        subject: The audit subject it is about (``thread:<id>`` or ``approval:<id>``).
        text: The message the agent decided on.
        context: The thread's earlier user messages, oldest first.
        chose_tool: The tool the agent chose.
        chose_args: Its arguments.
        confidence: The agent's confidence in it.
        meant_tool: The tool the person meant, when known.
        meant_args: The arguments they meant, when known.
        reason: What they said about it.
        key: What makes this correction one event (the question answered, the request decided): the same key
            again, as when a turn is replayed after a crash, records nothing more.
    """

    kind: CorrectionKind
    user: str
    channel: Channel
    subject: str | None
    text: str
    context: list[str] = field(default_factory=list)
    chose_tool: str | None = None
    chose_args: dict[str, Any] = field(default_factory=dict)
    confidence: float | None = None
    meant_tool: str | None = None
    meant_args: dict[str, Any] | None = None
    reason: str | None = None
    key: str | None = None


def candidate_id_of(key: str) -> str:
    """The candidate id a correction key stands for (12 hex digits, like a random one)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def record(engine: Engine, correction: Correction) -> str:
    """Store the candidate and its ``model.correction`` audit record in one transaction; returns the candidate's id.

    A correction whose key was recorded already writes nothing and returns the stored candidate's id.

    Raises:
        Exception: Whatever the database raised; nothing is stored then.
    """
    candidate = TrainingCandidateCreate(
        user=correction.user,
        channel=correction.channel,
        kind=correction.kind,
        text=scrub(correction.text),
        context=[scrub(text) for text in correction.context],
        chose_tool=correction.chose_tool,
        chose_args=clean(correction.chose_args),
        confidence=correction.confidence,
        meant_tool=correction.meant_tool,
        meant_args=None if correction.meant_args is None else clean(correction.meant_args),
        reason=None if correction.reason is None else scrub(correction.reason),
    )
    confidence = correction.confidence
    given = candidate_id_of(correction.key) if correction.key is not None else None
    with write_session(engine) as session:
        row = add_in(session, candidate, candidate_id=given)
        if row is None:
            assert given is not None  # only a keyed correction can be stored already
            return given
        data = CorrectionData(
            kind=correction.kind,
            tool=correction.chose_tool,
            meant=correction.meant_tool,
            confidence=None if confidence is None else min(max(confidence, 0.0), 1.0),
            candidate=row.id,
            channel=correction.channel,
        )
        event = AuditEvent(
            CORRECTION_EVENT, correction.user, correction.subject, data.model_dump(mode="json")
        )
        append_in(session, [event])
        return row.id


@dataclass(frozen=True)
class Corrections:
    """The capture service: one per agent service, shared by the chat graph and the approval service."""

    engine: Engine
    settings: CoreSettings | None = None  # for the fault suite's crash point

    def capture(self, correction: Correction) -> str | None:
        """Record a correction; on failure log it and return None (a turn never fails for this)."""
        try:
            captured = record(self.engine, correction)
        except Exception as exc:
            logger.warning(
                "could not capture a %s correction: %s", correction.kind, type(exc).__name__, exc_info=True
            )
            return None
        if self.settings is not None:
            crash_point(self.settings, "correction.captured")
        return captured

    # ---- the chat graph ---------------------------------------------------------------------------------------
    def declined(self, *, state: ChatState, source: str, subject: str) -> str | None:
        """The operator said no to a confirmation, a low-confidence check or a choice; what they meant is unknown."""
        pending = state.pending
        if pending is None or pending.kind not in _DECLINABLE:
            return None
        chose = pending.options[0] if pending.kind == "choose" and pending.options else pending.tool
        if not chose:
            return None
        return self._about_turn(
            state,
            pending,
            "declined",
            source=source,
            subject=subject,
            chose_tool=chose,
            chose_args=dict(pending.args),
        )

    def other_choice(
        self, *, state: ChatState, chosen: str, args: dict[str, Any], source: str, subject: str
    ) -> str | None:
        """The operator picked an offered tool other than the first (the agent's own choice)."""
        pending = state.pending
        if pending is None or pending.kind != "choose" or not pending.options or chosen == pending.options[0]:
            return None
        return self._about_turn(
            state,
            pending,
            "other_choice",
            source=source,
            subject=subject,
            chose_tool=pending.options[0],
            meant_tool=chosen,
            meant_args=dict(args),
        )

    def _about_turn(
        self,
        state: ChatState,
        pending: Pending,
        kind: CorrectionKind,
        *,
        source: str,
        subject: str,
        **rest: Any,
    ) -> str | None:
        """A correction of the thread's pending question, keyed by that question and the turns before it."""
        text, context = _asked(state, pending)
        asked = json.dumps([pending.model_dump(mode="json"), [t.text for t in state.turns]], sort_keys=True)
        return self.capture(
            Correction(
                kind=kind,
                user=state.user,
                channel=channel_of(source),
                subject=subject,
                text=text,
                context=context,
                confidence=pending.confidence,
                key=f"{subject}\0{kind}\0{asked}",
                **rest,
            )
        )

    # ---- the approval service ---------------------------------------------------------------------------------
    def approval_edit(
        self, *, request: ApprovalRequest, editor: str, args: dict[str, Any], channel: Channel
    ) -> str | None:
        """Someone changed a request's arguments: same tool, the edited arguments are the ones meant."""
        return self._about_request(
            request,
            "approval_edit",
            user=editor,
            channel=channel,
            meant_tool=request.tool,
            meant_args=dict(args),
        )

    def approval_rejected(
        self, *, request: ApprovalRequest, approver: str, reason: str, channel: Channel
    ) -> str | None:
        """A rejection with a reason (one without a reason says nothing about the choice, and is not kept)."""
        if not reason.strip():
            return None
        return self._about_request(
            request, "approval_rejected", user=approver, channel=channel, reason=reason.strip()
        )

    def _about_request(
        self, request: ApprovalRequest, kind: CorrectionKind, *, user: str, channel: Channel, **meant: Any
    ) -> str | None:
        """A correction of the call an approval request holds, with the words that asked for it."""
        try:
            text, context = _request_words(self.engine, request)
        except Exception:
            logger.warning("could not find the words of request %s", request.id, exc_info=True)
            text, context = "", []
        return self.capture(
            Correction(
                kind=kind,
                user=user,
                channel=channel,
                subject=f"approval:{request.id}",
                text=text,
                context=context,
                chose_tool=request.tool,
                chose_args=dict(request.args),
                confidence=request.confidence,
                key=f"{request.id}\0{kind}",  # a request is rejected or superseded once
                **meant,
            )
        )


def _asked(state: ChatState, pending: Pending) -> tuple[str, list[str]]:
    """The words the pending question was about, and the user messages before them (oldest first)."""
    said = [turn.text for turn in state.turns if turn.role == "user" and turn.text]
    text = pending.text or (said[-1] if said else "")
    if text in said:
        said = said[: len(said) - 1 - said[::-1].index(text)]
    return text, said[-CONTEXT_MESSAGES:]


def _request_words(engine: Engine, request: ApprovalRequest) -> tuple[str, list[str]]:
    """The message that asked for ``request`` (from its thread's decision record) and the thread's earlier words.

    An approval request does not store the words; the ``agent.decision`` record of its thread that chose its tool
    (the newest one made before the request) does.
    """
    if not request.thread_id:
        return "", []
    created = request.created_at.isoformat()
    with Session(engine) as session:
        decisions = session.execute(
            select(col(AuditRecord.ts), col(AuditRecord.data))
            .where(
                col(AuditRecord.subject) == f"thread:{request.thread_id}",
                col(AuditRecord.event) == "agent.decision",
            )
            .order_by(col(AuditRecord.seq).desc())
            .limit(50)
        ).all()
        said = list(
            session.execute(
                select(col(ThreadMessage.text))
                .where(col(ThreadMessage.thread_id) == request.thread_id, col(ThreadMessage.role) == "user")
                .order_by(col(ThreadMessage.id))
            ).scalars()
        )
    text = ""
    for ts, data in decisions:
        decision = json.loads(data)
        if decision.get("tool") == request.tool and decision.get("text") and ts[:19] <= created[:19]:
            text = str(decision["text"])
            break
    if text in said:
        said = said[: len(said) - 1 - said[::-1].index(text)]
    return text, said[-CONTEXT_MESSAGES:]
