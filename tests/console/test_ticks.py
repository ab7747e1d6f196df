"""The background ticks: a missed schedule runs once; overdue approval requests expire; audit checkpoints are
signed (and refused for a tampered log); the engine fires ticks."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from agent.service import Switchboard, open_switchboard
from agent.ticker import Ticker
from core.audit_keys import checkpoint_path, trusted_keys
from core.store.approval_ops import get_request
from core.store.approvals import ApprovalRequest, ApprovalStatus
from core.store.audit import AuditLog
from core.store.checkpoints import Checkpointer, read_checkpoints, verify_log
from core.store.db import utcnow, write_session
from core.store.runs import RunStatus
from flows.config import RetryPolicy
from flows.operations.schedules import create_schedule
from switchboard.settings import Settings
from tests.utils.audit_tamper import fill, rewrite
from tests.utils.factories import seed_basic

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The missed-schedule alert mails ops, and no SMTP server runs here: fail fast instead of backing off.
    return settings.model_copy(update={"retry": RetryPolicy(attempts=1, base_delay_s=0)})


def test_a_missed_schedule_runs_once(sb: Switchboard, engine: Engine) -> None:
    seed_basic(engine)
    create_schedule(
        engine=engine, flow="customer_sync", cron="0 6 * * *", actor="olive", now=NOW - timedelta(days=5)
    )
    ticker = Ticker(sb.runner, sb.approvals)
    first = ticker.tick(NOW)
    assert [(f["flow"], f["status"]) for f in first["fired"]] == [("customer_sync", "succeeded")]
    assert ticker.tick(NOW)["fired"] == []
    assert [(r.name, r.status, r.actor) for r in sb.runner.runs.list()] == [
        ("customer_sync", RunStatus.SUCCEEDED, "scheduler")
    ]


def test_overdue_requests_expire_and_the_requester_is_told(sb: Switchboard, engine: Engine) -> None:
    request = sb.approvals.request(
        tool="send_notification",
        requester="olive",
        thread_id="t1",
        reasons=["external"],
        args={"channel": "email", "recipient": "ops@example.com", "message": "hi"},
    )
    with write_session(engine) as session:
        session.execute(
            update(ApprovalRequest)
            .where(ApprovalRequest.id == request.id)
            .values(expires_at=NOW - timedelta(minutes=1))
        )
    report = Ticker(sb.runner, sb.approvals).tick(NOW)
    assert report["expired"] == 1
    history = sb.history(thread_id="t1", user="olive")
    assert history[-1].text.startswith(f"Request {request.id} (send “")
    assert history[-1].text.endswith("expired before anyone decided, so it did not run.")
    assert sb.approvals.pending() == []
    assert sb.runner.runs.list() == []
    assert get_request(engine=engine, approval_id=request.id).status == ApprovalStatus.EXPIRED


def test_a_tick_signs_a_due_audit_checkpoint_and_refuses_a_tampered_log(
    sb: Switchboard, engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    fill(engine, 3)
    ticker = Ticker(sb.runner, sb.approvals, Checkpointer(engine=engine, settings=settings))
    head = AuditLog(engine).head().seq
    assert ticker.tick(NOW)["checkpoint"] == head  # the first checkpoint comes at once
    fill(engine, 1)
    assert ticker.tick(NOW)["checkpoint"] is None  # 1 record, less than 5 minutes: not due yet
    rewrite(engine, seq=2)
    with caplog.at_level("ERROR", logger="agent.ticker"):
        forced = Ticker(
            sb.runner,
            sb.approvals,
            Checkpointer(engine=engine, settings=settings.model_copy(update={"audit_checkpoint_every": 1})),
        )
        assert forced.tick(NOW)["checkpoint"] is None
    assert [r.getMessage() for r in caplog.records if r.name == "agent.ticker"] == [
        f"audit checkpoint not written: not signing a checkpoint: record {head + 1} does not fit "
        "(its prev_hash does not match the previous record)"
    ]
    assert [cp.seq for _, cp in read_checkpoints(checkpoint_path(settings))] == [head]


def test_the_durable_engine_fires_the_ticks(settings: Settings, engine: Engine) -> None:
    seed_basic(engine)
    create_schedule(
        engine=engine, flow="customer_sync", cron="0 6 * * *", actor="olive", now=utcnow() - timedelta(days=3)
    )
    every_second = settings.model_copy(update={"tick_seconds": 1})
    with open_switchboard(every_second, engine, durable_as="console-0") as sb:
        deadline = time.monotonic() + 20
        while not sb.runner.runs.list() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2.5)  # two more ticks: the schedule is not due again, so nothing else runs
        runs = sb.runner.runs.list()

    assert [(r.name, r.status, r.actor) for r in runs] == [
        ("customer_sync", RunStatus.SUCCEEDED, "scheduler")
    ]
    assert (runs[0].idempotency_key or "").startswith("schedule:")
    # The ticks also signed the audit log's head (the first checkpoint comes at once), and it still matches.
    outcome = verify_log(
        engine, checkpoints=read_checkpoints(checkpoint_path(settings)), keys=trusted_keys(settings)
    )
    assert outcome.chain.ok and outcome.checkpoints is not None and outcome.checkpoints.ok


def test_the_app_opens_its_own_service_on_the_durable_engine(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from console.app import create_app
    from core.durable import launched

    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
        assert launched()
    assert not launched()
