"""Shared state and request dependencies: who is calling, what they may do, and the rate limit.

Access rules (every route checks them; nothing mutates without authentication):

- **Chat and threads:** every role chats; a thread belongs to the user who started it and only they can read
  it.
- **Approvals:** approvers and admins see every request and decide them (approve, reject, edit); the four-eyes
  rule stops anyone deciding a request they made or edited. Operators see only their own requests, may
  withdraw one (reject it) and may edit its arguments, which creates a new request needing approval again.
- **Runs:** every role reads runs (the same as the ``list_runs`` tool). Retrying goes through the policy like
  a chat request: a run whose tool the role may not use is refused, and an external action becomes an approval
  request instead of running directly.
- **Audit:** admins and approvers read every record; operators read records they are the actor of. Everyone
  may run the chain verification (it reveals only whether the chain is intact).
- **Users:** admins list, add, re-role, deactivate and reset users; everyone changes their own password and
  makes or revokes their own API token. A browser session on a one-time password (the first admin's, or one
  an admin reset) can do nothing else until its holder has chosen their own password.
- **Evals, charts:** every logged-in role. **Health and metrics:** no login (for probes and Prometheus); they
  reveal no business data. **Ingest webhook:** no user; the HMAC signature is the credential.

Callers authenticate with ``Authorization: Bearer <token>`` (scripts; no CSRF token needed) or the console's
session cookie (browsers; state-changing calls must send the ``X-CSRF-Token`` header).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates

from agent.service import Switchboard
from console.auth import CSRF_HEADER, SESSION_COOKIE, SessionCodec, csrf_matches, fingerprint
from console.config import ConsoleSettings
from console.errors import (
    CsrfFailed,
    LoginRequired,
    PasswordChangeFirst,
    PasswordChangeRequired,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from console.limits import RateLimiter
from console.metrics import Metrics
from core.errors import Forbidden, NotFound
from core.logs import annotate
from core.store.users import get_user, user_for_token
from core.vocabulary import APPROVER_ROLES

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_ATTEMPTS_PER_MINUTE = 10  # per client address and user name: slows password guessing to a crawl
ACCOUNT_PAGE = "/account"
# What a session on a one-time password may call: who am I, and choose a password.
WHILE_CHANGING_PASSWORD = frozenset({"/api/me", "/api/me/password"})


@dataclass
class ConsoleState:
    """Everything the routes share; one per app, held in ``app.state.console``."""

    settings: ConsoleSettings
    metrics: Metrics
    limiter: RateLimiter
    sessions: SessionCodec
    templates: Jinja2Templates
    switchboard: Switchboard | None = None
    login_limiter: RateLimiter = field(
        default_factory=lambda: RateLimiter(per_minute=LOGIN_ATTEMPTS_PER_MINUTE)
    )

    @property
    def sb(self) -> Switchboard:
        """The agent service (available once the app has started)."""
        if self.switchboard is None:
            raise Unavailable("Switchboard is still starting; try again in a moment")
        return self.switchboard

    def limit(self, key: str, *, limiter: RateLimiter | None = None) -> None:
        """Count a request against ``key``'s rate limit; raises RateLimited when over it."""
        limiter = limiter or self.limiter
        wait = limiter.hit(key)
        if wait is not None:
            raise RateLimited(
                f"too many requests: the limit is {limiter.per_minute} per minute; retry in {wait} s",
                retry_after=wait,
            )


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    name: str
    role: str
    via: Literal["token", "session"]
    csrf: str | None = None
    must_change_password: bool = False  # a browser session on a one-time password: only /account works
    active: bool = True  # authentication finds only active accounts; the approval rule reads it all the same

    @property
    def is_approver(self) -> bool:
        """Approvers and admins decide approval requests."""
        return self.role in APPROVER_ROLES


bearer_scheme = HTTPBearer(
    auto_error=False, description="API token printed by `switchboard users token NAME`."
)
cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Console session (browsers).")


async def get_state(request: Request) -> ConsoleState:
    """The app's shared state (async: no I/O, so no trip through the thread pool)."""
    state: ConsoleState = request.app.state.console
    return state


State = Annotated[ConsoleState, Depends(get_state)]


def authenticate(
    request: Request, state: ConsoleState, bearer: HTTPAuthorizationCredentials | None
) -> Principal | None:
    """Resolve the caller from a Bearer token or the session cookie; None when neither is valid.

    Raises:
        Unauthorized: a Bearer token was sent but is not valid (never falls back to the cookie).
    """
    engine = state.sb.engine
    if bearer is not None:
        user = user_for_token(engine=engine, token=bearer.credentials)
        if user is None:
            raise Unauthorized("the API token is not valid; create one with 'switchboard users token NAME'")
        return Principal(user.name, user.role, "token", active=user.active)
    session = state.sessions.decode(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    try:
        user = get_user(engine=engine, name=session.user)
    except NotFound:
        return None
    if not user.active or fingerprint(user) != session.fingerprint:
        return None
    return Principal(
        user.name, user.role, "session", session.csrf, user.must_change_password, active=user.active
    )


def current_user(
    request: Request,
    state: State,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    _cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Principal:
    """The API caller; checks CSRF for cookie sessions and applies the per-user rate limit."""
    principal = authenticate(request, state, bearer)
    if principal is None:
        raise Unauthorized("log in to the console, or send 'Authorization: Bearer <token>'")
    annotate(actor=principal.name)  # on the request's log lines, including the middleware's access line
    if principal.via == "session" and request.method not in SAFE_METHODS:
        if not csrf_matches(principal.csrf, request.headers.get(CSRF_HEADER)):
            raise CsrfFailed("the request did not carry the page's CSRF token; reload the page and try again")
    if principal.must_change_password and request.url.path not in WHILE_CHANGING_PASSWORD:
        raise PasswordChangeRequired(
            "you logged in with a one-time password: choose your own on the Account page first"
        )
    state.limit(f"user:{principal.name}")
    return principal


def page_user(request: Request, state: State) -> Principal:
    """The logged-in browser user of a page; redirects to the login form otherwise."""
    principal = authenticate(request, state, None)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    annotate(actor=principal.name)
    if principal.must_change_password and request.url.path != ACCOUNT_PAGE:
        raise PasswordChangeFirst(ACCOUNT_PAGE)
    state.limit(f"user:{principal.name}")
    return principal


User = Annotated[Principal, Depends(current_user)]
PageUser = Annotated[Principal, Depends(page_user)]


def require_role(principal: Principal, *roles: str, action: str) -> None:
    """Raise Forbidden unless ``principal`` has one of ``roles``."""
    if principal.role not in roles:
        raise Forbidden(
            f"{principal.name} has the {principal.role} role; {action} needs {' or '.join(roles)}"
        )
