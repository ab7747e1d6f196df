"""Chat over the JSON API and SSE: the minimum contract, confirmations, approvals, ownership, streaming."""

from __future__ import annotations

import json
import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core.store.db import read_session
from core.store.models import Order
from flows.demo.data import load_demo
from switchboard.settings import Settings
from tests.conftest import REFERENCE_DATE
from tests.console.conftest import People
from tests.utils.fake_backend import ScriptedBackend

NOTIFY = {"channel": "email", "recipient": "ops@example.com", "message": "hi"}


def test_read_tool_reply_has_the_minimum_contract(
    client: TestClient, people: People, backend: ScriptedBackend
) -> None:
    backend.enqueue("list_pending_approvals", {}, confidence=0.99)
    response = client.post(
        "/api/threads/t1/messages", json={"text": "what is waiting?"}, headers=people("olive")
    )
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "thread_id": "t1",
        "reply": "Nothing is waiting for approval.",
        "decision": {
            "tool": "list_pending_approvals",
            "args": {},
            "confidence": 0.99,
            "action": "execute",
            "backend": "embedded",
            "reasons": body["decision"]["reasons"],
        },
        "approval_id": None,
        "run_id": None,
        "kind": "answer",
        "table": {
            "title": "Pending approvals",
            "columns": ["id", "tool", "args", "requested_by", "reasons", "expires"],
            "rows": [],
        },
        "chart_url": None,
        "buttons": [],
        "notes": [],
    }


def test_write_asks_for_confirmation_then_yes_runs_it(
    client: TestClient, people: People, backend: ScriptedBackend
) -> None:
    backend.enqueue("schedule_flow", {"flow": "customer_sync", "cron": "0 6 * * *"}, confidence=0.95)
    first = client.post(
        "/api/threads/t1/messages", json={"text": "sync customers daily at 6"}, headers=people("olive")
    )
    assert re.fullmatch(
        r"Shall I schedule the customer sync flow at “0 6 \* \* \*”\? Its first run would be [-\d]+ 06:00 UTC\.",
        first.json()["reply"],
    )
    assert (first.json()["kind"], first.json()["buttons"], first.json()["decision"]["action"]) == (
        "confirm",
        ["yes", "no"],
        "confirm",
    )
    second = client.post("/api/threads/t1/messages", json={"text": "yes"}, headers=people("olive")).json()
    assert second["reply"].startswith("Scheduled customer_sync at '0 6 * * *' (schedule 1)")
    assert isinstance(second["run_id"], int)


def test_external_action_waits_for_approval(
    client: TestClient, people: People, backend: ScriptedBackend
) -> None:
    backend.enqueue("send_notification", NOTIFY, confidence=0.95)
    body = client.post(
        "/api/threads/t1/messages", json={"text": "email ops hi"}, headers=people("olive")
    ).json()
    assert (body["kind"], body["decision"]["action"], body["run_id"]) == ("waiting", "approve", None)
    assert body["approval_id"].startswith("apr_")
    assert f"Request {body['approval_id']} is waiting for approval" in body["reply"]
    pending = client.get("/api/approvals?status=pending", headers=people("ann")).json()["approvals"]
    assert [(a["id"], a["requester"], a["tool"], a["args"]) for a in pending] == [
        (body["approval_id"], "olive", "send_notification", NOTIFY)
    ]


def test_help_has_no_tool_decision(client: TestClient, people: People) -> None:
    body = client.post("/api/threads/t1/messages", json={"text": "help"}, headers=people("olive")).json()
    assert body["decision"] == {
        "tool": None,
        "args": {},
        "confidence": 0.0,
        "action": "refuse",
        "backend": "none",
        "reasons": [],
    }
    assert body["reply"].splitlines()[0] == "Here is what you can ask me, olive (operator):"


def test_threads_belong_to_their_owner(client: TestClient, people: People) -> None:
    client.post("/api/threads/t1/messages", json={"text": "help"}, headers=people("olive"))
    for method, path, kwargs in (
        ("GET", "/api/threads/t1/messages", {}),
        ("POST", "/api/threads/t1/messages", {"json": {"text": "help"}}),
    ):
        response = client.request(method, path, headers=people("oscar"), **kwargs)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json() == {
            "type": "urn:switchboard:problem:forbidden",
            "title": "Forbidden",
            "status": 403,
            "detail": "thread t1 belongs to another user",
            "code": "forbidden",
        }
    assert client.get("/api/threads", headers=people("oscar")).json() == {"threads": []}


def test_thread_list_and_history(client: TestClient, people: People, backend: ScriptedBackend) -> None:
    client.post("/api/threads/alpha/messages", json={"text": "help"}, headers=people("olive"))
    backend.enqueue(None, confidence=0.97)
    client.post("/api/threads/beta/messages", json={"text": "what's the weather"}, headers=people("olive"))
    threads = client.get("/api/threads", headers=people("olive")).json()["threads"]
    assert [(t["thread_id"], t["title"], t["messages"]) for t in threads] == [
        ("beta", "what's the weather", 2),
        ("alpha", "help", 2),
    ]
    history = client.get("/api/threads/beta/messages", headers=people("olive")).json()
    assert [(m["role"], m["text"][:20]) for m in history["messages"]] == [
        ("user", "what's the weather"),
        ("assistant", "I didn't catch a req"),
    ]
    assert history["messages"][1]["reply"]["decision"]["action"] == "refuse"
    newer = client.get(
        f"/api/threads/beta/messages?after={history['messages'][0]['id']}", headers=people("olive")
    )
    assert [m["role"] for m in newer.json()["messages"]] == ["assistant"]


def _events(text: str) -> list[tuple[str, dict[str, object]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_stream_sends_pieces_then_the_full_reply(client: TestClient, people: People) -> None:
    response = client.post("/api/threads/s1/messages/stream", json={"text": "help"}, headers=people("olive"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    deltas = [data["text"] for name, data in events if name == "delta"]
    ((name, final),) = [e for e in events if e[0] == "done"]
    assert events[-1][0] == "done" and len(deltas) > 3
    assert "".join(deltas) == final["reply"]
    stored = client.get("/api/threads/s1/messages", headers=people("olive")).json()["messages"][-1]
    assert stored["reply"] == final


def test_a_stream_cut_off_mid_way_loses_nothing(client: TestClient, people: People) -> None:
    with client.stream(
        "POST", "/api/threads/s2/messages/stream", json={"text": "help"}, headers=people("olive")
    ) as response:
        first = next(response.iter_lines())
        assert first == "event: delta"
    history = client.get("/api/threads/s2/messages", headers=people("olive")).json()["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[1]["text"].startswith("Here is what you can ask me, olive (operator):")
    assert history[1]["text"].endswith(history[1]["reply"]["reply"][-40:])


def test_bad_requests_are_problems(client: TestClient, people: People) -> None:
    no_auth = client.post("/api/threads/t1/messages", json={"text": "hi"})
    assert no_auth.status_code == 401 and no_auth.headers["www-authenticate"] == 'Bearer realm="switchboard"'
    assert no_auth.json()["code"] == "unauthorized"
    bad_token = client.get("/api/threads", headers={"Authorization": "Bearer sb_nope"})
    assert bad_token.status_code == 401
    assert (
        bad_token.json()["detail"]
        == "the API token is not valid; create one with 'switchboard users token NAME'"
    )
    colon = client.post("/api/threads/approval:apr_1/messages", json={"text": "hi"}, headers=people("olive"))
    assert colon.status_code == 422 and colon.json()["code"] == "bad_input"
    empty = client.post("/api/threads/t1/messages", json={"text": ""}, headers=people("olive"))
    assert empty.status_code == 422
    assert empty.json()["detail"] == "text: String should have at least 1 character"
    extra = client.post("/api/threads/t1/messages", json={"text": "hi", "x": 1}, headers=people("olive"))
    assert extra.status_code == 422


def test_an_export_streams_the_rows_written_before_its_reply(
    client: TestClient, people: People, backend: ScriptedBackend, settings: Settings, engine: Engine
) -> None:
    load_demo(engine=engine, settings=settings, today=REFERENCE_DATE)
    backend.enqueue(
        "export_dataset", {"dataset": "orders", "format": "csv", "period": "last_year"}, confidence=0.95
    )
    asked = client.post(
        "/api/threads/x1/messages/stream", json={"text": "export orders"}, headers=people("olive")
    )
    assert [name for name, _ in _events(asked.text)][-1] == "done"  # a question: no export, no progress
    assert "progress" not in [name for name, _ in _events(asked.text)]
    response = client.post("/api/threads/x1/messages/stream", json={"text": "yes"}, headers=people("olive"))
    events = _events(response.text)
    names = [name for name, _ in events]
    assert names[0] == "progress" and names[-1] == "done"
    assert names.index("delta") > max(i for i, name in enumerate(names) if name == "progress")
    written = [data["rows"] for name, data in events if name == "progress"]
    assert written == sorted(written)
    with read_session(engine) as session:
        in_2025 = Order.order_date.between(date(2025, 1, 1), date(2025, 12, 31))  # type: ignore[attr-defined]
        exported = session.execute(select(func.count()).select_from(Order).where(in_2025)).scalar_one()
    assert written[-1] == exported > 1000
    assert f"{exported:,} rows of orders" in str(events[-1][1]["reply"])
