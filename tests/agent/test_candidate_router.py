"""Candidate routers end to end: the gate refuses a harmful one and passes a good one, promotion and rollback
restore routers bit for bit, the shadow never changes a decision, and a replayed day shows the disagreements.

Training costs seconds, so one session fixture trains three small routers once (every 12th base example, gated
on every 10th dev line): a baseline made live as if promoted, a candidate taught wrong and one taught right. Each
test copies them into its own var folder.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from agent.backends.base import DecideRequest
from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.embedded.calibration import JointCalibration
from agent.backends.factory import (
    SHIPPED_DIR,
    build_embedded,
    examples_fingerprint,
    live_router,
    load_kept_router,
    load_router,
)
from agent.modelops import candidate_ops
from agent.modelops import reviewed as reviewed_files
from agent.modelops.candidate_models import GateResult, LivePointer, MetricCheck
from agent.modelops.candidate_store import (
    file_hashes,
    read_manifest,
    read_pointer,
    router_folder,
    write_manifest,
    write_pointer,
)
from agent.modelops.candidate_train import train_candidate
from agent.modelops.events import SHADOW_EVENT, ShadowData
from agent.state import DecisionRecord
from core.store.audit import AuditLog
from core.store.db import make_engine, utcnow
from core.store.schema import init_db
from switchboard.cli import app
from switchboard.commands import router_gate
from switchboard.commands.router_gate import CandidateReport, fit_calibration, locked_split, train_and_gate
from switchboard.settings import Settings, load_settings
from tests.utils.candidates import SMALL, good_set, harmful_set
from tools.registry import build_registry

REPORT_MESSAGES = [
    "show me last month's sales by region",
    "run the sales by region report for this year",
    "what were sales by region last quarter",
]
OTHER_MESSAGES = ["what's the weather like in Paris", "look up the customer Globex Industrial"]


@dataclass(frozen=True)
class Trained:
    """The session's routers, in a template var folder."""

    var: Path
    baseline: str
    harmful: CandidateReport
    good: CandidateReport


def _settings(var: Path) -> Settings:
    return load_settings(var_dir=var, database_url=f"sqlite:///{var / 'switchboard.db'}")


# The session fixture trains and gates three routers: about 90 s on a quiet day of this 2-core machine, 280 s on a
# day it ran three times slower (2026-12-05), more beside the rest of the suite. The suite's 300 s guard would stop it.
pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    with pytest.MonkeyPatch.context() as env:
        env.delenv("SWITCHBOARD_CONFIG", raising=False)
        env.delenv("SWITCHBOARD_DATABASE_URL", raising=False)
        var = tmp_path_factory.mktemp("candidates") / "var"
        settings, registry = _settings(var), build_registry()
        dev = locked_split()
        sample = dev[:: SMALL.dev_every]
        baseline = train_candidate(
            var_dir=var,
            reviewed=reviewed_files.EMPTY,
            recipe=SMALL,
            locked_texts=[e.text for e in dev],
            calibrate=lambda router, fp: fit_calibration(
                router, fp, dev=sample, registry=registry, settings=settings
            )[0],
        )
        fingerprint = baseline.manifest.fingerprint
        # The baseline stands in for the live router, as if promoted earlier: same recipe, so the gate is fair.
        write_pointer(var, LivePointer(live=fingerprint, updated_at=utcnow(), updated_by="test"))
        # These small routers (every 12th example) calibrate on a few hundred lines. Measured on 2026-12-05: with
        # that day's extractor and refusal rules, which neither router's training sees, the good candidate's ECE on
        # its held-out reviewed lines came out 0.014 to 0.019 above the baseline's (three fixture variants tried);
        # without them, within 0.01. So the gate here allows ECE that noise; every other metric keeps the default.
        settings = settings.model_copy(
            update={"router_gate": settings.router_gate.model_copy(update={"ece": 0.03})}
        )
        reviewed_files.write_next(var / "training", harmful_set())
        harmful = train_and_gate(settings=settings, registry=registry, recipe=SMALL)
        reviewed_files.write_next(var / "training", good_set())
        good = train_and_gate(settings=settings, registry=registry, recipe=SMALL)
        yield Trained(var, fingerprint, harmful, good)


@pytest.fixture
def var(trained: Trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A var folder of this test's own with the session's routers and pointer, and the CLI's env pointing at it."""
    folder = tmp_path / "var"
    shutil.copytree(trained.var / "routers", folder / "routers")
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(folder))
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{folder / 'switchboard.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    monkeypatch.setattr(router_gate, "DEFAULT_RECIPE", SMALL)
    return folder


@pytest.fixture
def db(var: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{var / 'switchboard.db'}")
    init_db(engine)
    yield engine
    engine.dispose()


def invoke(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def events(engine: Engine, event: str) -> list[dict[str, object]]:
    return [json.loads(r.data) for r in AuditLog(engine).iter_records() if r.event == event]


def test_the_gate_refuses_the_harmful_candidate_on_tool_accuracy_and_passes_the_good_one(
    trained: Trained,
) -> None:
    harmful, good = trained.harmful.gate, trained.good.gate
    assert [(c.split, c.metric) for c in harmful.checks] == [
        (split, metric)
        for split in ("dev", "reviewed")
        for metric in ("tool_accuracy", "false_refusal_rate", "oos_recall", "ece")
    ]
    assert not harmful.passed and "tool_accuracy (dev)" in harmful.refused_by
    accuracy = harmful.checks[0]
    assert accuracy.delta is not None and accuracy.delta < -accuracy.tolerance
    assert good.passed, good.refused_by
    assert harmful.live_fingerprint == good.live_fingerprint == trained.baseline
    counts = trained.good.trained.manifest.counts
    assert (
        counts.held_out > 0
        and counts.reviewed_train + counts.held_out + counts.dropped_locked == counts.reviewed
    )


def test_cli_refuses_a_harmful_candidate_naming_the_metric(trained: Trained, var: Path) -> None:
    (var / "training").mkdir()
    shutil.copy(trained.var / "training" / "reviewed-v0001.jsonl", var / "training")

    out = invoke("router", "train", "--candidate", code=1)

    fingerprint = trained.harmful.trained.manifest.fingerprint
    assert f"Candidate {fingerprint}" in out
    assert "dropped as lines of the locked dev split" in out
    assert "Refused: the candidate is worse than the live router on tool_accuracy (dev)" in out
    refused = invoke("router", "promote", fingerprint, code=2)
    assert f"candidate {fingerprint} was refused by the gate on tool_accuracy (dev)" in refused


def test_a_good_candidate_is_promoted_and_rollback_restores_the_old_router_bit_for_bit(
    trained: Trained, var: Path, db: Engine
) -> None:
    settings = _settings(var)
    before = live_router(settings)
    hashes = file_hashes(before.folder)
    good = trained.good.trained.manifest.fingerprint
    assert before.fingerprint == trained.baseline and len(hashes) == 6

    assert f"Live router is now {good}" in invoke("router", "promote", good, "--as", "ann")
    assert live_router(settings).fingerprint == good
    promoted = load_router(settings).predict(REPORT_MESSAGES)
    assert promoted == load_kept_router(router_folder(var, good)).predict(REPORT_MESSAGES)
    listing = invoke("router", "candidates")
    assert f"{good}" in listing and "live" in listing and "previous" in listing

    invoke("router", "rollback", "--as", "ann")

    after = live_router(settings)
    assert (after.fingerprint, file_hashes(after.folder)) == (before.fingerprint, hashes)
    assert (router_folder(var, good) / "router.npz").is_file()  # the promoted one is kept too
    assert [e["fingerprint"] for e in events(db, "router.promoted")] == [good]
    assert events(db, "router.rolled_back") == [{"fingerprint": trained.baseline, "from": good}]


def test_promotion_from_the_shipped_router_keeps_a_copy_that_rollback_restores(
    trained: Trained, var: Path, db: Engine
) -> None:
    settings = _settings(var)
    (var / "routers" / "LIVE.json").unlink()
    shipped = examples_fingerprint()
    before = live_router(settings)
    assert (before.fingerprint, before.folder, before.pinned) == (shipped, SHIPPED_DIR, False)
    hashes = file_hashes(SHIPPED_DIR)
    # The baseline, recorded as having passed a gate against the shipped router (the gate itself is tested above).
    manifest = read_manifest(var, trained.baseline)
    check = MetricCheck(
        split="dev",
        metric="tool_accuracy",
        live=0.9,
        candidate=0.9,
        delta=0.0,
        tolerance=0.01,
        support=1467,
        gated=True,
        passed=True,
    )
    gate = GateResult(
        live_fingerprint=shipped, candidate_fingerprint=trained.baseline, checks=[check], decided_at=utcnow()
    )
    write_manifest(router_folder(var, trained.baseline), manifest.model_copy(update={"gate": gate}))

    candidate_ops.promote(settings=settings, engine=db, fingerprint=trained.baseline, actor="ann")
    assert file_hashes(router_folder(var, shipped)) == hashes
    candidate_ops.rollback(settings=settings, engine=db, actor="ann")

    after = live_router(settings)
    assert (after.fingerprint, file_hashes(after.folder)) == (shipped, hashes)
    assert after.folder == router_folder(var, shipped)


def test_the_shadow_decides_beside_the_live_router_without_changing_its_decision(
    trained: Trained, var: Path, db: Engine
) -> None:
    settings, registry = _settings(var), build_registry()
    harmful = trained.harmful.trained.manifest.fingerprint
    candidate_ops.set_shadow(settings=settings, engine=db, fingerprint=harmful, actor="ann")
    folder = router_folder(var, trained.baseline)
    plain = EmbeddedBackend(
        router=load_kept_router(folder),
        registry=registry,
        calibration=JointCalibration.load(folder / "calibration.json"),
    )
    shadowed = build_embedded(settings, registry=registry, engine=db)
    today = datetime(2026, 11, 22, tzinfo=UTC).date()

    for text in REPORT_MESSAGES + OTHER_MESSAGES:
        request = DecideRequest(
            text=text, today=today, allowed_tools=[s.name for s in registry.for_role("operator")]
        )
        with_shadow, without = shadowed.decide(request), plain.decide(request)
        assert with_shadow.model_dump(exclude={"latency_ms"}) == without.model_dump(exclude={"latency_ms"})

    records = [ShadowData.model_validate(data) for data in events(db, SHADOW_EVENT)]
    assert [r.text for r in records] == REPORT_MESSAGES + OTHER_MESSAGES
    assert {(r.live_fingerprint, r.candidate_fingerprint) for r in records} == {(trained.baseline, harmful)}
    assert any(r.candidate.tool == "lookup_customer" and r.live.tool == "run_report" for r in records)

    # Turning the shadow off applies to the running backend at the next message (the pointer's mtime changed).
    invoke("router", "shadow", "--off")
    shadowed.decide(DecideRequest(text=REPORT_MESSAGES[0], today=today))
    assert len(events(db, SHADOW_EVENT)) == len(records)
    assert read_pointer(var) == read_pointer(var).model_copy(update={"shadow": None})  # type: ignore[union-attr]


def test_replaying_a_day_shows_where_live_and_candidate_disagree(
    trained: Trained, var: Path, db: Engine
) -> None:
    audit = AuditLog(db)
    for text in REPORT_MESSAGES + OTHER_MESSAGES:
        record = DecisionRecord(tool="run_report", confidence=0.9, action="execute", text=text)
        audit.append(
            "agent.decision", actor="olive", subject="thread:t1", data=record.model_dump(mode="json")
        )
    audit.append("tool.call", actor="olive", subject="thread:t1", data={"tool": "run_report"})
    harmful = trained.harmful.trained.manifest.fingerprint
    day = utcnow().date().isoformat()

    out = invoke("router", "replay", "--day", day, "--candidate", harmful)

    written = router_folder(var, harmful) / f"replay-{day}.jsonl"
    disagreements = [ShadowData.model_validate_json(line) for line in written.read_text().splitlines()]
    assert disagreements and all(not d.agree for d in disagreements)
    assert "show me last month's sales by region" in out and "lookup_customer" in out
    assert f"{len(disagreements)} of {len(REPORT_MESSAGES + OTHER_MESSAGES)} messages on {day}" in out
    assert invoke("router", "replay", "--day", "2020-01-01", "--candidate", harmful).endswith(
        f"0 of 0 messages on 2020-01-01 decided differently; written to {router_folder(var, harmful)}/"
        "replay-2020-01-01.jsonl.\n"
    )
