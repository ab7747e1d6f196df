"""Login and logout for the browser console, and ``/api/me`` for any caller.

The login form is protected against cross-site posting by a double-submit token (a cookie plus a hidden
field); attempts are rate-limited per client address, and successes and failures are audited (never the
password).
"""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from console.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_MAX_AGE, csrf_matches
from console.deps import ACCOUNT_PAGE, ConsoleState, State, User, authenticate
from console.errors import CsrfFailed, RateLimited
from console.schemas import MeOut
from core.errors import SwitchboardError
from core.store.audit import AuditLog
from core.store.users import User as UserRow
from core.store.users import authenticate as check_password

logger = logging.getLogger(__name__)
router = APIRouter(tags=["auth"])


def safe_next(value: str | None) -> str:
    """Only same-site paths, so the login form can never redirect elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/chat"
    return value


def _secure(state: ConsoleState) -> bool:
    return state.settings.console_url.startswith("https://")


def _login_page(
    request: Request,
    state: ConsoleState,
    *,
    next_path: str,
    error: str | None = None,
    status: int = 200,
    name: str = "",
) -> Response:
    token = secrets.token_urlsafe(24)
    response = state.templates.TemplateResponse(
        request,
        "login.html",
        {"csrf_token": token, "next": next_path, "error": error, "name": name},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=_secure(state),
        path="/login",
    )
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request, state: State, next: str | None = None) -> Response:  # noqa: A002
    """Show the login form (or go straight on when already logged in)."""
    if authenticate(request, state, None) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, state, next_path=safe_next(next))


@router.post("/login", include_in_schema=False)
async def login(
    request: Request,
    state: State,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/chat",  # noqa: A002
) -> Response:
    """Check the password and start a session."""
    target = safe_next(next)
    client = request.client.host if request.client else "unknown"
    try:
        state.limit(f"login:{client}")
        state.limit(f"login:{client}:{username.strip().lower()}", limiter=state.login_limiter)
    except RateLimited as exc:
        page = _login_page(
            request,
            state,
            next_path=target,
            status=429,
            name=username,
            error=f"Too many attempts. Try again in {exc.retry_after} seconds.",
        )
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if not csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_page(
            request,
            state,
            next_path=target,
            status=403,
            name=username,
            error="The form expired. Please try again.",
        )
    engine = state.sb.engine
    user = await run_in_threadpool(
        lambda: check_password(engine=engine, name=username.strip(), password=password)
    )
    audit = AuditLog(engine)
    if user is None:
        await run_in_threadpool(
            lambda: audit.append(
                "console.login_failed",
                actor=username.strip()[:64] or "?",
                subject="console",
                data={"client": client},
            )
        )
        return _login_page(
            request, state, next_path=target, status=401, name=username, error="Wrong user name or password."
        )
    await run_in_threadpool(
        lambda: audit.append("console.login", actor=user.name, subject="console", data={"client": client})
    )
    # A one-time password opens only the account page, where its holder chooses their own.
    response = RedirectResponse(ACCOUNT_PAGE if user.must_change_password else target, status_code=303)
    start_session(response, state, user)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def start_session(response: Response, state: ConsoleState, user: UserRow) -> None:
    """Set a fresh session cookie for ``user`` (after a login, or a password change that ended the old one)."""
    response.set_cookie(
        SESSION_COOKIE,
        state.sessions.encode(state.sessions.new(user)),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=_secure(state),
        path="/",
    )


@router.post("/logout", include_in_schema=False)
async def logout(
    request: Request, state: State, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """End the session."""
    principal = authenticate(request, state, None)
    if principal is not None:
        if not csrf_matches(principal.csrf, csrf_token):
            raise CsrfFailed("the logout form did not carry the page's CSRF token; reload the page")
        try:
            await run_in_threadpool(
                lambda: AuditLog(state.sb.engine).append(
                    "console.logout", actor=principal.name, subject="console"
                )
            )
        except SwitchboardError:
            logger.warning("could not audit the logout of %s", principal.name)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/api/me", response_model=MeOut, tags=["auth"])
def me(principal: User) -> MeOut:
    """Who the caller is."""
    return MeOut(
        name=principal.name, role=principal.role, must_change_password=principal.must_change_password
    )
