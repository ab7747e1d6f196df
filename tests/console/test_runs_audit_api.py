"""Runs (list, detail, retry through the policy) and audit (filters, visibility, verify) over the API."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine

from agent.service import Switchboard
from core.store.audit import AuditRecord
from core.store.checkpoints import Checkpointer
from core.store.db import write_session
from core.store.runs import RunStatus
from flows.config import RetryPolicy, SmtpConfig
from switchboard.settings import Settings
from tests.console.conftest import People
from tests.utils.audit_tamper import truncate
from tests.utils.factories import seed_basic
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.servers.smtp import SmtpServer


def failed_run(sb: Switchboard, tool: str, inputs: dict[str, object]) -> int:
    run, _ = sb.runner.runs.create(name=tool, actor="olive", inputs=inputs, versions={"tool": tool})
    assert run.id is not None
    sb.runner.runs.start(run.id)
    sb.runner.runs.fail(run.id, error="disk full", code="error")
    return run.id


def test_runs_list_filter_and_detail(
    client: TestClient, people: People, sb: Switchboard, engine: Engine
) -> None:
    seed_basic(engine)
    ok = sb.runner.call("export_dataset", {"dataset": "customers", "format": "csv"}, actor="olive").run
    bad = failed_run(sb, "apply_rules", {"ruleset": "vip_tiering", "dry_run": False})
    listed = client.get("/api/runs", headers=people("olive")).json()["runs"]
    assert [(r["id"], r["name"], r["status"]) for r in listed] == [
        (bad, "apply_rules", "failed"),
        (ok.id, "export_dataset", "succeeded"),
    ]
    failed = client.get("/api/runs?status=failed", headers=people("olive")).json()["runs"]
    assert [r["id"] for r in failed] == [bad]
    detail = client.get(f"/api/runs/{ok.id}", headers=people("olive")).json()
    assert detail["run"]["summary"].startswith("Exported ")
    assert (detail["steps"], detail["retries"], detail["run"]["inputs"]["dataset"]) == ([], [], "customers")
    missing = client.get("/api/runs/999", headers=people("olive"))
    assert (missing.status_code, missing.json()["detail"]) == (404, "run 999 does not exist")


def test_retry_a_failed_write_runs_it_again(
    client: TestClient, people: People, sb: Switchboard, engine: Engine
) -> None:
    seed_basic(engine)
    bad = failed_run(sb, "apply_rules", {"ruleset": "vip_tiering", "dry_run": False})
    response = client.post(f"/api/runs/{bad}/retry", headers=people("olive"))
    assert response.status_code == 200
    body = response.json()
    assert (body["approval_id"], body["run"]["parent_id"], body["run"]["attempt"], body["run"]["status"]) == (
        None,
        bad,
        2,
        "succeeded",
    )
    assert (
        client.get(f"/api/runs/{bad}", headers=people("olive")).json()["retries"][0]["id"]
        == body["run"]["id"]
    )
    again = client.post(f"/api/runs/{body['run']['id']}/retry", headers=people("olive"))
    assert again.status_code == 409
    assert again.json()["detail"] == f"run {body['run']['id']} is succeeded; only failed runs can be retried"


def test_retry_of_an_external_action_needs_an_approver(
    client: TestClient, people: People, sb: Switchboard
) -> None:
    bad = failed_run(
        sb, "send_notification", {"channel": "email", "recipient": "ops@example.com", "message": "hi"}
    )
    body = client.post(f"/api/runs/{bad}/retry", headers=people("olive")).json()
    assert body["run"] is None and body["approval_id"].startswith("apr_")
    assert (
        body["summary"] == f"Retrying run {bad} needs an approver: request {body['approval_id']} is waiting."
    )
    request = client.get(f"/api/approvals/{body['approval_id']}", headers=people("ann")).json()
    shown = ("tool", "args", "requester", "reasons", "risk", "quorum", "status")
    assert {key: request[key] for key in shown} == {
        "tool": "retry_run",
        "args": {"run_id": bad},
        "requester": "olive",
        "reasons": ["external action needs an approver"],
        "risk": "external",
        "quorum": 1,
        "status": "pending",
    }
    assert request["preview"] == {
        "summary": "Runs send_notification(channel=email, recipient=ops@example.com, message=hi) again as attempt 2 "
        f"of run {bad}, which failed: disk full. Send by email to email:ops@example.com: “hi”",
        "rows_affected": None,
        "file_name": None,
        "file_size": None,
        "recipients": ["email:ops@example.com"],
        "value": None,
        "details": {
            "channel": "email",
            "recipient": "ops@example.com",
            "characters": 2,
            "run_id": bad,
            "tool": "send_notification",
            "attempt": 2,
        },
    }
    assert [r.status for r in sb.runner.runs.list()] == [RunStatus.FAILED]


def test_audit_filters_and_visibility(client: TestClient, people: People, backend: ScriptedBackend) -> None:
    backend.enqueue("list_pending_approvals", {}, confidence=0.99)
    client.post("/api/threads/t1/messages", json={"text": "what waits"}, headers=people("olive"))
    backend.enqueue("list_runs", {}, confidence=0.99)
    client.post("/api/threads/t2/messages", json={"text": "runs"}, headers=people("oscar"))
    everything = client.get("/api/audit?limit=500", headers=people("root")).json()["records"]
    assert {r["actor"] for r in everything} >= {"olive", "oscar", "test"}
    mine = client.get("/api/audit?limit=500", headers=people("olive")).json()["records"]
    assert mine and {r["actor"] for r in mine} == {"olive"}
    tool = client.get("/api/audit?tool=list_runs", headers=people("ann")).json()["records"]
    assert [(r["event"], r["actor"]) for r in tool] == [("tool.call", "oscar"), ("agent.decision", "oscar")]
    events = client.get("/api/audit?event=agent.&user=olive", headers=people("ann")).json()["records"]
    assert [(r["event"], r["data"]["tool"]) for r in events] == [("agent.decision", "list_pending_approvals")]
    page = client.get("/api/audit?limit=2", headers=people("root")).json()
    assert len(page["records"]) == 2 and page["next_before"] == page["records"][-1]["seq"]
    rest = client.get(f"/api/audit?limit=500&before={page['next_before']}", headers=people("root")).json()
    everything = client.get("/api/audit?limit=500", headers=people("root")).json()["records"]
    assert [r["seq"] for r in page["records"] + rest["records"]] == [r["seq"] for r in everything]
    future = client.get("/api/audit?since=2999-01-01T00:00:00", headers=people("root")).json()
    assert future == {"records": [], "next_before": None}


def test_verify_reports_ok_then_the_first_altered_record(
    client: TestClient, people: People, engine: Engine
) -> None:
    client.post("/api/threads/t1/messages", json={"text": "help"}, headers=people("olive"))
    ok = client.get("/api/audit/verify", headers=people("olive")).json()
    assert (ok["ok"], ok["first_bad"], ok["reason"]) == (True, None, None) and ok["records"] >= 2
    with write_session(engine) as session:
        session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(actor="mallory"))
    bad = client.get("/api/audit/verify", headers=people("olive")).json()
    assert (bad["ok"], bad["first_bad"], bad["reason"]) == (False, 2, "its content does not match its hash")


def test_verify_holds_the_chain_against_the_signed_checkpoints(
    client: TestClient, people: People, engine: Engine, settings: Settings
) -> None:
    client.post("/api/threads/t1/messages", json={"text": "help"}, headers=people("olive"))
    signed = Checkpointer(engine=engine, settings=settings).run(force=True)
    assert signed is not None
    ok = client.get("/api/audit/verify", headers=people("olive")).json()
    assert (ok["ok"], ok["reason"], ok["checkpoints"]) == (
        True,
        None,
        f"1 checkpoint matches, the latest at record {signed.seq} (signed {signed.time} by key {signed.key_id})",
    )
    truncate(engine, keep=signed.seq - 1)  # the chain alone would say OK
    bad = client.get("/api/audit/verify", headers=people("olive")).json()
    expected = (
        f"TRUNCATED: the log ends at record {signed.seq - 1}, but the checkpoint signed {signed.time} covers "
        f"{signed.seq}: 1 record was removed from its end"
    )
    assert (bad["ok"], bad["first_bad"], bad["reason"], bad["checkpoints"]) == (
        False,
        None,
        expected,
        expected,
    )


def test_a_flow_with_a_failed_notify_step_is_in_the_failed_filter_and_in_chat(
    client: TestClient,
    people: People,
    sb: Switchboard,
    engine: Engine,
    backend: ScriptedBackend,
    smtp_server: SmtpServer,
) -> None:
    seed_basic(engine)
    sb.runner.settings = sb.runner.settings.model_copy(
        update={
            "retry": RetryPolicy(attempts=1, base_delay_s=0),
            "smtp": SmtpConfig(host="127.0.0.1", port=smtp_server.port, sender="switchboard@example.com"),
        }
    )
    sb.runner.today = lambda: datetime.now(UTC).date()  # the run is made now, not on the pinned demo date
    smtp_server.fail_next("550 5.1.1 Mailbox unavailable")
    flow = sb.runner.call("run_flow", {"flow": "nightly_sales_export"}, actor="olive").run
    assert flow is not None and flow.status == RunStatus.PARTIAL

    failed = client.get("/api/runs?status=failed", headers=people("olive")).json()["runs"]
    assert [(r["id"], r["name"], r["status"], r["error"]) for r in failed] == [
        (flow.id, "nightly_sales_export", "partial", flow.error)
    ]
    assert flow.error is not None and flow.error.startswith("step 3 (send_notification) failed: ")
    succeeded = client.get("/api/runs?status=succeeded", headers=people("olive")).json()["runs"]
    assert flow.id not in [r["id"] for r in succeeded]

    backend.enqueue("list_runs", {"status": "failed"}, confidence=0.99)
    reply = sb.chat(thread_id="t1", user="olive", role="operator", text="any failed runs?")
    assert (
        f"1 failed run in the last 7 days; 1 of them partly failed (a step failed): run {flow.id} "
        "(nightly_sales_export)." in reply.text
    )
