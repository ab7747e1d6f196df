"""Corrections become candidate examples: a "no", a "Did you mean" pick, an approval edit, a rejection's reason.

Each one is a pending candidate plus a ``model.correction`` audit record, written together or not at all, with
the message's words redacted by the audit log's rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from agent.backends.base import Alternative
from agent.modelops.corrections import Correction, Corrections, record
from agent.modelops.events import CorrectionData
from agent.service import Switchboard, open_switchboard
from core.store.audit import AuditLog, AuditRecord
from core.store.training_candidates import TrainingCandidate, list_candidates
from switchboard.settings import Settings
from tests.console.conftest import full_registry
from tests.utils.fake_backend import ScriptedBackend

SCHEDULE = {"flow": "customer_sync", "cron": "0 6 * * *"}
NOTIFY = {"channel": "email", "recipient": "ops@example.com", "message": "hi"}


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
def sb(settings: Settings, engine: Engine, backend: ScriptedBackend) -> Iterator[Switchboard]:
    with open_switchboard(settings, engine, backend=backend, registry=full_registry()) as service:
        yield service


def candidates(engine: Engine) -> list[dict[str, Any]]:
    """Every candidate as the review queue would show it, minus the id and time."""
    return [
        row.model_dump(exclude={"id", "created_at"}) for row in list_candidates(engine=engine, status=None)
    ]


def corrections(engine: Engine) -> list[tuple[str, str | None, CorrectionData]]:
    with Session(engine) as session:
        rows = session.execute(
            select(AuditRecord)
            .where(col(AuditRecord.event) == "model.correction")
            .order_by(col(AuditRecord.seq))
        ).scalars()
        return [(r.actor, r.subject, CorrectionData.model_validate_json(r.data)) for r in rows]


def pending_row(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "context": [],
        "chose_args": {},
        "confidence": None,
        "meant_tool": None,
        "meant_args": None,
        "reason": None,
        "status": "pending",
        "out_of_scope": False,
        "reviewed_by": None,
        "reviewed_at": None,
        "note": None,
        "reviewed_version": None,
    }
    return base | fields


def test_a_no_to_a_confirmation_is_a_declined_candidate_with_its_audit_record(
    sb: Switchboard, engine: Engine, backend: ScriptedBackend
) -> None:
    backend.enqueue("list_runs", {}, confidence=0.99)
    sb.chat(thread_id="t1", user="olive", role="operator", text="what ran today?", source="cli")
    backend.enqueue("schedule_flow", SCHEDULE, confidence=0.93)
    asked = sb.chat(
        thread_id="t1", user="olive", role="operator", text="sync customers daily at 6", source="cli"
    )
    assert asked.kind == "confirm"

    reply = sb.chat(thread_id="t1", user="olive", role="operator", text="no", source="cli")

    assert reply.text == "OK, I won't run it."
    assert candidates(engine) == [
        pending_row(
            user="olive",
            channel="cli",
            kind="declined",
            text="sync customers daily at 6",
            context=["what ran today?"],
            chose_tool="schedule_flow",
            chose_args=SCHEDULE,
            confidence=0.93,
        )
    ]
    [row] = list_candidates(engine=engine)
    assert corrections(engine) == [
        (
            "olive",
            "thread:t1",
            CorrectionData(
                kind="declined", tool="schedule_flow", confidence=0.93, candidate=row.id, channel="cli"
            ),
        )
    ]
    assert AuditLog(engine).verify().ok


def test_a_yes_or_a_no_without_a_question_is_no_correction(
    sb: Switchboard, engine: Engine, backend: ScriptedBackend
) -> None:
    backend.enqueue("schedule_flow", SCHEDULE, confidence=0.95)
    sb.chat(thread_id="t1", user="olive", role="operator", text="sync customers daily at 6")
    sb.chat(thread_id="t1", user="olive", role="operator", text="yes")
    sb.chat(thread_id="t1", user="olive", role="operator", text="no")
    assert candidates(engine) == []


def test_a_secret_in_the_message_is_stored_redacted(
    sb: Switchboard, engine: Engine, backend: ScriptedBackend
) -> None:
    backend.enqueue("schedule_flow", SCHEDULE, confidence=0.95)
    words = "sync customers daily at 6 with Authorization Bearer abcdef123456789"
    sb.chat(thread_id="t1", user="olive", role="operator", text=words, source="console")
    sb.chat(thread_id="t1", user="olive", role="operator", text="no", source="console")

    [row] = list_candidates(engine=engine)
    assert row.text == "sync customers daily at 6 with Authorization Bearer [redacted]"
    with Session(engine) as session:
        stored = json.dumps(
            [r.model_dump(mode="json") for r in session.execute(select(TrainingCandidate)).scalars()]
        )
    assert "abcdef123456789" not in stored


def test_picking_the_second_offered_tool_is_an_other_choice(
    sb: Switchboard, engine: Engine, backend: ScriptedBackend
) -> None:
    close = [
        Alternative(tool="list_runs", probability=0.5),
        Alternative(tool="list_pending_approvals", probability=0.4),
    ]
    backend.enqueue("list_runs", {}, confidence=0.5, alternatives=close)
    backend.enqueue("list_pending_approvals", {}, confidence=0.6)
    asked = sb.chat(
        thread_id="t2", user="olive", role="operator", text="what needs my ok?", source="telegram"
    )
    assert asked.buttons[-1] == "neither"

    sb.chat(thread_id="t2", user="olive", role="operator", text="the second one", source="telegram")

    assert candidates(engine) == [
        pending_row(
            user="olive",
            channel="telegram",
            kind="other_choice",
            text="what needs my ok?",
            chose_tool="list_runs",
            confidence=0.5,
            meant_tool="list_pending_approvals",
            meant_args={},
        )
    ]
    assert [(d.kind, d.tool, d.meant) for _, _, d in corrections(engine)] == [
        ("other_choice", "list_runs", "list_pending_approvals")
    ]


def test_neither_of_the_offered_tools_is_a_declined_candidate(
    sb: Switchboard, engine: Engine, backend: ScriptedBackend
) -> None:
    close = [
        Alternative(tool="list_runs", probability=0.5),
        Alternative(tool="list_pending_approvals", probability=0.4),
    ]
    backend.enqueue("list_runs", {}, confidence=0.5, alternatives=close)
    sb.chat(thread_id="t2", user="olive", role="operator", text="what needs my ok?")
    sb.chat(thread_id="t2", user="olive", role="operator", text="neither")
    assert candidates(engine) == [
        pending_row(
            user="olive",
            channel="chat",
            kind="declined",
            text="what needs my ok?",
            chose_tool="list_runs",
            confidence=0.5,
        )
    ]


def test_picking_the_first_offered_tool_is_no_correction(
    sb: Switchboard, engine: Engine, backend: ScriptedBackend
) -> None:
    close = [
        Alternative(tool="list_runs", probability=0.5),
        Alternative(tool="list_pending_approvals", probability=0.4),
    ]
    backend.enqueue("list_runs", {}, confidence=0.5, alternatives=close)
    backend.enqueue("list_runs", {}, confidence=0.6)
    sb.chat(thread_id="t2", user="olive", role="operator", text="what needs my ok?")
    sb.chat(thread_id="t2", user="olive", role="operator", text="the first one")
    assert candidates(engine) == []


def test_an_approval_edit_keeps_the_tool_and_means_the_edited_arguments(
    sb: Switchboard, engine: Engine, backend: ScriptedBackend
) -> None:
    backend.enqueue("send_notification", NOTIFY, confidence=0.88)
    reply = sb.chat(thread_id="t3", user="olive", role="operator", text="email ops hi", source="console")
    assert reply.approval_id is not None
    edited = {**NOTIFY, "message": "hi, the token is Bearer abcdef123456789"}

    sb.approvals.edit(reply.approval_id, editor="ann", role="approver", args=edited)

    assert candidates(engine) == [
        pending_row(
            user="ann",
            channel="console",
            kind="approval_edit",
            text="email ops hi",
            chose_tool="send_notification",
            chose_args=NOTIFY,
            confidence=0.88,
            meant_tool="send_notification",
            meant_args={**NOTIFY, "message": "hi, the token is Bearer [redacted]"},
        )
    ]
    [(actor, subject, data)] = corrections(engine)
    assert (actor, subject, data.kind, data.tool, data.meant) == (
        "ann",
        f"approval:{reply.approval_id}",
        "approval_edit",
        "send_notification",
        "send_notification",
    )


def test_a_rejection_with_a_reason_is_a_correction_and_one_without_is_not(
    sb: Switchboard, engine: Engine, backend: ScriptedBackend
) -> None:
    backend.enqueue("send_notification", NOTIFY, confidence=0.9)
    first = sb.chat(thread_id="t4", user="olive", role="operator", text="email ops hi")
    backend.enqueue("send_notification", {**NOTIFY, "message": "bye"}, confidence=0.9)
    second = sb.chat(thread_id="t5", user="oscar", role="operator", text="email ops bye")
    assert first.approval_id and second.approval_id

    sb.approvals.reject(first.approval_id, approver="ann", role="approver", reason="I meant a Slack message")
    sb.approvals.reject(second.approval_id, approver="ann", role="approver", reason="  ", channel="telegram")

    assert candidates(engine) == [
        pending_row(
            user="ann",
            channel="console",
            kind="approval_rejected",
            text="email ops hi",
            chose_tool="send_notification",
            chose_args=NOTIFY,
            confidence=0.9,
            reason="I meant a Slack message",
        )
    ]


def test_the_candidate_and_its_audit_record_are_written_together_or_not_at_all(
    sb: Switchboard, engine: Engine, backend: ScriptedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the audit log is down")

    monkeypatch.setattr("agent.modelops.corrections.append_in", broken)
    backend.enqueue("schedule_flow", SCHEDULE, confidence=0.95)
    sb.chat(thread_id="t1", user="olive", role="operator", text="sync customers daily at 6")

    reply = sb.chat(thread_id="t1", user="olive", role="operator", text="no")

    assert reply.text == "OK, I won't run it."  # the turn does not fail for it
    assert candidates(engine) == []
    assert corrections(engine) == []
    monkeypatch.undo()
    written = Corrections(engine=engine).capture(
        Correction(
            kind="declined", user="olive", channel="chat", subject="thread:t9", text="hello", chose_tool="x"
        )
    )
    assert written is not None
    assert [c["text"] for c in candidates(engine)] == ["hello"]
    assert [d.candidate for _, _, d in corrections(engine)] == [written]


def test_a_correction_recorded_again_under_its_key_is_one_candidate(engine: Engine) -> None:
    # What a turn replayed after a kill does (tests/faults has the real processes): the same question, declined
    # again, carries the same key and writes nothing more; another question is a correction of its own.
    def declined(key: str) -> str:
        correction = Correction(
            kind="declined", user="olive", channel="cli", subject="thread:t1", text="sync daily", key=key
        )
        return record(engine, correction)

    first = declined("thread:t1/question 1")
    assert declined("thread:t1/question 1") == first
    assert [row.id for row in list_candidates(engine=engine)] == [first]
    assert len(corrections(engine)) == 1
    other = declined("thread:t1/question 2")
    assert other != first and len(list_candidates(engine=engine)) == len(corrections(engine)) == 2
    assert AuditLog(engine).verify().ok
