"""Users, roles, passwords (argon2), API tokens (stored as sha256) and Telegram links.

Only hashes are stored: a password or token is shown once, when it is created, and never logged or audited.
A password that Switchboard generated (the first admin's, one an admin reset) is one-time: its holder must
choose their own before doing anything else in the console. There is always at least one active admin: the
last one can be neither demoted nor deactivated.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import BigInteger, false, select
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col

from core.errors import BadInput, Conflict, Forbidden, NotFound
from core.store.audit import AuditEvent, append_in
from core.store.db import utcnow, write_session
from core.vocabulary import ROLES

_hasher = PasswordHasher()
NOTHING_TO_CHANGE = "nothing to change: send a role, or active true or false"
_SECRET_COLUMNS = ("password_hash", "token_hash")  # changed, but never written into the audit log


class User(SQLModel, table=True):
    """A person who uses Switchboard."""

    __tablename__ = "sb_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    role: str = "operator"
    password_hash: str | None = None
    token_hash: str | None = Field(default=None, unique=True, index=True)
    # Telegram's ids no longer fit in 32 bits.
    telegram_user_id: int | None = Field(default=None, unique=True, index=True, sa_type=BigInteger)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # Added after the first release (migration 0002): the server default fills the rows already there.
    must_change_password: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


def one_time_password() -> str:
    """A generated password (16 URL-safe characters, 96 bits) for someone to replace at their first login."""
    return secrets.token_urlsafe(12)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise BadInput("the password must be at least 8 characters long")


def create_user(
    *, engine: Engine, name: str, role: str, password: str | None, actor: str, one_time: bool = False
) -> User:
    """Create a user; raises Conflict when the name is taken.

    Args:
        engine: The database.
        name: The user name.
        role: operator, approver or admin.
        password: The password, or None for a user who logs in only with a token or Telegram.
        actor: Who creates the user (audited).
        one_time: The password was generated and shown to someone else: it must be changed at first login.
    """
    name = name.strip()
    if not name or len(name) > 64 or not name.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise BadInput(f"user name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
    _check_role(role)
    if password is not None:
        _check_password(password)
    with write_session(engine) as session:
        if session.execute(select(User).where(col(User.name) == name)).scalar_one_or_none() is not None:
            raise Conflict(f"user {name!r} already exists")
        user = User(
            name=name,
            role=role,
            password_hash=_hasher.hash(password) if password else None,
            must_change_password=one_time and password is not None,
        )
        session.add(user)
        session.flush()
        append_in(session, [AuditEvent("user.created", actor, f"user:{name}", {"role": role})])
        session.refresh(user)
        session.expunge(user)
        return user


def get_user(*, engine: Engine, name: str) -> User:
    """Load a user by name or raise NotFound."""
    with Session(engine) as session:
        user: User | None = session.execute(select(User).where(col(User.name) == name)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user called {name!r}")
    return user


def list_users(*, engine: Engine) -> list[User]:
    """All users by name."""
    with Session(engine) as session:
        return list(session.execute(select(User).order_by(col(User.name))).scalars())


def _other_active_admins(session: Session, name: str) -> int:
    # FOR UPDATE: on PostgreSQL two admins demoting each other at once queue here, and the second one reads
    # the first one's change; SQLite's write transactions (BEGIN IMMEDIATE) already run one at a time.
    query = select(col(User.name)).where(col(User.role) == "admin", col(User.active).is_(True))
    return sum(1 for admin in session.execute(query.with_for_update()).scalars() if admin != name)


def _update(engine: Engine, name: str, actor: str, *steps: tuple[str, dict[str, object]]) -> User:
    """Apply ``(audit event, column changes)`` steps to one user in one transaction: all of them or none."""
    changes = {key: value for _, step in steps for key, value in step.items()}
    with write_session(engine) as session:
        user: User | None = session.execute(select(User).where(col(User.name) == name)).scalar_one_or_none()
        if user is None:
            raise NotFound(f"no user called {name!r}")
        stays_admin = changes.get("role", user.role) == "admin" and changes.get("active", user.active)
        if (
            user.role == "admin"
            and user.active
            and not stays_admin
            and not _other_active_admins(session, name)
        ):
            # Checked inside the write transaction, with the admins' rows locked: two admins demoting each
            # other at once cannot both succeed.
            raise Conflict(f"{name} is the last active admin; make someone else an admin first")
        for key, value in changes.items():
            setattr(user, key, value)
        session.add(user)
        events = [
            AuditEvent(
                event, actor, f"user:{name}", {k: v for k, v in step.items() if k not in _SECRET_COLUMNS}
            )
            for event, step in steps
        ]
        append_in(session, events)
        session.flush()
        session.refresh(user)
        session.expunge(user)
        return user


def set_password(*, engine: Engine, name: str, password: str, actor: str, one_time: bool = False) -> User:
    """Set a user's password (argon2 hash); ``one_time`` makes them choose their own at the next login."""
    _check_password(password)
    step = {"password_hash": _hasher.hash(password), "must_change_password": one_time}
    return _update(engine, name, actor, ("user.password_set", step))


def change_own_password(*, engine: Engine, name: str, current: str, new: str) -> User:
    """A user replaces their own password, proving they know the current one.

    Raises:
        Forbidden: the current password is wrong.
        BadInput: the new password is too short or the same as the current one.
    """
    if authenticate(engine=engine, name=name, password=current) is None:
        raise Forbidden("the current password is not right")
    if new == current:
        raise BadInput("the new password must differ from the current one")
    return set_password(engine=engine, name=name, password=new, actor=name)


def set_active(*, engine: Engine, name: str, active: bool, actor: str) -> User:
    """Deactivate a user (no login, no token, no bot) or bring them back."""
    return change_user(engine=engine, name=name, active=active, actor=actor)


def change_user(
    *, engine: Engine, name: str, actor: str, role: str | None = None, active: bool | None = None
) -> User:
    """Change a user's role, activation or both, in one transaction; each change is audited."""
    steps: list[tuple[str, dict[str, object]]] = []
    if role is not None:
        _check_role(role)
        steps.append(("user.role_set", {"role": role}))
    if active is not None:
        steps.append(("user.activated" if active else "user.deactivated", {"active": active}))
    if not steps:
        raise BadInput(NOTHING_TO_CHANGE)
    return _update(engine, name, actor, *steps)


def revoke_token(*, engine: Engine, name: str, actor: str) -> User:
    """Remove a user's API token: scripts using it get 401 from then on."""
    return _update(engine, name, actor, ("user.token_revoked", {"token_hash": None}))


def set_role(*, engine: Engine, name: str, role: str, actor: str) -> User:
    """Change a user's role."""
    return change_user(engine=engine, name=name, role=role, actor=actor)


def issue_token(*, engine: Engine, name: str, actor: str) -> str:
    """Create a new API token for a user (replacing the old one) and return it; only its hash is stored."""
    token = "sb_" + secrets.token_urlsafe(32)
    _update(engine, name, actor, ("user.token_issued", {"token_hash": _token_digest(token)}))
    return token


def link_telegram(*, engine: Engine, name: str, telegram_user_id: int, actor: str) -> User:
    """Map a Telegram user id to a user."""
    with Session(engine) as session:
        other: User | None = session.execute(
            select(User).where(col(User.telegram_user_id) == telegram_user_id)
        ).scalar_one_or_none()
    if other is not None and other.name != name:
        raise Conflict(f"Telegram user {telegram_user_id} is already linked to {other.name!r}")
    return _update(engine, name, actor, ("user.telegram_linked", {"telegram_user_id": telegram_user_id}))


def authenticate(*, engine: Engine, name: str, password: str) -> User | None:
    """The user if the password matches, else None (same answer for unknown users)."""
    with Session(engine) as session:
        user: User | None = session.execute(select(User).where(col(User.name) == name)).scalar_one_or_none()
    if user is None or not user.active or not user.password_hash:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def user_for_token(*, engine: Engine, token: str) -> User | None:
    """The active user holding this API token, if any."""
    with Session(engine) as session:
        user: User | None = session.execute(
            select(User).where(col(User.token_hash) == _token_digest(token))
        ).scalar_one_or_none()
    return user if user is not None and user.active else None


def user_for_telegram(*, engine: Engine, telegram_user_id: int) -> User | None:
    """The active user linked to a Telegram user id, if any."""
    with Session(engine) as session:
        user: User | None = session.execute(
            select(User).where(col(User.telegram_user_id) == telegram_user_id)
        ).scalar_one_or_none()
    return user if user is not None and user.active else None
