"""Body-size limit (413), per-user rate limit (429), health, Prometheus metrics and security headers."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from agent.service import Switchboard
from console.app import create_app
from console.limits import RateLimiter
from switchboard.settings import Settings
from tests.console.conftest import People
from tests.utils.fake_backend import ScriptedBackend


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_oversized_bodies_get_413_before_they_are_read(
    settings: Settings, sb: Switchboard, people: People
) -> None:
    app = create_app(settings.model_copy(update={"max_body_bytes": 200}), switchboard=sb)
    with TestClient(app) as client:
        declared = client.post("/api/threads/t1/messages", json={"text": "x" * 300}, headers=people("olive"))
        assert declared.status_code == 413
        assert declared.json() == {
            "type": "urn:switchboard:problem:too_large",
            "title": "Content Too Large",
            "status": 413,
            "detail": "the request body is larger than the limit of 200 bytes",
            "code": "too_large",
        }

        def chunked() -> Iterator[bytes]:
            yield b'{"text": "'
            for _ in range(30):
                yield b"x" * 10
            yield b'"}'

        streamed = client.post(
            "/api/threads/t1/messages",
            content=chunked(),
            headers={**people("olive"), "Content-Type": "application/json"},
        )
        assert streamed.status_code == 413
        small = client.post("/api/threads/t1/messages", json={"text": "help"}, headers=people("olive"))
        assert small.status_code == 200


def test_each_user_has_a_rate_limit(settings: Settings, sb: Switchboard, people: People) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 3}), switchboard=sb)
    with TestClient(app) as client:
        codes = [client.get("/api/threads", headers=people("olive")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/api/threads", headers=people("olive"))
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["code"] == "rate_limited"
        assert limited.json()["detail"].startswith("too many requests: the limit is 3 per minute; retry in ")
        assert client.get("/api/threads", headers=people("oscar")).status_code == 200


def test_rate_limiter_window_slides() -> None:
    now = [1000.0]
    limiter = RateLimiter(per_minute=2, clock=lambda: now[0])
    assert [limiter.hit("a"), limiter.hit("a")] == [None, None]
    assert limiter.hit("a") == 60
    now[0] += 90  # half of the previous minute still counts: 2 * 0.5 = 1, so one more fits
    assert limiter.hit("a") is None
    assert limiter.hit("a") == 30
    now[0] += 60
    assert limiter.hit("a") is None
    assert RateLimiter(per_minute=0).hit("a") is None


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_metrics_count_requests_decisions_approvals_and_runs(
    client: TestClient, people: People, backend: ScriptedBackend, settings: Settings, sb: Switchboard
) -> None:
    backend.enqueue("list_pending_approvals", {}, confidence=0.99)
    client.post("/api/threads/t1/messages", json={"text": "what waits"}, headers=people("olive"))
    backend.enqueue(
        "send_notification", {"channel": "email", "recipient": "ops@example.com", "message": "hi"}
    )
    client.post("/api/threads/t1/messages", json={"text": "mail ops"}, headers=people("olive"))
    client.get("/api/threads", headers={"Authorization": "Bearer wrong"})
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    route = "/api/threads/{thread_id}/messages"
    assert (
        found[("switchboard_http_requests_total", (("method", "POST"), ("route", route), ("status", "200")))]
        == 2
    )
    assert (
        found[
            (
                "switchboard_http_requests_total",
                (("method", "GET"), ("route", "/api/threads"), ("status", "401")),
            )
        ]
        == 1
    )
    assert found[("switchboard_chat_decisions_total", (("action", "execute"), ("kind", "answer")))] == 1
    assert found[("switchboard_chat_decisions_total", (("action", "approve"), ("kind", "waiting")))] == 1
    assert found[("switchboard_chat_turn_seconds_count", ())] == 2
    assert (
        found[("switchboard_http_request_duration_seconds_count", (("method", "POST"), ("route", route)))]
        == 2
    )
    assert found[("switchboard_approvals_pending", ())] == 1
    assert found[("switchboard_runs", (("status", "succeeded"),))] == 0
    other = create_app(settings, switchboard=sb)
    with TestClient(other) as fresh:  # each app has its own registry
        assert samples(fresh.get("/metrics").text)[("switchboard_chat_turn_seconds_count", ())] == 0
