"""Users: admins manage everyone; every user changes their own password and keeps their own API token.

Generated passwords and tokens appear only in the response that creates them; the database holds their hashes.
A password generated here is one-time (see ``core.store.users``). Every change is audited by the store, with
the admin as the actor and never the secret.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from console.deps import Principal, State, User, require_role
from console.routes.auth import start_session
from console.schemas import (
    MeOut,
    OneTimePassword,
    PasswordChangeIn,
    TokenOut,
    UserCreateIn,
    UserList,
    UserName,
    UserOut,
    UserPatchIn,
)
from core.errors import BadInput
from core.store import users as store

router = APIRouter(tags=["users"])
_ADMIN = ("admin",)


def user_out(user: store.User) -> UserOut:
    """The public view of a user row."""
    return UserOut(
        name=user.name,
        role=user.role,  # the store only ever writes one of ROLES
        active=user.active,
        has_password=user.password_hash is not None,
        has_token=user.token_hash is not None,
        must_change_password=user.must_change_password,
        telegram_linked=user.telegram_user_id is not None,
        created_at=user.created_at,
    )


def _admin(principal: Principal, action: str) -> None:
    require_role(principal, *_ADMIN, action=action)


@router.get("/api/users", response_model=UserList)
def list_users(principal: User, state: State) -> UserList:
    """Every user (admins only)."""
    _admin(principal, "listing users")
    return UserList(users=[user_out(u) for u in store.list_users(engine=state.sb.engine)])


@router.post("/api/users", response_model=OneTimePassword, status_code=201)
def add_user(body: UserCreateIn, principal: User, state: State) -> OneTimePassword:
    """Create a user with a one-time password, shown only in this response (admins only)."""
    _admin(principal, "adding users")
    password = store.one_time_password()
    user = store.create_user(
        engine=state.sb.engine,
        name=body.name,
        role=body.role,
        password=password,
        actor=principal.name,
        one_time=True,
    )
    return OneTimePassword(user=user_out(user), password=password)


@router.patch("/api/users/{name}", response_model=UserOut)
def change_user(name: UserName, body: UserPatchIn, principal: User, state: State) -> UserOut:
    """Change a user's role or deactivate them (admins only; the last active admin stays one)."""
    _admin(principal, "changing users")
    engine = state.sb.engine
    user = store.get_user(engine=engine, name=name)
    if body.role is None and body.active is None:
        raise BadInput(store.NOTHING_TO_CHANGE)
    role = body.role if body.role != user.role else None  # only what changes is written and audited
    active = body.active if body.active != user.active else None
    if role is not None or active is not None:
        user = store.change_user(engine=engine, name=name, role=role, active=active, actor=principal.name)
    return user_out(user)


@router.post("/api/users/{name}/password", response_model=OneTimePassword)
def reset_password(name: UserName, principal: User, state: State) -> OneTimePassword:
    """Give a user a new one-time password, shown only in this response; their sessions end (admins only)."""
    _admin(principal, "resetting passwords")
    password = store.one_time_password()
    user = store.set_password(
        engine=state.sb.engine, name=name, password=password, actor=principal.name, one_time=True
    )
    return OneTimePassword(user=user_out(user), password=password)


@router.delete("/api/users/{name}/token", response_model=UserOut)
def revoke_user_token(name: UserName, principal: User, state: State) -> UserOut:
    """Revoke a user's API token (admins only)."""
    _admin(principal, "revoking tokens")
    return user_out(store.revoke_token(engine=state.sb.engine, name=name, actor=principal.name))


@router.post("/api/me/password", response_model=MeOut)
def change_my_password(body: PasswordChangeIn, response: Response, principal: User, state: State) -> MeOut:
    """Replace the caller's own password; a browser session continues on a fresh cookie."""
    user = store.change_own_password(
        engine=state.sb.engine, name=principal.name, current=body.current_password, new=body.new_password
    )
    if principal.via == "session":  # the old cookie ended with the old password
        start_session(response, state, user)
    return MeOut(name=user.name, role=user.role, must_change_password=False)


@router.post("/api/me/token", response_model=TokenOut)
def new_my_token(principal: User, state: State) -> TokenOut:
    """Make a new API token for the caller (it replaces their previous one); shown only in this response."""
    return TokenOut(
        token=store.issue_token(engine=state.sb.engine, name=principal.name, actor=principal.name)
    )


@router.delete("/api/me/token", status_code=204)
def revoke_my_token(principal: User, state: State) -> Response:
    """Revoke the caller's own API token."""
    store.revoke_token(engine=state.sb.engine, name=principal.name, actor=principal.name)
    return Response(status_code=204)
