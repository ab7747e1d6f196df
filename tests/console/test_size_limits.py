"""Every size limit answers with the status HTTP defines for it (issue 15, finding 8), and a chat call whose
arguments cannot execute is a clear reply with nothing written (finding 2)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.store.approvals import ApprovalRequest
from core.store.audit import AuditLog
from core.store.runs import Run
from core.text import MESSAGE_LIMIT, REPLY_LIMIT
from tests.console.conftest import People
from tests.utils.factories import seed_basic
from tests.utils.fake_backend import ScriptedBackend


def test_a_chat_message_over_the_limit_is_413(client: TestClient, people: People) -> None:
    response = client.post("/api/threads/t1/messages", json={"text": "x" * 4_001}, headers=people("olive"))

    assert response.status_code == 413
    body = response.json()
    assert (body["type"], body["title"], body["status"], body["code"], body["detail"]) == (
        "urn:switchboard:problem:too_large",
        "Content Too Large",
        413,
        "too_large",
        "text: String should have at most 4000 characters",
    )
    streamed = client.post(
        "/api/threads/t1/messages/stream", json={"text": "x" * 4_001}, headers=people("olive")
    )
    assert (streamed.status_code, streamed.json()["code"]) == (413, "too_large")
    at_limit = client.post("/api/threads/t1/messages", json={"text": "x" * 4_000}, headers=people("olive"))
    assert at_limit.status_code == 200


def test_every_body_field_over_its_maximum_is_413(client: TestClient, people: People) -> None:
    reason = client.post("/api/approvals/apr_x/reject", json={"reason": "r" * 2_001}, headers=people("ann"))
    binding = client.post("/api/approvals/apr_x/approve", json={"binding": "b" * 65}, headers=people("ann"))
    password = client.post(
        "/api/me/password",
        json={"current_password": "x", "new_password": "p" * 1_025},
        headers=people("olive"),
    )
    for response in (reason, binding, password):
        assert (response.status_code, response.json()["code"]) == (413, "too_large"), response.text
    short = client.post("/api/threads/t1/messages", json={"text": ""}, headers=people("olive"))
    assert (short.status_code, short.json()["code"]) == (422, "bad_input")  # too short is not a size limit


def test_a_query_parameter_over_its_maximum_is_414(client: TestClient, people: People) -> None:
    response = client.get("/api/runs", params={"name": "n" * 101}, headers=people("olive"))
    assert response.status_code == 414
    assert (response.json()["title"], response.json()["code"], response.json()["detail"]) == (
        "URI Too Long",
        "uri_too_long",
        "name: String should have at most 100 characters",
    )


def test_a_request_uri_over_the_limit_is_414_before_routing(client: TestClient, people: People) -> None:
    response = client.get("/api/runs?name=" + "n" * 9_000, headers=people("olive"))
    assert response.status_code == 414
    assert response.json() == {
        "type": "urn:switchboard:problem:uri_too_long",
        "title": "URI Too Long",
        "status": 414,
        "detail": "the request URI is longer than the limit of 8,192 bytes",
        "code": "uri_too_long",
    }


def test_a_validation_problem_quotes_a_bounded_number_of_bounded_names(
    client: TestClient, people: People
) -> None:
    body: dict[str, Any] = {"text": "hi", **{f"{'k' * 500}{i}": 1 for i in range(1_000)}}
    response = client.post("/api/threads/t1/messages", json=body, headers=people("olive"))
    assert response.status_code == 422
    problem = response.json()
    assert len(problem["errors"]) == 50
    assert problem["detail"] == f"{'k' * 68}… 433 more characters: Extra inputs are not permitted"
    assert len(response.content) < 20_000


def _count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_create_order_with_an_impossible_quantity_is_a_clear_reply_and_writes_nothing(
    client: TestClient, people: People, backend: ScriptedBackend, engine: Engine
) -> None:
    seed_basic(engine)
    args = {"client_id": 1, "product": "A100X", "quantity": 99999999999999999999}
    backend.enqueue("create_order", args, confidence=0.97)

    response = client.post(
        "/api/threads/t1/messages",
        json={"text": "order 99999999999999999999 A100X for client 1"},
        headers=people("olive"),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["approval_id"] is None and body["run_id"] is None
    assert "'quantity' should be less than or equal to 1000000" in body["reply"]
    assert [_count(engine, model) for model in (ApprovalRequest, Run)] == [0, 0]
    events = [record.event for record in AuditLog(engine).iter_records()]
    assert not [event for event in events if event.startswith(("approval.", "run."))], events
    assert len(body["reply"]) <= REPLY_LIMIT and len(body["reply"]) < MESSAGE_LIMIT
