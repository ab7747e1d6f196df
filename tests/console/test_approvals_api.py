"""Approvals API: list, four-eyes and role refusals (403), decided or expired (409), run once, edit.

What a viewer is shown (``can_decide``, ``blocked``) and what the API lets them do both follow the approval rule,
with four-eyes on and off and under a quorum.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine

from agent.config import PolicyConfig, ToolPolicy
from agent.service import Switchboard
from core.store.approvals import ApprovalRequest
from core.store.db import utcnow, write_session
from core.store.runs import RunStatus
from switchboard.settings import Settings
from tests.console.conftest import People
from tests.utils.factories import seed_basic
from tests.utils.fake_backend import ScriptedBackend

DELIVER = {"file": "latest", "destination": "finance_share"}
FOUR_EYES = "four-eyes rule: you cannot approve your own request; another approver must decide it"
FOUR_EYES_NOTE = "Four-eyes rule: you asked for this (or edited it), so another approver must decide it."


@pytest.fixture
def policy() -> PolicyConfig | None:
    return None  # the configured policy; a test parametrizes ``policy`` to replace it


@pytest.fixture
def settings(settings: Settings, policy: PolicyConfig | None) -> Settings:
    return settings if policy is None else settings.model_copy(update={"policy": policy})


@pytest.fixture
def exported(sb: Switchboard, engine: Engine) -> int:
    seed_basic(engine)
    execution = sb.runner.call("export_dataset", {"dataset": "customers", "format": "csv"}, actor="olive")
    assert execution.result.artifact_ids
    return execution.result.artifact_ids[0]


def request_delivery(
    client: TestClient, people: People, backend: ScriptedBackend, user: str = "olive", thread: str = "t1"
) -> str:
    backend.enqueue("deliver_file", DELIVER, confidence=0.97)
    reply = client.post(
        f"/api/threads/{thread}/messages", json={"text": "send the export to finance"}, headers=people(user)
    ).json()
    assert reply["kind"] == "waiting", reply
    return str(reply["approval_id"])


def test_approver_sees_the_request_with_its_preview(
    client: TestClient, people: People, backend: ScriptedBackend, exported: int, settings: Settings
) -> None:
    approval_id = request_delivery(client, people, backend)
    listed = client.get("/api/approvals?status=pending", headers=people("ann")).json()["approvals"]
    assert [a["id"] for a in listed] == [approval_id]
    item = listed[0]
    assert (
        item["tool"],
        item["args"],
        item["requester"],
        item["status"],
        item["can_decide"],
        item["blocked"],
    ) == (
        "deliver_file",
        {"file": str(exported), "destination": "finance_share"},
        "olive",
        "pending",
        True,
        None,
    )
    assert item["reasons"] == ["external action needs an approver"]
    assert item["preview"]["file_name"] == "customers_2026-11-22.csv"
    assert item["preview"]["file_size"] == (settings.artifacts / "customers_2026-11-22.csv").stat().st_size
    own = client.get("/api/approvals", headers=people("olive")).json()["approvals"]
    assert [(a["id"], a["can_decide"], a["blocked"]) for a in own] == [
        (approval_id, False, "Only approvers and admins can approve requests.")
    ]
    assert client.get("/api/approvals", headers=people("oscar")).json() == {"approvals": []}
    assert client.get("/api/approvals/count", headers=people("ann")).json() == {"pending": 1}
    assert client.get(f"/api/approvals/{approval_id}", headers=people("oscar")).status_code == 403


def test_four_eyes_and_roles_are_403(
    client: TestClient, people: People, backend: ScriptedBackend, exported: int
) -> None:
    approval_id = request_delivery(client, people, backend, user="ann")
    own = client.post(f"/api/approvals/{approval_id}/approve", headers=people("ann"))
    assert own.status_code == 403
    assert own.json()["detail"] == FOUR_EYES
    operator = client.post(f"/api/approvals/{approval_id}/approve", headers=people("olive"))
    assert operator.status_code == 403
    assert (
        operator.json()["detail"]
        == "olive has the operator role; only approvers and admins can decide requests"
    )
    listed = client.get("/api/approvals", headers=people("ann")).json()["approvals"]
    assert listed[0]["blocked"] == FOUR_EYES_NOTE


def test_approve_runs_once_and_tells_the_requester(
    client: TestClient,
    people: People,
    backend: ScriptedBackend,
    exported: int,
    sb: Switchboard,
    settings: Settings,
) -> None:
    approval_id = request_delivery(client, people, backend)
    response = client.post(f"/api/approvals/{approval_id}/approve", headers=people("bob"))
    assert response.status_code == 200
    body = response.json()
    assert (body["executed"], body["approval"]["status"], body["approval"]["decided_by"]) == (
        True,
        "executed",
        "bob",
    )
    assert body["text"].startswith(
        f"Request {approval_id} (send artifact {exported} to finance share) "
        "was approved by bob and has run: Delivered customers_2026-11-22.csv"
    )
    again = client.post(f"/api/approvals/{approval_id}/approve", headers=people("ann"))
    assert again.status_code == 409
    assert again.json()["detail"] == f"approval request {approval_id} is already executed by bob"
    runs = [r for r in sb.runner.runs.list() if r.name == "deliver_file"]
    assert [(r.status, r.idempotency_key) for r in runs] == [(RunStatus.SUCCEEDED, approval_id)]
    assert (settings.var_dir / "share" / "finance" / "customers_2026-11-22.csv").is_file()
    history = client.get("/api/threads/t1/messages", headers=people("olive")).json()["messages"]
    assert history[-1]["text"] == body["text"]
    assert history[-1]["outcome"]["approval_id"] == approval_id
    assert history[-1]["outcome"]["run_id"] == body["run_id"] == runs[0].id


def test_reject_with_reason_then_approve_is_409(
    client: TestClient, people: People, backend: ScriptedBackend, exported: int
) -> None:
    approval_id = request_delivery(client, people, backend)
    missing = client.post(f"/api/approvals/{approval_id}/reject", json={}, headers=people("ann"))
    assert missing.status_code == 422
    rejected = client.post(
        f"/api/approvals/{approval_id}/reject", json={"reason": "wrong day"}, headers=people("ann")
    )
    assert rejected.status_code == 200
    assert rejected.json()["text"].endswith("was rejected by ann: wrong day")
    late = client.post(f"/api/approvals/{approval_id}/approve", headers=people("bob"))
    assert (late.status_code, late.json()["code"]) == (409, "conflict")
    other = client.post(f"/api/approvals/{approval_id}/reject", json={"reason": "x"}, headers=people("oscar"))
    assert other.status_code == 403
    history = client.get("/api/threads/t1/messages", headers=people("olive")).json()["messages"]
    assert history[-1]["text"] == rejected.json()["text"]


def test_expired_request_is_409(
    client: TestClient, people: People, backend: ScriptedBackend, exported: int, engine: Engine
) -> None:
    approval_id = request_delivery(client, people, backend)
    with write_session(engine) as session:
        session.execute(
            update(ApprovalRequest)
            .where(ApprovalRequest.id == approval_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    response = client.post(f"/api/approvals/{approval_id}/approve", headers=people("ann"))
    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"approval request {approval_id} expired at ")


def test_binding_must_match_what_was_shown(
    client: TestClient, people: People, backend: ScriptedBackend, exported: int
) -> None:
    approval_id = request_delivery(client, people, backend)
    stale = client.post(
        f"/api/approvals/{approval_id}/approve", json={"binding": "0" * 64}, headers=people("ann")
    )
    assert stale.status_code == 409
    assert (
        stale.json()["detail"]
        == f"approval request {approval_id} changed since it was shown; reload it before deciding"
    )
    shown = client.get(f"/api/approvals/{approval_id}", headers=people("ann")).json()["binding"]
    assert (
        client.post(
            f"/api/approvals/{approval_id}/approve", json={"binding": shown}, headers=people("ann")
        ).json()["executed"]
        is True
    )


def test_edit_creates_a_linked_request_that_the_editor_cannot_approve(
    client: TestClient, people: People, backend: ScriptedBackend, exported: int
) -> None:
    approval_id = request_delivery(client, people, backend)
    refused = client.post(
        f"/api/approvals/{approval_id}/edit", json={"args": DELIVER}, headers=people("oscar")
    )
    assert refused.status_code == 403
    invalid = client.post(
        f"/api/approvals/{approval_id}/edit",
        json={"args": {"file": "latest", "destination": "moon"}},
        headers=people("ann"),
    )
    assert invalid.status_code == 422 and invalid.json()["code"] == "bad_input"
    edited = client.post(
        f"/api/approvals/{approval_id}/edit",
        json={"args": {"file": str(exported), "destination": "finance_share"}},
        headers=people("ann"),
    )
    assert edited.status_code == 200
    new = edited.json()
    assert (new["parent_id"], new["edited_by"], new["requester"], new["status"]) == (
        approval_id,
        "ann",
        "olive",
        "pending",
    )
    old = client.get(f"/api/approvals/{approval_id}", headers=people("ann")).json()
    assert (old["status"], old["decision_reason"]) == ("superseded", f"edited as {new['id']}")
    assert client.post(f"/api/approvals/{new['id']}/approve", headers=people("ann")).status_code == 403
    assert (
        client.post(f"/api/approvals/{new['id']}/approve", headers=people("bob")).json()["executed"] is True
    )
    assert client.post(f"/api/approvals/{approval_id}/approve", headers=people("bob")).status_code == 409
    assert (
        client.post("/api/approvals/apr_0000000000000000/approve", headers=people("bob")).status_code == 404
    )


def _shown(client: TestClient, people: People, approval_id: str, viewer: str) -> tuple[bool, str | None]:
    item = client.get(f"/api/approvals/{approval_id}", headers=people(viewer)).json()
    return item["can_decide"], item["blocked"]


@pytest.mark.parametrize(
    ("policy", "shown", "answer"),
    [
        (PolicyConfig(four_eyes=True), (False, FOUR_EYES_NOTE), (403, FOUR_EYES, "pending")),
        (PolicyConfig(four_eyes=False), (True, None), (200, None, "executed")),
    ],
    ids=["four-eyes on", "four-eyes off"],
)
def test_an_approver_and_her_own_request(
    client: TestClient,
    people: People,
    backend: ScriptedBackend,
    exported: int,
    shown: tuple[bool, str | None],
    answer: tuple[int, str | None, str],
) -> None:
    approval_id = request_delivery(client, people, backend, user="ann")
    assert _shown(client, people, approval_id, "ann") == shown
    response = client.post(f"/api/approvals/{approval_id}/approve", headers=people("ann"))
    status = client.get(f"/api/approvals/{approval_id}", headers=people("bob")).json()["status"]
    assert (response.status_code, response.json().get("detail"), status) == answer


@pytest.mark.parametrize(
    "policy", [PolicyConfig(tools={"deliver_file": ToolPolicy(quorum=2)})], ids=["quorum 2"]
)
def test_a_quorum_counts_each_approver_once(
    client: TestClient, people: People, backend: ScriptedBackend, exported: int
) -> None:
    approval_id = request_delivery(client, people, backend)
    voted = "You approved this already; it needs 1 more approval(s) from other approvers."
    first = client.post(f"/api/approvals/{approval_id}/approve", headers=people("ann")).json()
    assert (first["executed"], first["approval"]["status"], first["approval"]["approvals"]) == (
        False,
        "pending",
        1,
    )
    assert (first["approval"]["can_decide"], first["approval"]["blocked"]) == (False, voted)
    assert _shown(client, people, approval_id, "ann") == (False, voted)
    assert _shown(client, people, approval_id, "bob") == (True, None)
    again = client.post(f"/api/approvals/{approval_id}/approve", headers=people("ann"))
    assert (again.status_code, again.json()["detail"]) == (
        409,
        f"ann has already approved request {approval_id}",
    )
    second = client.post(f"/api/approvals/{approval_id}/approve", headers=people("bob")).json()
    assert (second["executed"], second["approval"]["status"], second["approval"]["approvals"]) == (
        True,
        "executed",
        2,
    )
    assert _shown(client, people, approval_id, "root") == (False, "This request is already executed.")
