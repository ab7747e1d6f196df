"""Problem+json (RFC 9457) at the edge: every error the API returns has type, title, status, detail and code.

Domain errors (``core.errors.SwitchboardError``) keep their stable code and safe message; HTTP and validation
errors get a code too; anything unexpected is logged with its traceback and answered with a short 500 that
never contains it. Page routes that need a login redirect to the login form instead of answering 401, and a
browser asking for a page that does not exist gets a styled 404 page instead of JSON.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import SwitchboardError
from core.text import ITEMS_LIMIT, clip

logger = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
# The HTTP status of each error code; a code not listed answers 400, or 500 when it is the server's fault.
HTTP_STATUS: dict[str, int] = {
    "bad_input": 422,
    "not_found": 404,
    "forbidden": 403,
    "conflict": 409,
    "busy": 503,
    "too_large": 413,
    "uri_too_long": 414,
    "delivery_failed": 502,
    "config_error": 500,
    "audit_unavailable": 503,
    "internal_error": 500,
    "unauthorized": 401,
    "rate_limited": 429,
    "unavailable": 503,
    "csrf_failed": 403,
    "password_change_required": 403,
}


def http_status(exc: SwitchboardError) -> int:
    """The HTTP status that answers ``exc``."""
    return HTTP_STATUS.get(exc.code, 500 if exc.fault == "server" else 400)


class Unauthorized(SwitchboardError):
    """No valid credentials: log in, or send ``Authorization: Bearer <token>``."""

    code = "unauthorized"


class RateLimited(SwitchboardError):
    """Too many requests from one user in the last minute."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class Unavailable(SwitchboardError):
    """A feature that is switched off or not ready yet."""

    code = "unavailable"
    fault = "server"


class CsrfFailed(SwitchboardError):
    """A state-changing call made with the session cookie did not carry the session's CSRF token."""

    code = "csrf_failed"


class PasswordChangeRequired(SwitchboardError):
    """A session on a one-time password called the API before its holder chose their own password."""

    code = "password_change_required"


class PasswordChangeFirst(Exception):
    """A page was opened on a one-time password; the handler redirects to the account page."""

    def __init__(self, page: str) -> None:
        super().__init__(page)
        self.page = page


class LoginRequired(Exception):
    """A page needs a logged-in user; the handler redirects to the login form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


# RFC 9110's names, where Python 3.11's http module still has RFC 2616's.
_TITLES = {413: "Content Too Large", 414: "URI Too Long"}


def _title(status: int) -> str:
    if status in _TITLES:
        return _TITLES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(
    status: int, detail: str, *, code: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": f"urn:switchboard:problem:{code}",
        "title": _title(status),
        "status": status,
        "detail": detail,
        "code": code,
        **{k: v for k, v in extra.items() if v is not None},
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _switchboard_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SwitchboardError)
    if exc.code == "not_found" and _wants_page(request):
        return _not_found_page(request)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="switchboard"'
    status = http_status(exc)
    if status >= 500:
        logger.warning("request failed: %s (%s)", exc.message, exc.code)
    return problem(status, exc.message, code=exc.code, headers=headers or None, details=exc.details or None)


# Paths a browser never opens as a page: their callers read problem+json even when they also accept HTML.
_NOT_PAGES = ("/api/", "/charts/", "/evals/files/", "/static/", "/health", "/metrics")


def _wants_page(request: Request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and "text/html" in request.headers.get("accept", "")
        and not request.url.path.startswith(_NOT_PAGES)
    )


def _not_found_page(request: Request) -> Response:
    templates = request.app.state.console.templates
    response: Response = templates.TemplateResponse(
        request, "404.html", {"path": request.url.path}, status_code=404
    )
    return response


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and _wants_page(request):
        return _not_found_page(request)
    code = _title(exc.status_code).lower().replace(" ", "_").replace("-", "_")
    detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    return problem(exc.status_code, detail, code=code, headers=dict(exc.headers or {}) or None)


_TOO_LONG = frozenset({"string_too_long", "bytes_too_long", "too_long"})
_LOC_CHARS = 100


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # A page address whose id is malformed (/chat/<typo>) names no page: the browser gets the 404 page.
    path_errors = [error for error in exc.errors() if tuple(error.get("loc", ()))[:1] == ("path",)]
    if _wants_page(request) and path_errors and not any(e.get("type") in _TOO_LONG for e in path_errors):
        return _not_found_page(request)
    # The body of an answer is bounded as every message is (core.text): names in a location come from the
    # request (a JSON key), and a body with 100,000 unknown keys has as many errors.
    errors = [
        {
            "loc": [clip(str(part), _LOC_CHARS) for part in error.get("loc", ())],
            "msg": clip(str(error.get("msg", ""))),
            "type": error.get("type"),
        }
        for error in exc.errors()[:ITEMS_LIMIT]
    ]
    # A value over its maximum length is a size limit, answered with the status HTTP defines for it: 413 Content
    # Too Large for a body field (a chat message over 4,000 characters), 414 URI Too Long for a query parameter.
    too_long = [error for error in errors if error["type"] in _TOO_LONG]
    first = (too_long or errors or [{"loc": [], "msg": "invalid request"}])[0]
    where = ".".join(part for part in first["loc"] if part not in ("body", "query", "path")) or "request"
    if too_long:
        in_uri = first["loc"][:1] in (["query"], ["path"])
        status, code = (414, "uri_too_long") if in_uri else (413, "too_large")
        return problem(status, f"{where}: {first['msg']}", code=code, errors=errors)
    return problem(422, f"{where}: {first['msg']}", code="bad_input", errors=errors)


def _login_required(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)


def _password_change_first(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PasswordChangeFirst)
    return RedirectResponse(exc.page, status_code=303)


def _unexpected(request: Request, exc: Exception) -> Response:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "Something went wrong on the server; the log has the details.", code="internal_error")


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem+json translators on ``app``."""
    app.add_exception_handler(SwitchboardError, _switchboard_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PasswordChangeFirst, _password_change_first)
    app.add_exception_handler(Exception, _unexpected)
