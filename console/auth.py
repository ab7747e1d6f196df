"""Console sessions and CSRF: signed session cookies, the session secret, and the first admin.

A session cookie holds the user name, a per-session CSRF token, the issue time and a fingerprint of the
password hash, signed with HMAC-SHA256. Changing a password therefore ends that user's sessions.
State-changing calls made with the cookie must echo the CSRF token in the ``X-CSRF-Token`` header (or the
``csrf_token`` form field); Bearer calls need no CSRF token because a browser never adds that header on its
own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from console.config import ConsoleSettings
from core.store.users import User, create_user, list_users, one_time_password

logger = logging.getLogger(__name__)

SESSION_COOKIE = "sb_session"
LOGIN_CSRF_COOKIE = "sb_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_MAX_AGE = 12 * 3600
_SECRET_FILE = "session_secret"


def session_secret(settings: ConsoleSettings) -> bytes:
    """The configured session secret, or a random one kept in ``var/session_secret`` (mode 600).

    The file survives restarts, so sessions do too; several processes on one var folder share it.
    """
    if settings.session_secret is not None and settings.session_secret.get_secret_value():
        return settings.session_secret.get_secret_value().encode()
    path = Path(settings.var_dir) / _SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="ascii").strip()
        if len(value) >= 32:
            return value.encode()
        raise ValueError(f"{path} is too short to be a session secret; delete it to make a new one") from None
    value = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value.encode()


def fingerprint(user: User) -> str:
    """Changes whenever the user's password changes, which ends their sessions."""
    return hashlib.sha256(f"{user.name}\n{user.password_hash or ''}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SessionData:
    """What a session cookie carries."""

    user: str
    csrf: str
    issued: int
    fingerprint: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Signs and checks session cookie values."""

    def __init__(self, secret: bytes, *, max_age: int = SESSION_MAX_AGE) -> None:
        self._key = hashlib.sha256(b"switchboard-session\n" + secret).digest()
        self.max_age = max_age

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def new(self, user: User) -> SessionData:
        """A fresh session for ``user`` with its own CSRF token."""
        return SessionData(user.name, secrets.token_urlsafe(24), int(time.time()), fingerprint(user))

    def encode(self, data: SessionData) -> str:
        """The cookie value."""
        body = json.dumps(
            {"u": data.user, "c": data.csrf, "t": data.issued, "f": data.fingerprint}, separators=(",", ":")
        )
        payload = _b64(body.encode())
        return f"{payload}.{self._sign(payload)}"

    def decode(self, value: str | None) -> SessionData | None:
        """The session, or None when the value is missing, forged, malformed or too old."""
        if not value or value.count(".") != 1:
            return None
        payload, signature = value.split(".")
        try:
            if not hmac.compare_digest(signature, self._sign(payload)):
                return None
            raw = json.loads(_unb64(payload))
            data = SessionData(str(raw["u"]), str(raw["c"]), int(raw["t"]), str(raw["f"]))
        except (ValueError, KeyError, TypeError, UnicodeError):
            return None
        if not 0 <= time.time() - data.issued <= self.max_age:
            return None
        return data


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens; missing ones never match."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def bootstrap_admin(engine: Engine, *, name: str = "admin") -> str | None:
    """On an empty user table, create an admin and return its one-time password (else None).

    The caller prints the password once to the terminal; it is never logged or audited. The admin must choose
    their own password at the first login.
    """
    if list_users(engine=engine):
        return None
    password = one_time_password()
    create_user(engine=engine, name=name, role="admin", password=password, actor="system", one_time=True)
    logger.info("created the first admin user %s", name)
    return password
