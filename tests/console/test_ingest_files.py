"""The HMAC-signed ingest webhook, chart images and the latest eval report."""

from __future__ import annotations

import json
import os

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from agent.service import Switchboard
from console.app import create_app
from console.routes.ingest import sign
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


def test_signed_records_are_ingested_once(hook: TestClient, engine: Engine) -> None:
    body = json.dumps(RECORDS).encode()
    response = hook.post(
        "/api/ingest/customers",
        content=body,
        headers={"X-Switchboard-Signature": sign(SECRET, body), "Content-Type": "application/json"},
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
    again = hook.post(
        "/api/ingest/customers", content=body, headers={"X-Switchboard-Signature": sign(SECRET, body)}
    )
    assert again.json()["already_ingested"] is True and customers(engine) == 2


def test_bad_or_missing_signatures_are_401(hook: TestClient, engine: Engine) -> None:
    body = json.dumps(RECORDS).encode()
    for headers in (
        {},
        {"X-Switchboard-Signature": sign("other-secret", body)},
        {"X-Switchboard-Signature": "sha256=" + "0" * 64},
        {"X-Switchboard-Signature": "garbage"},
    ):
        response = hook.post("/api/ingest/customers", content=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["detail"] == (
            "missing or wrong X-Switchboard-Signature header (expected sha256=<HMAC-SHA256 of the body>)"
        )
    tampered = body.replace(b"Nimbus", b"Nimbu$")
    assert (
        hook.post(
            "/api/ingest/customers", content=tampered, headers={"X-Switchboard-Signature": sign(SECRET, body)}
        ).status_code
        == 401
    )
    assert customers(engine) == 0


def test_signed_but_malformed_bodies_are_422(hook: TestClient) -> None:
    for body in (b"{not json", b'{"id": 1}', b"[]"):
        response = hook.post(
            "/api/ingest/customers", content=body, headers={"X-Switchboard-Signature": sign(SECRET, body)}
        )
        assert response.status_code == 422, body
    unknown = hook.post(
        "/api/ingest/planets", content=b"[]", headers={"X-Switchboard-Signature": sign(SECRET, b"[]")}
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
