"""The review of candidate examples: only admins; accepted and fixed ones reach a new reviewed version, nothing else.

The reviewed files are read back with ``agent.modelops.reviewed.latest``, as the candidate router reads them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from agent.modelops import reviewed
from agent.modelops.corrections import Correction, record
from agent.modelops.review import Meant, Review, Reviewer, training_dir
from core.errors import BadInput, Conflict, Forbidden
from core.store.audit import AuditRecord
from core.store.training_candidates import get_candidate
from switchboard.settings import Settings
from tests.console.conftest import full_registry

ROOT = Reviewer("root", "admin")
SCHEDULE = {"flow": "customer_sync", "cron": "0 6 * * *"}


@pytest.fixture
def review(settings: Settings, engine: Engine) -> Review:
    return Review(engine=engine, registry=full_registry(), directory=training_dir(settings.var_dir))


def declined(engine: Engine, text: str = "sync customers daily at 6") -> str:
    correction = Correction(
        kind="declined",
        user="olive",
        channel="console",
        subject="thread:t1",
        text=text,
        chose_tool="schedule_flow",
        chose_args=SCHEDULE,
        confidence=0.9,
    )
    return record(engine, correction)


def picked(engine: Engine, text: str = "what needs my ok?") -> str:
    correction = Correction(
        kind="other_choice",
        user="olive",
        channel="telegram",
        subject="thread:t2",
        text=text,
        chose_tool="list_runs",
        meant_tool="list_pending_approvals",
        meant_args={},
    )
    return record(engine, correction)


def files(review: Review) -> list[str]:
    return [path.name for _, path in reviewed.versions(review.directory)]


def in_file(path: Path | None) -> list[tuple[str, str, str | None]]:
    assert path is not None
    version = reviewed.read(path, version=0)
    return [(e.id, e.text, e.tool) for e in version.examples]


def review_events(engine: Engine) -> list[tuple[str, str, str | None]]:
    with Session(engine) as session:
        rows = session.execute(
            select(AuditRecord).where(col(AuditRecord.event).like("example.%")).order_by(col(AuditRecord.seq))
        ).scalars()
        return [(r.event, r.actor, r.subject) for r in rows]


def test_accepting_writes_a_new_version_with_every_reviewed_example(review: Review, engine: Engine) -> None:
    first, second = picked(engine), picked(engine, "anything waiting for me?")
    assert files(review) == []

    one = review.accept(candidate_id=first, reviewer=ROOT)
    two = review.accept(candidate_id=second, reviewer=ROOT)

    assert one.version is not None and two.version is not None
    assert (one.version.version, two.version.version) == (1, 2)
    assert in_file(one.version.path) == [(first, "what needs my ok?", "list_pending_approvals")]
    latest = reviewed.latest(review.directory)
    assert (latest.version, [(e.id, e.tool, e.reviewed_by, e.source) for e in latest.examples]) == (
        2,
        [
            (first, "list_pending_approvals", "root", "other_choice"),
            (second, "list_pending_approvals", "root", "other_choice"),
        ],
    )
    assert (
        get_candidate(engine=engine, candidate_id=first).reviewed_version,
        two.candidate.reviewed_version,
    ) == (
        1,
        2,
    )
    assert review_events(engine) == [
        ("example.accepted", "root", f"example:{first}"),
        ("example.accepted", "root", f"example:{second}"),
    ]


def test_a_discarded_candidate_never_reaches_a_version(review: Review, engine: Engine) -> None:
    dropped, kept = picked(engine, "drop me"), picked(engine, "keep me")

    gone = review.discard(candidate_id=dropped, reviewer=ROOT, note="not a real request")
    assert gone.version is None and files(review) == []
    after = review.accept(candidate_id=kept, reviewer=ROOT)

    assert after.version is not None
    assert in_file(after.version.path) == [(kept, "keep me", "list_pending_approvals")]
    assert (gone.candidate.status, gone.candidate.note, gone.candidate.reviewed_by) == (
        "discarded",
        "not a real request",
        "root",
    )
    with pytest.raises(Conflict, match=f"candidate example {dropped} is already discarded"):
        review.accept(candidate_id=dropped, reviewer=ROOT)
    assert review_events(engine)[0] == ("example.discarded", "root", f"example:{dropped}")


def test_unreviewed_candidates_never_appear_in_any_version(review: Review, engine: Engine) -> None:
    waiting = [declined(engine, f"waiting {n}") for n in range(3)]
    kept = picked(engine)
    review.accept(candidate_id=kept, reviewer=ROOT)
    review.fix(candidate_id=waiting[0], reviewer=ROOT, meant=Meant(tool="list_runs", args={}))

    ids = {
        e.id
        for _, path in reviewed.versions(review.directory)
        for e in reviewed.read(path, version=0).examples
    }
    assert ids == {kept, waiting[0]}
    assert [c.id for c in review.pending()] == waiting[1:]


def test_a_no_must_be_fixed_with_a_tool_or_marked_out_of_scope(review: Review, engine: Engine) -> None:
    unknown, outside = declined(engine), declined(engine, "tell me a joke")

    with pytest.raises(
        BadInput, match="the tool the person meant is unknown; fix it with a tool, or accept it"
    ):
        review.accept(candidate_id=unknown, reviewer=ROOT)
    assert files(review) == []

    fixed = review.fix(
        candidate_id=unknown,
        reviewer=ROOT,
        meant=Meant(
            tool="schedule_flow", args={"flow": "customer_sync", "cron": "0 7 * * *"}, text="sync at 7"
        ),
    )
    scoped = review.accept(candidate_id=outside, reviewer=ROOT, meant=Meant(out_of_scope=True))

    assert fixed.candidate.status == "fixed" and scoped.candidate.out_of_scope
    latest = reviewed.latest(review.directory)
    assert [(e.text, e.tool, e.args) for e in latest.examples] == [
        ("sync at 7", "schedule_flow", {"flow": "customer_sync", "cron": "0 7 * * *"}),
        ("tell me a joke", None, {}),
    ]


def test_a_bad_tool_or_bad_arguments_are_refused_clearly_and_nothing_is_written(
    review: Review, engine: Engine
) -> None:
    candidate = declined(engine)

    with pytest.raises(
        BadInput, match=rf"candidate example {candidate}: unknown tool 'shedule_flow'.*schedule_flow"
    ):
        review.accept(candidate_id=candidate, reviewer=ROOT, meant=Meant(tool="shedule_flow"))
    with pytest.raises(BadInput, match=rf"candidate example {candidate}: schedule_flow: .*cron"):
        review.fix(
            candidate_id=candidate, reviewer=ROOT, meant=Meant(tool="schedule_flow", args={"flow": "x"})
        )

    assert files(review) == []
    assert get_candidate(engine=engine, candidate_id=candidate).status == "pending"
    assert review_events(engine) == []


def test_only_admins_review(review: Review, engine: Engine) -> None:
    candidate = picked(engine)
    for role in ("operator", "approver"):
        with pytest.raises(
            Forbidden, match=f"ann has the {role} role; reviewing training examples needs admin"
        ):
            review.accept(candidate_id=candidate, reviewer=Reviewer("ann", role))
        with pytest.raises(Forbidden):
            review.discard(candidate_id=candidate, reviewer=Reviewer("ann", role))
    assert files(review) == []
    assert get_candidate(engine=engine, candidate_id=candidate).status == "pending"


def test_a_failed_review_leaves_no_version_behind(
    review: Review, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    candidate = picked(engine)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the audit log is down")

    monkeypatch.setattr("agent.modelops.review.append_in", broken)
    with pytest.raises(RuntimeError):
        review.accept(candidate_id=candidate, reviewer=ROOT)
    assert files(review) == []
    assert get_candidate(engine=engine, candidate_id=candidate).status == "pending"


def test_capture_and_review_on_sqlite_and_postgresql(settings: Settings, any_engine: Engine) -> None:
    review = Review(engine=any_engine, registry=full_registry(), directory=training_dir(settings.var_dir))
    kept, dropped = picked(any_engine, "keep me"), declined(any_engine, "drop me")

    review.discard(candidate_id=dropped, reviewer=ROOT)
    outcome = review.fix(candidate_id=kept, reviewer=ROOT, meant=Meant(tool="list_runs", args={}))

    assert outcome.version is not None
    assert in_file(outcome.version.path) == [(kept, "keep me", "list_runs")]
    assert [(c.id, c.status, c.reviewed_version) for c in review.candidates(status=None)] == [
        (kept, "fixed", 1),
        (dropped, "discarded", None),
    ]


def test_an_accepted_example_joins_the_next_candidates_training_set_and_a_discarded_one_does_not(
    review: Review, engine: Engine
) -> None:
    from agent.modelops.candidate_models import CandidateRecipe
    from agent.modelops.candidate_train import build_training_set

    # Every reviewed example trains (held_out_percent=1 holds out only ids whose hash bucket is 0).
    recipe = CandidateRecipe(held_out_percent=1, base_every=9)
    before = build_training_set(reviewed.latest(review.directory), recipe=recipe, locked_texts=[])
    assert (
        "list_pending_approvals" in before.labels
    )  # a reviewed example of a tool the sample lacks is dropped
    kept, dropped = picked(engine, "which approvals wait on me"), picked(engine, "approvals pending for me?")
    review.accept(candidate_id=kept, reviewer=ROOT)
    review.discard(candidate_id=dropped, reviewer=ROOT, note="unclear")
    after = build_training_set(reviewed.latest(review.directory), recipe=recipe, locked_texts=[])
    added = {(t, label) for t, label in zip(after.texts, after.labels, strict=True)} - set(
        zip(before.texts, before.labels, strict=True)
    )
    held = [e.text for e in after.held_out]
    assert added | {(text, "list_pending_approvals") for text in held} == {
        ("which approvals wait on me", "list_pending_approvals")
    }
    assert all("approvals pending for me?" not in text for text in after.texts)
