"""Oversized and malformed input on every console route that takes input (the CLI's are in test_oversized_cli).

Each row is one input and the status it must get: a clear error whose body stays within the documented bound, and
no row written anywhere (runs, approvals, thread messages, users, customers, products, orders). The table is
checked against the app's router, so a new route that takes input needs rows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from console.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_request
from tests.security.bounds import check_error_body
from tests.security.world import WEBHOOK_SECRET, World, app_routes, open_world

BIG = 1_100_000  # just over the default max_body_bytes (1 MiB)
TABLES = ("runs", "approvals", "messages", "users", "customers", "products", "orders")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_world(tmp_path_factory.mktemp("oversized")) as w:
        yield w


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with TestClient(world.app) as test_client:
        yield test_client


def _json(value: Any) -> dict[str, Any]:
    return {"content": json.dumps(value).encode(), "headers": {"Content-Type": "application/json"}}


def _raw(data: bytes, content_type: str = "application/json") -> dict[str, Any]:
    return {"content": data, "headers": {"Content-Type": content_type}}


# Shapes of bad input, each a function of nothing: (request kwargs).
OVER_LIMIT_BODY = _raw(b'{"text": "' + b"x" * BIG + b'"}')
MALFORMED = _raw(b'{"text": "unterminated')
NOT_AN_OBJECT = _json(["a", "list"])
NOT_UTF8 = _raw(b'{"text": "\xff\xfe"}')
DEEP = _raw(b"[" * 50_000 + b"]" * 50_000)
FORM_OVER_LIMIT = _raw(b"username=" + b"a" * BIG, "application/x-www-form-urlencoded")

# (method, path, case, request kwargs, expected status)
ROWS: list[tuple[str, str, str, dict[str, Any], int]] = [
    ("POST", "/login", "form over the body limit", FORM_OVER_LIMIT, 413),
    (
        "POST",
        "/login",
        "user name of 100 KB",
        _raw(
            b"username=" + b"u" * 100_000 + b"&password=x&csrf_token=x", "application/x-www-form-urlencoded"
        ),
        413,
    ),
    ("POST", "/logout", "form over the body limit", FORM_OVER_LIMIT, 413),
    ("POST", "/api/users", "body over the limit", OVER_LIMIT_BODY, 413),
    ("POST", "/api/users", "name over 64 characters", _json({"name": "n" * 65}), 413),
    ("POST", "/api/users", "name of 500 KB", _json({"name": "n" * 500_000}), 413),
    ("POST", "/api/users", "name with a NUL", _json({"name": "bad\x00name"}), 422),
    ("POST", "/api/users", "unknown role", _json({"name": "newbie", "role": "root" * 1000}), 422),
    ("POST", "/api/users", "malformed JSON", MALFORMED, 422),
    ("POST", "/api/users", "a list, not an object", NOT_AN_OBJECT, 422),
    ("POST", "/api/users", "not UTF-8", NOT_UTF8, 400),
    ("PATCH", "/api/users/{name}", "body over the limit", OVER_LIMIT_BODY, 413),
    ("PATCH", "/api/users/{name}", "role of 100 KB", _json({"role": "r" * 100_000}), 422),
    ("PATCH", "/api/users/{name}", "active as a string", _json({"active": "maybe"}), 422),
    ("PATCH", "/api/users/{name}", "malformed JSON", MALFORMED, 422),
    ("POST", "/api/users/{name}/password", "body over the limit", OVER_LIMIT_BODY, 413),
    ("DELETE", "/api/users/{name}/token", "body over the limit", OVER_LIMIT_BODY, 413),
    ("POST", "/api/me/password", "body over the limit", OVER_LIMIT_BODY, 413),
    ("POST", "/api/executors/{executor_id}/hand-over", "executor id of 2,000 characters", {}, 414),
    (
        "POST",
        "/api/me/password",
        "new password of 1 MB",
        _json({"current_password": "x", "new_password": "p" * 1_000_000}),
        413,
    ),
    ("POST", "/api/me/password", "malformed JSON", MALFORMED, 422),
    ("POST", "/api/me/token", "body over the limit", OVER_LIMIT_BODY, 413),
    ("DELETE", "/api/me/token", "body over the limit", OVER_LIMIT_BODY, 413),
    ("POST", "/api/threads/{thread_id}/messages", "body over the limit", OVER_LIMIT_BODY, 413),
    (
        "POST",
        "/api/threads/{thread_id}/messages",
        "text over 4,000 characters",
        _json({"text": "x" * 4_001}),
        413,
    ),
    ("POST", "/api/threads/{thread_id}/messages", "text of 900 KB", _json({"text": "x" * 900_000}), 413),
    ("POST", "/api/threads/{thread_id}/messages", "empty text", _json({"text": ""}), 422),
    ("POST", "/api/threads/{thread_id}/messages", "text as a number", _json({"text": 12}), 422),
    ("POST", "/api/threads/{thread_id}/messages", "malformed JSON", MALFORMED, 422),
    ("POST", "/api/threads/{thread_id}/messages", "not UTF-8", NOT_UTF8, 400),
    ("POST", "/api/threads/{thread_id}/messages", "nested 50,000 deep", DEEP, 400),
    (
        "POST",
        "/api/threads/{thread_id}/messages",
        "1,000 unknown fields",
        _json({f"k{i}": i for i in range(1_000)}),
        422,
    ),
    ("POST", "/api/threads/{huge}/messages", "thread id of 5,000 characters", _json({"text": "hi"}), 422),
    ("POST", "/api/threads/{thread_id}/messages/stream", "body over the limit", OVER_LIMIT_BODY, 413),
    (
        "POST",
        "/api/threads/{thread_id}/messages/stream",
        "text over 4,000 characters",
        _json({"text": "x" * 4_001}),
        413,
    ),
    ("POST", "/api/threads/{thread_id}/messages/stream", "malformed JSON", MALFORMED, 422),
    ("POST", "/api/approvals/{approval_id}/approve", "body over the limit", OVER_LIMIT_BODY, 413),
    (
        "POST",
        "/api/approvals/{approval_id}/approve",
        "binding over 64 characters",
        _json({"binding": "b" * 65}),
        413,
    ),
    ("POST", "/api/approvals/{approval_id}/approve", "malformed JSON", MALFORMED, 422),
    ("POST", "/api/approvals/{approval_id}/reject", "body over the limit", OVER_LIMIT_BODY, 413),
    (
        "POST",
        "/api/approvals/{approval_id}/reject",
        "reason over 2,000 characters",
        _json({"reason": "r" * 2_001}),
        413,
    ),
    ("POST", "/api/approvals/{approval_id}/reject", "reason missing", _json({}), 422),
    ("POST", "/api/approvals/{approval_id}/edit", "body over the limit", OVER_LIMIT_BODY, 413),
    ("POST", "/api/approvals/{approval_id}/edit", "args as a string", _json({"args": "x" * 10_000}), 422),
    (
        "POST",
        "/api/approvals/{approval_id}/edit",
        "args of 20,000 keys",
        _json({"args": {f"k{i}": "v" * 40 for i in range(20_000)}}),
        413,
    ),
    ("POST", "/api/approvals/{huge}/approve", "approval id of 5,000 characters", _json({}), 422),
    ("POST", "/api/runs/{run_id}/retry", "body over the limit", OVER_LIMIT_BODY, 413),
    ("POST", "/api/runs/{huge_int}/retry", "run id of 30 digits", _json({}), 422),
    ("GET", "/api/runs?limit=99999999999999999999", "limit of 20 digits", {}, 422),
    ("GET", "/api/runs?limit=-1", "negative limit", {}, 422),
    ("GET", "/api/runs?name={long}", "name of 2,000 characters", {}, 414),
    ("GET", "/api/runs?status=" + "s" * 300, "unknown status", {}, 422),
    ("GET", "/api/audit?limit=99999999999999999999", "limit of 20 digits", {}, 422),
    ("GET", "/api/audit?user={long}", "user of 2,000 characters", {}, 414),
    ("GET", "/api/audit?tool={long}", "tool of 2,000 characters", {}, 414),
    ("GET", "/api/approvals?status=" + "s" * 300, "unknown status", {}, 422),
    ("GET", "/api/threads/{huge}/messages", "thread id of 5,000 characters", {}, 422),
    ("GET", "/api/runs/{huge_int}", "run id of 30 digits", {}, 422),
    ("GET", "/api/runs?name={uri}", "request URI over 8 KB", {}, 414),
    ("GET", "/charts/{huge}", "chart name of 5,000 characters", {}, 422),
    ("GET", "/evals/files/..%2F..%2Fetc/passwd", "path traversal", {}, 404),
    (
        "POST",
        "/api/ingest/{dataset}",
        "signed body over the limit",
        {"signed": b"[" + b'{"id":1},' * 130_000 + b"{}]"},
        413,
    ),
    ("POST", "/api/ingest/{dataset}", "signed malformed JSON", {"signed": b'[{"id": 1,'}, 422),
    ("POST", "/api/ingest/{dataset}", "signed JSON that is not a list", {"signed": b'"records"'}, 422),
    (
        "POST",
        "/api/ingest/{dataset}",
        "signed records with a NUL",
        {"signed": b'[{"id": 501, "name": "A\\u0000B", "email": "n@example.com", "region": "emea"}]'},
        422,
    ),
    (
        "POST",
        "/api/ingest/{dataset}",
        "signed record of 1,000 unknown columns",
        {"signed": json.dumps([{f"col{'x' * 200}{i}": 1 for i in range(1_000)}]).encode()},
        422,
    ),
    (
        "POST",
        "/api/ingest/{dataset}",
        "signed record with a 500 KB name",
        {
            "signed": json.dumps(
                [{"id": 502, "name": "n" * 500_000, "email": "big@example.com", "region": "emea"}]
            ).encode()
        },
        422,
    ),
    ("POST", "/api/ingest/{dataset}", "unknown dataset", {"signed": b"[]", "dataset": "passwords"}, 422),
    ("POST", "/api/examples/{candidate_id}/accept", "body over the limit", OVER_LIMIT_BODY, 413),
    (
        "POST",
        "/api/examples/{candidate_id}/accept",
        "tool of 5,000 characters",
        _json({"tool": "t" * 5_000}),
        413,
    ),
    ("POST", "/api/examples/c{huge}/accept", "id of 5,000 characters", _json({}), 422),
    ("POST", "/api/examples/{candidate_id}/accept", "no such example", _json({}), 404),
    ("POST", "/api/examples/{candidate_id}/fix", "body over the limit", OVER_LIMIT_BODY, 413),
    (
        "POST",
        "/api/examples/{candidate_id}/fix",
        "words of 5,000 characters",
        _json({"text": "w" * 5_000}),
        413,
    ),
    (
        "POST",
        "/api/examples/{candidate_id}/fix",
        "an unknown field",
        _json({"tool": "list_runs", "evil": 1}),
        422,
    ),
    (
        "POST",
        "/api/examples/{candidate_id}/discard",
        "note of 2,000 characters",
        _json({"note": "n" * 2_000}),
        413,
    ),
]


def url_of(world: World, path: str) -> str:
    return (
        path.replace("{name}", "olive")
        .replace("{thread_id}", "t-root")
        .replace("{approval_id}", "apr_missing")
        .replace("{run_id}", "1")
        .replace("{huge_int}", "9" * 30)
        .replace("{huge}", "h" * 5_000)
        .replace("{long}", "l" * 2_000)
        .replace("{uri}", "u" * 9_000)
        .replace("{dataset}", "customers")
        .replace("{executor_id}", "e" * 2_000)
        .replace("{candidate_id}", "c0ffee")
    )


def send(client: TestClient, world: World, method: str, path: str, kwargs: dict[str, Any]) -> Any:
    client.cookies.clear()
    kwargs = dict(kwargs)
    if "signed" in kwargs:  # the ingest webhook: a valid signature over the bad body
        body = kwargs.pop("signed")
        url = "/api/ingest/" + kwargs.pop("dataset", "customers")
        stamp = str(int(time.time()))
        signature = sign_request(WEBHOOK_SECRET, timestamp=stamp, method="POST", path=url, body=body)
        headers = {SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: stamp, "Content-Type": "application/json"}
        return client.post(url, content=body, headers=headers)
    headers = {**kwargs.pop("headers", {}), **world.auth("root")}
    return client.request(method, url_of(world, path), headers=headers, follow_redirects=False, **kwargs)


def test_every_route_taking_input_has_rows(world: World) -> None:
    writing = {(m, p) for m, p in app_routes(world.app) if m in ("POST", "PATCH", "PUT", "DELETE")}
    covered = {(m, p) for m, p, *_ in ROWS}
    assert sorted(writing - covered) == []


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [pytest.param(m, p, kw, s, id=f"{m} {p.split('?')[0]}: {case}") for m, p, case, kw, s in ROWS],
)
def test_bad_http_input_gets_a_clear_bounded_error_and_writes_nothing(
    client: TestClient, world: World, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    before = world.counts(*TABLES)
    response = send(client, world, method, path, kwargs)
    assert response.status_code == status, response.text[:500]
    check_error_body(response.content)
    assert "Traceback" not in response.text
    if status >= 400:
        assert response.json().get("detail") or response.json().get("title"), response.text[:300]
    after = world.counts(*TABLES)
    if status == 200:  # the ingest webhook: quarantined or loaded, nothing else
        assert {k: v for k, v in after.items() if k != "customers"} == {
            k: v for k, v in before.items() if k != "customers"
        }
        assert after["customers"] - before["customers"] <= 1
    else:
        assert after == before
