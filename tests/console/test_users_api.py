"""Users in the console: admins manage people; one-time passwords must be replaced; the last admin stays."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from console.app import create_app
from core.store.audit import AuditLog
from core.store.users import authenticate, get_user
from switchboard.settings import Settings
from tests.console.conftest import People, login


def _form_login(client: TestClient, name: str, password: str) -> tuple[int, str]:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token, "next": "/runs"},
        follow_redirects=False,
    )
    return response.status_code, response.headers.get("location", "")


def _page_csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def test_only_admins_manage_users(client: TestClient, people: People) -> None:
    for name in ("olive", "ann"):
        headers = people(name)
        denied = [
            client.get("/api/users", headers=headers),
            client.post("/api/users", json={"name": "eve"}, headers=headers),
            client.patch("/api/users/olive", json={"role": "admin"}, headers=headers),
            client.post("/api/users/olive/password", headers=headers),
            client.delete("/api/users/olive/token", headers=headers),
        ]
        assert [r.status_code for r in denied] == [403] * 5
        assert denied[0].json()["detail"].endswith("listing users needs admin")
    listed = client.get("/api/users", headers=people("root")).json()["users"]
    assert [(u["name"], u["role"], u["active"], u["has_token"]) for u in listed] == [
        ("ann", "approver", True, True),
        ("olive", "operator", True, True),
        ("root", "admin", True, True),
    ]
    assert set(listed[0]) == {  # flags only: never a hash
        "name",
        "role",
        "active",
        "has_password",
        "has_token",
        "must_change_password",
        "telegram_linked",
        "created_at",
    }


def test_a_new_user_logs_in_once_with_the_one_time_password_then_chooses_their_own(
    settings: Settings, sb, people: People, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    admin = people("root")
    with TestClient(create_app(settings, switchboard=sb)) as web:
        created = web.post("/api/users", json={"name": "nina", "role": "approver"}, headers=admin)
        assert created.status_code == 201
        body = created.json()
        assert (body["user"]["name"], body["user"]["role"], body["user"]["must_change_password"]) == (
            "nina",
            "approver",
            True,
        )
        one_time = body["password"]
        assert len(one_time) >= 12

        # the login goes to the account page, whatever page was asked for, and nothing else works yet
        assert _form_login(web, "nina", one_time) == (303, "/account")
        for page in ("/chat", "/approvals", "/runs"):
            moved = web.get(page, follow_redirects=False)
            assert (moved.status_code, moved.headers["location"]) == (303, "/account")
        csrf = _page_csrf(web, "/account")
        assert web.get("/api/me").json() == {"name": "nina", "role": "approver", "must_change_password": True}
        blocked = web.get("/api/approvals")
        assert blocked.status_code == 403 and blocked.json()["code"] == "password_change_required"
        assert "choose your own on the Account page first" in blocked.json()["detail"]

        def change(current: str, new: str):  # type: ignore[no-untyped-def]
            return web.post(
                "/api/me/password",
                json={"current_password": current, "new_password": new},
                headers={"X-CSRF-Token": csrf},
            )

        wrong = change("not-it-at-all", "nina-own-pass-1")
        assert (wrong.status_code, wrong.json()["detail"]) == (403, "the current password is not right")
        same = change(one_time, one_time)
        assert (same.status_code, same.json()["detail"]) == (
            422,
            "the new password must differ from the current one",
        )
        short = change(one_time, "short")
        assert short.status_code == 422 and short.json()["detail"].startswith("new_password: ")
        done = change(one_time, "nina-own-pass-1")
        assert done.status_code == 200 and done.json()["must_change_password"] is False
        assert any(h.startswith("sb_session=") for h in done.headers.get_list("set-cookie"))

        # the fresh session cookie carries on; the console opens normally
        assert web.get("/api/me").json()["must_change_password"] is False
        assert web.get("/chat").status_code == 200
        assert web.get("/api/approvals").status_code == 200
    assert authenticate(engine=engine, name="nina", password=one_time) is None
    assert authenticate(engine=engine, name="nina", password="nina-own-pass-1") is not None
    events = [(r.event, r.actor) for r in AuditLog(engine).iter_records() if r.subject == "user:nina"]
    assert events == [("user.created", "root"), ("user.password_set", "nina")]
    assert all(one_time not in str(r.data) for r in AuditLog(engine).iter_records())


def test_the_first_admin_must_replace_the_printed_password(settings: Settings, sb, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    from console.auth import bootstrap_admin

    printed = bootstrap_admin(engine)
    assert printed is not None
    with TestClient(create_app(settings, switchboard=sb)) as web:
        assert _form_login(web, "admin", printed) == (303, "/account")
        page = web.get("/account")
        assert "You logged in with a one-time password." in page.text
        assert 'id="nav" hidden' in page.text  # the frame offers only the account page


def test_roles_and_deactivation_keep_one_active_admin(
    client: TestClient, people: People, engine: Engine
) -> None:
    root = people("root")
    olive = people("olive")
    demote = client.patch("/api/users/root", json={"role": "operator"}, headers=root)
    assert (demote.status_code, demote.json()["detail"]) == (
        409,
        "root is the last active admin; make someone else an admin first",
    )
    assert client.patch("/api/users/root", json={"active": False}, headers=root).status_code == 409
    assert client.patch("/api/users/olive", json={}, headers=root).json()["detail"] == (
        "nothing to change: send a role, or active true or false"
    )
    bad = client.patch("/api/users/olive", json={"role": "boss"}, headers=root)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("role: ")
    assert client.patch("/api/users/nobody", json={"role": "admin"}, headers=root).status_code == 404

    promoted = client.patch("/api/users/olive", json={"role": "admin"}, headers=root)
    assert (promoted.status_code, promoted.json()["role"]) == (200, "admin")
    assert client.get("/api/users", headers=olive).status_code == 200  # the new role holds at once
    assert (
        client.patch("/api/users/root", json={"role": "approver"}, headers=olive).json()["role"] == "approver"
    )

    off = client.patch("/api/users/root", json={"active": False}, headers=olive)
    assert (off.status_code, off.json()["active"]) == (200, False)
    assert client.get("/api/me", headers=root).status_code == 401  # a deactivated user's token stops working
    back = client.patch("/api/users/root", json={"active": True}, headers=olive)
    assert back.json()["active"] is True and client.get("/api/me", headers=root).status_code == 200
    changes = [
        (r.event, r.actor)
        for r in AuditLog(engine).iter_records()
        if r.subject in ("user:root", "user:olive")
    ]
    assert changes[-4:] == [
        ("user.role_set", "root"),
        ("user.role_set", "olive"),
        ("user.deactivated", "olive"),
        ("user.activated", "olive"),
    ]


def test_a_reset_ends_sessions_and_gives_a_one_time_password(
    client: TestClient, people: People, engine: Engine
) -> None:
    root = people("root")
    people("olive")
    login(client, "olive")
    assert client.get("/api/me").json()["name"] == "olive"
    reset = client.post("/api/users/olive/password", headers=root)
    assert reset.status_code == 200 and reset.json()["user"]["must_change_password"] is True
    assert client.get("/api/me").status_code == 401  # the old session ended with the old password
    assert authenticate(engine=engine, name="olive", password=reset.json()["password"]) is not None


def test_tokens_are_made_by_their_owner_and_revoked_by_them_or_an_admin(
    client: TestClient, people: People
) -> None:
    root = people("root")
    olive = people("olive")
    made = client.post("/api/me/token", headers=olive)
    assert made.status_code == 200 and made.json()["token"].startswith("sb_")
    fresh = {"Authorization": f"Bearer {made.json()['token']}"}
    assert client.get("/api/me", headers=olive).status_code == 401  # the new token replaced the old one
    assert client.get("/api/me", headers=fresh).json()["name"] == "olive"
    revoked = client.delete("/api/users/olive/token", headers=root)
    assert revoked.status_code == 200 and revoked.json()["has_token"] is False
    assert client.get("/api/me", headers=fresh).status_code == 401
    own = client.post("/api/me/token", headers=root).json()["token"]
    assert client.delete("/api/me/token", headers={"Authorization": f"Bearer {own}"}).status_code == 204
    assert client.get("/api/me", headers={"Authorization": f"Bearer {own}"}).status_code == 401


def test_bad_new_users_are_named(client: TestClient, people: People) -> None:
    root = people("root")
    people("olive")
    taken = client.post("/api/users", json={"name": "olive"}, headers=root)
    assert (taken.status_code, taken.json()["detail"]) == (409, "user 'olive' already exists")
    spaced = client.post("/api/users", json={"name": "a b"}, headers=root)
    assert spaced.status_code == 422 and spaced.json()["detail"].startswith("name: String should match")
    extra = client.post("/api/users", json={"name": "eve", "password": "x"}, headers=root)
    assert extra.status_code == 422 and extra.json()["detail"].startswith("password: Extra inputs")


def test_the_users_page_is_for_admins(client: TestClient, people: People) -> None:
    people("olive"), people("root")
    login(client, "olive")
    page = client.get("/users")
    assert page.status_code == 403 and "managing users needs admin" in page.text
    assert 'id="nav-users"' not in client.get("/chat").text
    client.cookies.clear()
    login(client, "root")
    assert client.get("/users").status_code == 200 and 'id="nav-users"' in client.get("/chat").text


def test_a_role_and_an_activation_change_land_together_or_not_at_all(
    client: TestClient, people: People, engine: Engine
) -> None:
    root = people("root")
    people("olive")
    both = client.patch("/api/users/olive", json={"role": "approver", "active": False}, headers=root)
    assert (both.status_code, both.json()["role"], both.json()["active"]) == (200, "approver", False)
    assert [r.event for r in AuditLog(engine).iter_records() if r.subject == "user:olive"][-2:] == [
        "user.role_set",
        "user.deactivated",
    ]
    neither = client.patch("/api/users/root", json={"role": "operator", "active": False}, headers=root)
    assert neither.status_code == 409
    assert (get_user(engine=engine, name="root").role, get_user(engine=engine, name="root").active) == (
        "admin",
        True,
    )
    same = client.patch("/api/users/olive", json={"role": "approver"}, headers=root)  # nothing new: no record
    assert same.status_code == 200
    assert [r.event for r in AuditLog(engine).iter_records() if r.subject == "user:olive"][
        -1
    ] == "user.deactivated"
