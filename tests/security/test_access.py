"""Every console route without authentication, with a wrong role, and as a deactivated user.

API routes are called with a Bearer token, pages with a session cookie (pages take no tokens): the deactivated
user's cookie and token were both issued while the account was still active.

The routes are read from the app's router, so a new route fails ``test_every_route_has_a_row`` until it gets a
row in EXPECTED: what an anonymous caller, the wrong role and a deactivated user (who still holds the token they
had) each get. ``None`` in the wrong-role column means every role may call the route (the check is then that
it works for the lowest role, not that it is refused).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from fastapi.testclient import TestClient

from console.auth import SESSION_COOKIE
from console.webhook_signature import sign_request
from core.store.users import set_active
from tests.security.bounds import check_error_body
from tests.security.world import PASSWORD, WEBHOOK_SECRET, World, app_routes, open_world
from tests.utils.fake_backend import ScriptedBackend


class Row(NamedTuple):
    """What each kind of caller gets from one route."""

    anonymous: int
    wrong_role: tuple[str, int] | None  # (who, status)
    deactivated: int


LOGIN = 303  # pages send anonymous and deactivated callers to the login form
# fmt: off
EXPECTED: dict[tuple[str, str], Row] = {
    ("GET", "/login"): Row(200, None, 200),
    ("POST", "/login"): Row(403, None, 403),  # no CSRF form token: refused before the password is read
    ("POST", "/logout"): Row(LOGIN, None, LOGIN),
    ("GET", "/api/me"): Row(401, None, 401),
    ("GET", "/api/users"): Row(401, ("ann", 403), 401),
    ("POST", "/api/users"): Row(401, ("ann", 403), 401),
    ("PATCH", "/api/users/{name}"): Row(401, ("olive", 403), 401),
    ("POST", "/api/users/{name}/password"): Row(401, ("ann", 403), 401),
    ("DELETE", "/api/users/{name}/token"): Row(401, ("olive", 403), 401),
    ("GET", "/api/executors"): Row(401, ("ann", 403), 401),
    ("POST", "/api/executors/{executor_id}/hand-over"): Row(401, ("ann", 403), 401),
    ("POST", "/api/me/password"): Row(401, None, 401),
    ("POST", "/api/me/token"): Row(401, None, 401),
    ("DELETE", "/api/me/token"): Row(401, None, 401),
    ("POST", "/api/threads/{thread_id}/messages"): Row(401, ("oscar", 403), 401),  # ann's thread
    ("POST", "/api/threads/{thread_id}/messages/stream"): Row(401, ("oscar", 403), 401),
    ("GET", "/api/threads"): Row(401, None, 401),
    ("GET", "/api/threads/{thread_id}/messages"): Row(401, ("oscar", 403), 401),
    ("GET", "/api/approvals"): Row(401, None, 401),
    ("GET", "/api/approvals/count"): Row(401, None, 401),
    ("GET", "/api/approvals/{approval_id}"): Row(401, ("oscar", 403), 401),  # olive's request
    ("POST", "/api/approvals/{approval_id}/approve"): Row(401, ("oscar", 403), 401),
    ("POST", "/api/approvals/{approval_id}/reject"): Row(401, ("oscar", 403), 401),
    ("POST", "/api/approvals/{approval_id}/edit"): Row(401, ("oscar", 403), 401),
    ("GET", "/api/runs"): Row(401, None, 401),
    ("GET", "/api/runs/{run_id}"): Row(401, None, 401),
    ("POST", "/api/runs/{run_id}/retry"): Row(401, None, 401),
    ("GET", "/api/audit"): Row(401, None, 401),
    ("GET", "/api/audit/verify"): Row(401, None, 401),
    ("GET", "/api/evals/latest"): Row(401, None, 401),
    ("GET", "/api/model/drift"): Row(401, ("olive", 403), 401),
    ("GET", "/api/model/drift/chart"): Row(401, ("olive", 403), 401),
    ("GET", "/api/examples"): Row(401, ("ann", 403), 401),
    ("POST", "/api/examples/{candidate_id}/accept"): Row(401, ("ann", 403), 401),
    ("POST", "/api/examples/{candidate_id}/fix"): Row(401, ("ann", 403), 401),
    ("POST", "/api/examples/{candidate_id}/discard"): Row(401, ("ann", 403), 401),
    ("GET", "/evals/files/{report}/{name}"): Row(401, None, 401),
    ("GET", "/charts/{name}"): Row(401, None, 401),
    ("GET", "/health"): Row(200, None, 200),
    ("GET", "/metrics"): Row(200, None, 200),
    ("POST", "/api/ingest/{dataset}"): Row(401, None, 401),  # no user at all: the signature is the credential
    ("GET", "/"): Row(LOGIN, None, LOGIN),
    ("GET", "/chat"): Row(LOGIN, None, LOGIN),
    ("GET", "/chat/{thread_id}"): Row(LOGIN, None, LOGIN),
    ("GET", "/approvals"): Row(LOGIN, None, LOGIN),
    ("GET", "/approvals/{approval_id}"): Row(LOGIN, None, LOGIN),
    ("GET", "/runs"): Row(LOGIN, None, LOGIN),
    ("GET", "/audit"): Row(LOGIN, None, LOGIN),
    ("GET", "/users"): Row(LOGIN, ("ann", 403), LOGIN),
    ("GET", "/account"): Row(LOGIN, None, LOGIN),
    ("GET", "/evals"): Row(LOGIN, None, LOGIN),
    ("GET", "/model"): Row(LOGIN, ("olive", 403), LOGIN),
    ("GET", "/examples"): Row(LOGIN, ("ann", 403), LOGIN),
}
# fmt: on

# A body the route accepts once the caller is allowed, so the status shows the access decision and nothing else.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/model/drift/chart"): {"params": {"measure": "confidence"}},
    ("POST", "/api/examples/{candidate_id}/fix"): {"json": {"tool": "list_runs", "args": {}}},
    ("POST", "/login"): {"data": {"username": "gone", "password": "correct-horse-42", "csrf_token": "x"}},
    ("POST", "/logout"): {"data": {"csrf_token": "x"}},
    ("POST", "/api/users"): {"json": {"name": "newcomer", "role": "operator"}},
    ("PATCH", "/api/users/{name}"): {"json": {"role": "admin"}},
    ("POST", "/api/me/password"): {
        "json": {"current_password": "correct-horse-42", "new_password": "x" * 12}
    },
    ("POST", "/api/threads/{thread_id}/messages"): {"json": {"text": "list runs"}},
    ("POST", "/api/threads/{thread_id}/messages/stream"): {"json": {"text": "list runs"}},
    ("POST", "/api/approvals/{approval_id}/approve"): {"json": {}},
    ("POST", "/api/approvals/{approval_id}/reject"): {"json": {"reason": "no"}},
    ("POST", "/api/approvals/{approval_id}/edit"): {
        "json": {"args": {"file": "latest", "destination": "bank_sftp"}}
    },
    ("POST", "/api/ingest/{dataset}"): {"json": [{"id": 99, "name": "Forged", "email": "f@example.com"}]},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    backend = ScriptedBackend()
    with open_world(tmp_path_factory.mktemp("access"), backend=backend) as w:
        export = w.sb.runner.call("export_dataset", {"dataset": "customers", "format": "csv"}, actor="olive")
        w.refs["run"] = str(export.run.id if export.run else 1)
        backend.enqueue("deliver_file", {"file": "latest", "destination": "bank_sftp"})
        reply = w.sb.chat(
            thread_id="t-olive", user="olive", role="operator", text="deliver the latest export"
        )
        assert reply.approval_id is not None, reply
        w.refs["approval"] = reply.approval_id
        w.sb.chat(thread_id="t-ann", user="ann", role="approver", text="hello")
        with TestClient(w.app) as browser:
            set_active(engine=w.engine, name="gone", active=True, actor="root")
            SESSIONS["gone"] = session_cookie(browser, "gone")
            set_active(engine=w.engine, name="gone", active=False, actor="root")
            SESSIONS["ann"] = session_cookie(browser, "ann")
            SESSIONS["olive"] = session_cookie(browser, "olive")
        yield w


SESSIONS: dict[str, str] = {}


def session_cookie(client: TestClient, name: str) -> str:
    """Log ``name`` in through the form; their session cookie."""
    client.cookies.clear()
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response.cookies[SESSION_COOKIE]


def is_page(path: str) -> bool:
    return not path.startswith(
        ("/api/", "/health", "/metrics", "/charts/", "/evals/files/", "/login", "/logout")
    )


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with TestClient(world.app) as test_client:
        yield test_client


def concrete(world: World, path: str) -> str:
    """The route's path with real objects filled in (someone else's, where ownership matters)."""
    return (
        path.replace("{name}", "ann")
        .replace("{thread_id}", "t-ann")
        .replace("{approval_id}", world.refs["approval"])
        .replace("{run_id}", world.refs["run"])
        .replace("{report}", "r1")
        .replace("{dataset}", "customers")
        .replace("{candidate_id}", "c0ffee")
    )


def call(client: TestClient, world: World, method: str, path: str, who: str | None) -> Any:
    client.cookies.clear()
    headers = world.auth(who) if who else {}
    if who and is_page(path):
        headers = {}
        client.cookies.set(SESSION_COOKIE, SESSIONS[who])
    url = concrete(world, path)
    if path.startswith(("/charts/", "/evals/files/")):
        url = url.rsplit("/", 1)[0] + "/chart.png"
    return client.request(
        method, url, headers=headers, follow_redirects=False, **BODIES.get((method, path), {})
    )


def expect(response: Any, status: int) -> None:
    assert response.status_code == status, f"{response.status_code}: {response.text[:300]}"
    if status >= 400:
        check_error_body(response.content)
        assert "Traceback" not in response.text


def test_every_route_has_a_row(world: World) -> None:
    served = app_routes(world.app)
    assert sorted(served - set(EXPECTED)) == [], "new routes need a row in EXPECTED"
    assert sorted(set(EXPECTED) - served) == [], "EXPECTED names routes the app no longer serves"


ANONYMOUS = [pytest.param(m, p, row.anonymous, id=f"{m} {p}") for (m, p), row in EXPECTED.items()]
WRONG_ROLE = [
    pytest.param(m, p, *row.wrong_role, id=f"{m} {p} as {row.wrong_role[0]}")
    for (m, p), row in EXPECTED.items()
    if row.wrong_role is not None
]
DEACTIVATED = [pytest.param(m, p, row.deactivated, id=f"{m} {p}") for (m, p), row in EXPECTED.items()]


@pytest.mark.parametrize(("method", "path", "status"), ANONYMOUS)
def test_without_authentication(
    client: TestClient, world: World, method: str, path: str, status: int
) -> None:
    before = world.counts("runs", "approvals", "messages", "users", "customers")
    response = call(client, world, method, path, None)
    expect(response, status)
    if status == LOGIN:
        assert response.headers["location"].startswith("/login")
    assert world.counts("runs", "approvals", "messages", "users", "customers") == before


@pytest.mark.parametrize(("method", "path", "who", "status"), WRONG_ROLE)
def test_with_a_wrong_role(
    client: TestClient, world: World, method: str, path: str, who: str, status: int
) -> None:
    before = world.counts("runs", "approvals", "messages", "users", "customers")
    expect(call(client, world, method, path, who), status)
    assert world.counts("runs", "approvals", "messages", "users", "customers") == before


@pytest.mark.parametrize(("method", "path", "status"), DEACTIVATED)
def test_as_a_deactivated_user(client: TestClient, world: World, method: str, path: str, status: int) -> None:
    before = world.counts("runs", "approvals", "messages", "users", "customers")
    expect(call(client, world, method, path, "gone"), status)
    assert world.counts("runs", "approvals", "messages", "users", "customers") == before


def test_a_deactivated_user_cannot_log_in(client: TestClient, world: World) -> None:
    client.cookies.clear()
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": "gone", "password": "correct-horse-42", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 401 and "Wrong user name or password." in response.text
    assert client.get("/api/me").status_code == 401


def test_the_signed_webhook_needs_no_user_but_a_signature(client: TestClient, world: World) -> None:
    body = b'[{"id": 98, "name": "Signed Ltd", "email": "signed@example.com", "region": "emea"}]'
    stamp = str(int(time.time()))
    signature = sign_request(
        WEBHOOK_SECRET, timestamp=stamp, method="POST", path="/api/ingest/customers", body=body
    )
    headers = {"X-Switchboard-Signature": signature, "X-Switchboard-Timestamp": stamp, **world.auth("gone")}
    response = client.post("/api/ingest/customers", content=body, headers=headers)
    assert response.status_code == 200, response.text
