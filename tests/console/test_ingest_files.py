"""The HMAC-signed ingest webhook (replays refused), chart images and the latest eval report."""

from __future__ import annotations

import json
import os
import time

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agent.service import Switchboard
from console.app import create_app
from console.errors import Unauthorized
from console.webhook_signature import check_request, sign_request
from core.store.models import Customer
from switchboard.settings import Settings
from tests.console.conftest import People, login
from tests.utils.fake_backend import ScriptedBackend

SECRET = "webhook-secret-for-tests"
RECORDS = [
    {"id": 101, "name": "Nimbus Ltd", "email": "ops@nimbus.example", "region": "emea", "country": "FR"},
    {"id": 102, "name": "Orbit Co", "email": "hello@orbit.example", "region": "apac"},
    {"id": 103, "name": "", "email": "not-an-email", "region": "mars"},
]


@pytest.fixture
def hook(settings: Settings, sb: Switchboard) -> TestClient:
    app = create_app(settings.model_copy(update={"ingest_webhook_secret": SecretStr(SECRET)}), switchboard=sb)
    return TestClient(app)


def customers(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(Customer)).scalar_one())


def signed(
    body: bytes,
    *,
    path: str = "/api/ingest/customers",
    query: str = "",
    method: str = "POST",
    at: float | None = None,
    secret: str = SECRET,
) -> dict[str, str]:
    """The headers a sender adds: the timestamp and the v1 signature over it, method, path, query and body."""
    stamp = str(int(time.time() if at is None else at))
    signature = sign_request(secret, timestamp=stamp, method=method, path=path, query=query, body=body)
    return {"X-Switchboard-Timestamp": stamp, "X-Switchboard-Signature": signature}


def test_signed_records_are_ingested_once(hook: TestClient, engine: Engine) -> None:
    body = json.dumps(RECORDS).encode()
    response = hook.post(
        "/api/ingest/customers", content=body, headers={**signed(body), "Content-Type": "application/json"}
    )
    assert response.status_code == 200
    report = response.json()
    assert (
        report["dataset"],
        report["rows_loaded"],
        report["rows_quarantined"],
        report["already_ingested"],
    ) == ("customers", 2, 1, False)
    assert report["quarantined"][0]["line"] == 3
    assert customers(engine) == 2
    # Signed anew a second later: a new request, and the records' checksum makes it a no-op.
    again = hook.post("/api/ingest/customers", content=body, headers=signed(body, at=time.time() + 1))
    assert again.json()["already_ingested"] is True and customers(engine) == 2


def test_a_signed_query_is_accepted(hook: TestClient, engine: Engine) -> None:
    body = json.dumps(RECORDS).encode()
    response = hook.post(
        "/api/ingest/customers?mode=replace&source=crm",
        content=body,
        headers=signed(body, query="mode=replace&source=crm"),
    )
    assert (response.status_code, response.json()["rows_loaded"], customers(engine)) == (200, 2, 2)


WRONG = (
    "wrong X-Switchboard-Signature (expected v1=<HMAC-SHA256 of timestamp, method, path, query and body; "
    "see console/README.md>)"
)


def test_bad_or_missing_signatures_are_401(hook: TestClient, engine: Engine) -> None:
    body = json.dumps(RECORDS).encode()
    stamp = str(int(time.time()))
    missing = (
        "missing X-Switchboard-Signature or X-Switchboard-Timestamp header (expected v1=<HMAC-SHA256 of "
        "timestamp, method, path, query and body; see console/README.md>)"
    )
    for headers, detail in (
        ({}, missing),
        ({"X-Switchboard-Signature": signed(body)["X-Switchboard-Signature"]}, missing),
        ({"X-Switchboard-Timestamp": stamp}, missing),
        (signed(body, secret="other-secret"), WRONG),
        ({"X-Switchboard-Timestamp": stamp, "X-Switchboard-Signature": "v1=" + "0" * 64}, WRONG),
        ({"X-Switchboard-Timestamp": stamp, "X-Switchboard-Signature": "garbage"}, WRONG),
        (
            {**signed(body), "X-Switchboard-Timestamp": "soon"},
            "X-Switchboard-Timestamp must be whole seconds since 1970-01-01 UTC",
        ),
    ):
        response = hook.post("/api/ingest/customers", content=body, headers=headers)
        assert (response.status_code, response.json()["detail"]) == (401, detail), headers
    tampered = body.replace(b"Nimbus", b"Nimbu$")
    response = hook.post("/api/ingest/customers", content=tampered, headers=signed(body))
    assert (response.status_code, response.json()["detail"]) == (401, WRONG)
    assert customers(engine) == 0


def test_the_old_body_only_signature_is_refused_with_a_reason(hook: TestClient, engine: Engine) -> None:
    body = json.dumps(RECORDS).encode()
    import hashlib
    import hmac

    old = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Switchboard-Signature": old, "X-Switchboard-Timestamp": str(int(time.time()))}
    response = hook.post("/api/ingest/customers", content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"].startswith(
        "X-Switchboard-Signature sha256=<HMAC of the body> is no longer accepted: it let a request be replayed"
    )
    assert customers(engine) == 0


def test_an_old_or_future_timestamp_is_refused(hook: TestClient, engine: Engine) -> None:
    body = json.dumps(RECORDS).encode()
    sent = time.time()
    old = hook.post("/api/ingest/customers", content=body, headers=signed(body, at=sent - 301))
    took = time.time() - sent  # a busy machine may take seconds to answer; the age counts them
    assert old.status_code == 401
    assert old.json()["detail"] in {
        f"X-Switchboard-Timestamp is {age} s old, outside the 300 s window: sign each request when you send it"
        for age in range(301, 303 + int(took))
    }
    future = hook.post("/api/ingest/customers", content=body, headers=signed(body, at=time.time() + 3600))
    assert future.status_code == 401
    assert "s in the future, outside the 300 s window" in future.json()["detail"]
    assert customers(engine) == 0


def test_an_exact_replay_inside_the_window_is_refused(hook: TestClient, engine: Engine) -> None:
    body = json.dumps(RECORDS[:1]).encode()
    headers = signed(body)
    first = hook.post("/api/ingest/customers", content=body, headers=headers)
    assert (first.status_code, first.json()["rows_loaded"]) == (200, 1)
    replay = hook.post("/api/ingest/customers", content=body, headers=headers)
    assert (replay.status_code, replay.json()["code"], replay.json()["detail"]) == (
        409,
        "conflict",
        "this signed request was already received, so the replay is refused; sign each request anew, with the "
        "current X-Switchboard-Timestamp",
    )
    assert customers(engine) == 1


@pytest.mark.parametrize(
    ("url", "signed_for"),
    [
        ("/api/ingest/customers?mode=replace", {}),  # a query added to a request signed without one
        ("/api/ingest/customers?mode=replace", {"query": "mode=append"}),  # the query changed
        ("/api/ingest/orders", {}),  # signed for customers, sent to orders
        ("/api/ingest/customers", {"method": "PUT"}),  # signed for another method
    ],
)
def test_a_request_altered_in_method_path_or_query_is_401(
    hook: TestClient, engine: Engine, url: str, signed_for: dict[str, str]
) -> None:
    body = json.dumps(RECORDS).encode()
    response = hook.post(url, content=body, headers=signed(body, **signed_for))
    assert (response.status_code, response.json()["detail"]) == (401, WRONG)
    assert customers(engine) == 0


def test_the_signature_covers_method_path_query_and_timestamp() -> None:
    parts = {"method": "POST", "path": "/api/ingest/orders", "query": "mode=append", "body": b"[]"}
    good = sign_request(SECRET, timestamp=1_800_000_000, **parts)
    assert check_request(
        SECRET, signature=good, timestamp="1800000000", now=1_800_000_010, window_s=300, **parts
    ) == (
        good,
        1_800_000_000,
    )
    for name, value in (
        ("method", "GET"),
        ("path", "/api/ingest/customers"),
        ("query", "mode=replace"),
        ("body", b"[{}]"),
    ):
        altered = {**parts, name: value}
        with pytest.raises(Unauthorized, match="^wrong X-Switchboard-Signature"):
            check_request(
                SECRET, signature=good, timestamp="1800000000", now=1_800_000_010, window_s=300, **altered
            )
    with pytest.raises(Unauthorized, match="^wrong X-Switchboard-Signature"):
        check_request(
            SECRET, signature=good, timestamp="1800000001", now=1_800_000_010, window_s=300, **parts
        )


def test_signed_but_malformed_bodies_are_422(hook: TestClient) -> None:
    for body in (b"{not json", b'{"id": 1}', b"[]"):
        response = hook.post("/api/ingest/customers", content=body, headers=signed(body))
        assert response.status_code == 422, body
    unknown = hook.post(
        "/api/ingest/planets", content=b"[]", headers=signed(b"[]", path="/api/ingest/planets")
    )
    assert unknown.status_code == 422


def test_webhook_is_off_without_a_secret(client: TestClient) -> None:
    response = client.post("/api/ingest/customers", json=RECORDS)
    assert (response.status_code, response.json()["code"]) == (503, "unavailable")


def test_report_charts_are_served_by_name_only(
    client: TestClient, people: People, backend: ScriptedBackend, settings: Settings
) -> None:
    backend.enqueue("run_report", {"report": "sales_by_region", "period": "last_month"}, confidence=0.95)
    reply = client.post(
        "/api/threads/t1/messages", json={"text": "sales by region last month"}, headers=people("olive")
    ).json()
    assert reply["table"]["columns"][0] == "region"
    assert reply["chart_url"].startswith("/charts/") and reply["chart_url"].endswith(".png")
    image = client.get(reply["chart_url"], headers=people("olive"))
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(reply["chart_url"]).status_code == 401
    secret = settings.var_dir / "secret.png"
    secret.write_bytes(b"\x89PNG not for you")
    for path in (
        "/charts/..%2Fsecret.png",
        "/charts/%2E%2E%2F%2E%2E%2Fsecret.png",
        "/charts/secret.png",
        "/charts/.hidden.png",
    ):
        assert client.get(path, headers=people("olive")).status_code in (404, 422), path


def test_latest_eval_report(client: TestClient, people: People, settings: Settings) -> None:
    missing = client.get("/api/evals/latest", headers=people("olive"))
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no eval report yet: run 'switchboard eval --report var/evals/latest'"
    old, new = settings.var_dir / "evals" / "old", settings.var_dir / "evals" / "nightly"
    for folder, accuracy in ((old, 0.5), (new, 0.93)):
        folder.mkdir(parents=True)
        (folder / "summary.json").write_text(json.dumps({"n": 10, "tool_accuracy": accuracy}))
        (folder / "reliability.png").write_bytes(b"\x89PNG\r\n\x1a\nplot")
    os.utime(old / "summary.json", (1_000_000, 1_000_000))
    report = client.get("/api/evals/latest", headers=people("olive")).json()
    assert (report["name"], report["summary"], report["plots"]) == (
        "nightly",
        {"n": 10, "tool_accuracy": 0.93},
        ["/evals/files/nightly/reliability.png"],
    )
    plot = client.get("/evals/files/nightly/reliability.png", headers=people("olive"))
    assert plot.content == b"\x89PNG\r\n\x1a\nplot"
    assert client.get("/evals/files/nightly/confusion.png", headers=people("olive")).status_code == 404
    assert client.get("/evals/files/..%2Fx/reliability.png", headers=people("olive")).status_code in (
        404,
        422,
    )
    login(client, "olive")
    page = client.get("/evals")
    assert "93.0 %" in page.text and 'src="/evals/files/nightly/reliability.png"' in page.text
