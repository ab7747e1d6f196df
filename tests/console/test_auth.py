"""Login, sessions, CSRF, tokens and page access in the browser console."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import stat
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from console.auth import (
    SESSION_COOKIE,
    SessionCodec,
    SessionData,
    bootstrap_admin,
    fingerprint,
    session_secret,
)
from core.store.audit import AuditLog
from core.store.users import User, authenticate, get_user, list_users, set_password
from switchboard.settings import Settings
from tests.console.conftest import People, login


def test_pages_send_anonymous_users_to_the_login_form(client: TestClient) -> None:
    for page in ("/", "/chat", "/chat/t1", "/approvals", "/runs", "/audit", "/evals"):
        response = client.get(page, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] in ("/login?next=/", f"/login?next={page}")


def test_login_sets_a_strict_http_only_session(client: TestClient, people: People, engine: Engine) -> None:
    people("olive")
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login",
        data={"username": "olive", "password": "correct-horse-42", "csrf_token": token, "next": "/approvals"},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/approvals")
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert client.get("/api/me").json() == {
        "name": "olive",
        "role": "operator",
        "must_change_password": False,
    }
    assert [r.event for r in AuditLog(engine).iter_records() if r.actor == "olive"][-1] == "console.login"
    page = client.get("/approvals")
    assert page.status_code == 200 and 'href="/static/app.css"' in page.text
    # Served locally, no CDN: nothing the page loads comes from another host. (A bare "cdn" substring check failed
    # once in CI on a random CSRF token that happened to contain it.)
    assert re.findall(r'(?:src|href)="(?:https?:)?//', page.text) == []


def test_wrong_password_and_forged_forms_are_refused(client: TestClient, people: People) -> None:
    people("olive")
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    wrong = client.post("/login", data={"username": "olive", "password": "nope-nope", "csrf_token": token})
    assert wrong.status_code == 401 and "Wrong user name or password." in wrong.text
    forged = client.post(
        "/login", data={"username": "olive", "password": "correct-horse-42", "csrf_token": "x"}
    )
    assert forged.status_code == 403 and "The form expired." in forged.text
    assert client.get("/api/me").status_code == 401


def test_login_redirects_only_to_local_paths(client: TestClient, people: People) -> None:
    people("olive")
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login",
        data={
            "username": "olive",
            "password": "correct-horse-42",
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/chat"


def test_cookie_calls_need_the_csrf_header_and_bearer_calls_do_not(
    client: TestClient, people: People
) -> None:
    people("olive")
    csrf = login(client, "olive")
    missing = client.post("/api/threads/t1/messages", json={"text": "help"})
    assert (missing.status_code, missing.json()["code"]) == (403, "csrf_failed")
    wrong = client.post("/api/threads/t1/messages", json={"text": "help"}, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    ok = client.post("/api/threads/t1/messages", json={"text": "help"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200
    client.cookies.clear()
    bearer = client.post("/api/threads/t9/messages", json={"text": "help"}, headers=people("olive"))
    assert bearer.status_code == 200


def test_logout_and_password_change_end_the_session(
    client: TestClient, people: People, engine: Engine
) -> None:
    people("olive")
    csrf = login(client, "olive")
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/api/me").status_code == 200
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert client.get("/api/me").status_code == 401
    login(client, "olive")
    set_password(engine=engine, name="olive", password="another-pass-9", actor="test")
    assert client.get("/api/me").status_code == 401


def test_session_values_are_signed_and_expire(settings: Settings, engine: Engine, people: People) -> None:
    people("olive")
    user = get_user(engine=engine, name="olive")
    codec = SessionCodec(b"k" * 32, max_age=60)
    value = codec.encode(codec.new(user))
    assert codec.decode(value) is not None and codec.decode(value).user == "olive"  # type: ignore[union-attr]
    payload, signature = value.split(".")
    assert codec.decode(payload[:-2] + "AA." + signature) is None
    assert SessionCodec(b"other" * 8).decode(value) is None
    assert SessionCodec(b"k" * 32, max_age=-1).decode(value) is None


def test_the_session_secret_is_random_persisted_and_private(settings: Settings) -> None:
    first = session_secret(settings)
    assert first == session_secret(settings) and len(first) == 64
    path = settings.var_dir / "session_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    configured = settings.model_copy(
        update={"session_secret": SecretStr("configured-secret-value-0123456789abcdef")}
    )
    assert session_secret(configured) == b"configured-secret-value-0123456789abcdef"


def test_password_guessing_is_rate_limited(client: TestClient, people: People) -> None:
    people("olive")
    codes = []
    for _ in range(11):
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        codes.append(
            client.post(
                "/login", data={"username": "olive", "password": "guess-1234", "csrf_token": token}
            ).status_code
        )
    assert codes == [401] * 10 + [429]
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    refused = client.post(
        "/login", data={"username": "olive", "password": "correct-horse-42", "csrf_token": token}
    )
    assert refused.status_code == 429 and "Too many attempts. Try again in " in refused.text
    assert client.get("/api/me").status_code == 401


def test_the_bot_can_link_to_one_request(client: TestClient, people: People) -> None:
    people("ann")
    login(client, "ann")
    page = client.get("/approvals/apr_0123456789abcdef")
    assert page.status_code == 200 and 'data-focus="apr_0123456789abcdef"' in page.text
    assert client.get("/approvals/bad%20id").status_code == 422


def test_a_session_cookie_has_a_known_form() -> None:
    # Pinned, and derived here independently: compact JSON, unpadded url-safe base64, HMAC-SHA256 with a key
    # derived from the secret. A change to any of them logs every user out, so it must be deliberate.
    secret = b"s" * 32
    data = SessionData("ann", "tok", 1_700_000_000, "f" * 16)
    body = b'{"u":"ann","c":"tok","t":1700000000,"f":"ffffffffffffffff"}'
    payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    key = hashlib.sha256(b"switchboard-session\n" + secret).digest()
    signature = base64.urlsafe_b64encode(hmac.new(key, payload.encode(), hashlib.sha256).digest()).rstrip(
        b"="
    )
    value = SessionCodec(secret).encode(data)
    assert value == f"{payload}.{signature.decode()}"
    assert value == (
        "eyJ1IjoiYW5uIiwiYyI6InRvayIsInQiOjE3MDAwMDAwMDAsImYiOiJmZmZmZmZmZmZmZmZmZmZmIn0"
        ".c7sKY-AcnQQK1wI5-cWkOeTxHLMllX8nIzXXDe2bFEA"
    )


def test_a_fingerprint_is_16_hex_of_the_name_and_password_hash() -> None:
    assert fingerprint(User(name="ann")) == hashlib.sha256(b"ann\n").hexdigest()[:16] == "2a3bc05d07d63f60"
    assert fingerprint(User(name="ann", password_hash="h")) == hashlib.sha256(b"ann\nh").hexdigest()[:16]


def test_a_new_session_gets_its_own_csrf_token_of_24_random_bytes() -> None:
    codec = SessionCodec(b"s" * 32)
    first, second = codec.new(User(name="ann")), codec.new(User(name="ann"))
    assert len(base64.urlsafe_b64decode(first.csrf + "=" * (-len(first.csrf) % 4))) == 24
    assert first.csrf != second.csrf and first.user == "ann"


def test_the_session_secret_folder_is_made_with_its_parents(settings: Settings, tmp_path: Path) -> None:
    nested = settings.model_copy(update={"var_dir": tmp_path / "new" / "var"})
    secret = session_secret(nested)
    assert (tmp_path / "new" / "var" / "session_secret").read_text(encoding="ascii") == secret.decode() + "\n"


def test_a_kept_session_secret_needs_32_ascii_characters(settings: Settings) -> None:
    path = settings.var_dir / "session_secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a" * 32 + "\n", encoding="ascii")
    assert session_secret(settings) == b"a" * 32
    path.write_text("a" * 31 + "\n", encoding="ascii")
    with pytest.raises(ValueError, match="session_secret is too short to be a session secret; delete it"):
        session_secret(settings)
    path.write_text("é" * 40 + "\n", encoding="utf-8")
    with pytest.raises(UnicodeDecodeError):
        session_secret(settings)


def test_a_session_is_valid_from_its_issue_second_to_max_age_inclusive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    codec = SessionCodec(b"s" * 32, max_age=60)
    data = SessionData("ann", "tok-123", 1_700_000_000, "f" * 16)
    value = codec.encode(data)
    seen = {}
    for now in (1_699_999_999, 1_700_000_000, 1_700_000_060, 1_700_000_061):
        monkeypatch.setattr(time, "time", lambda now=now: float(now))
        seen[now] = codec.decode(value)
    assert seen == {1_699_999_999: None, 1_700_000_000: data, 1_700_000_060: data, 1_700_000_061: None}


def test_the_first_admin_is_created_once_with_a_one_time_password(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="console.auth")
    password = bootstrap_admin(engine)
    assert password is not None and authenticate(engine=engine, name="admin", password=password) is not None
    admin = get_user(engine=engine, name="admin")
    assert (admin.role, admin.must_change_password) == ("admin", True)
    created = [r for r in AuditLog(engine).iter_records() if r.event == "user.created"]
    assert [(r.actor, r.subject) for r in created] == [("system", "user:admin")]
    assert [r.getMessage() for r in caplog.records if r.name == "console.auth"] == [
        "created the first admin user admin"
    ]
    assert password not in caplog.text
    assert bootstrap_admin(engine, name="other") is None
    assert [u.name for u in list_users(engine=engine)] == ["admin"]
