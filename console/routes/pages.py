"""Server-rendered console pages: chat, approvals inbox, runs, audit, the latest eval report, users, account.

Pages carry only the frame and the caller's CSRF token; the small scripts in static/ fill them from the JSON
API.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from console.deps import ConsoleState, PageUser, Principal, State, require_role
from console.routes.approvals import ApprovalId
from console.routes.files import load_report
from console.schemas import ThreadId
from core.errors import Forbidden, NotFound
from core.store import approval_ops as ops
from core.store.approvals import ApprovalStatus

router = APIRouter(include_in_schema=False)


def _pending(state: ConsoleState, principal: Principal) -> int:
    rows = ops.list_requests(
        engine=state.sb.engine,
        status=ApprovalStatus.PENDING,
        requester=None if principal.is_approver else principal.name,
        limit=1000,
    )
    return len(rows)


def render(
    request: Request,
    state: ConsoleState,
    principal: Principal,
    template: str,
    page: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render a page inside the console frame."""
    return state.templates.TemplateResponse(
        request,
        template,
        {
            "user": principal,
            "csrf_token": principal.csrf or "",
            "page": page,
            "pending": _pending(state, principal),
            **context,
        },
        status_code=status_code,
    )


@router.get("/")
def home(_principal: PageUser) -> RedirectResponse:
    """The chat is the home page."""
    return RedirectResponse("/chat", status_code=303)


@router.get("/chat")
def chat_new(request: Request, principal: PageUser, state: State) -> Response:
    """A new, empty thread."""
    thread = "t-" + secrets.token_hex(6)
    return render(request, state, principal, "chat.html", "chat", thread_id=thread, new_thread=True)


@router.get("/chat/{thread_id}")
def chat_thread(thread_id: ThreadId, request: Request, principal: PageUser, state: State) -> Response:
    """One of the caller's threads."""
    return render(request, state, principal, "chat.html", "chat", thread_id=thread_id, new_thread=False)


@router.get("/approvals")
def approvals_page(request: Request, principal: PageUser, state: State) -> Response:
    """The approvals inbox."""
    return render(
        request,
        state,
        principal,
        "approvals.html",
        "approvals",
        four_eyes=state.sb.policy.config.four_eyes,
        focus="",
    )


@router.get("/approvals/{approval_id}")
def approval_page(approval_id: ApprovalId, request: Request, principal: PageUser, state: State) -> Response:
    """The inbox opened on one request (the bot links here)."""
    return render(
        request,
        state,
        principal,
        "approvals.html",
        "approvals",
        four_eyes=state.sb.policy.config.four_eyes,
        focus=approval_id,
    )


@router.get("/runs")
def runs_page(request: Request, principal: PageUser, state: State) -> Response:
    """Runs with filters, details and retry."""
    return render(request, state, principal, "runs.html", "runs")


@router.get("/audit")
def audit_page(request: Request, principal: PageUser, state: State) -> Response:
    """The audit trail with filters and chain verification."""
    return render(request, state, principal, "audit.html", "audit")


@router.get("/users")
def users_page(request: Request, principal: PageUser, state: State) -> Response:
    """Users and roles (admins only)."""
    try:
        require_role(principal, "admin", action="managing users")
    except Forbidden as exc:
        return render(request, state, principal, "users.html", "users", status_code=403, refused=exc.message)
    return render(request, state, principal, "users.html", "users", refused=None)


@router.get("/account")
def account_page(request: Request, principal: PageUser, state: State) -> Response:
    """The caller's password and API token."""
    return render(request, state, principal, "account.html", "account")


@router.get("/evals")
def evals_page(request: Request, principal: PageUser, state: State) -> Response:
    """The latest eval report."""
    try:
        report = load_report(state.settings)
    except NotFound as exc:
        return render(request, state, principal, "evals.html", "evals", report=None, missing=exc.message)
    return render(
        request,
        state,
        principal,
        "evals.html",
        "evals",
        report=report,
        missing=None,
        headline=_headline(report.summary),
        per_tool=_per_tool(report.summary),
    )


def _pct(value: Any) -> str:
    return f"{value * 100:.1f} %" if isinstance(value, int | float) else "—"


def _ms(value: Any) -> str:
    return f"{value:.1f} ms" if isinstance(value, int | float) else "—"


def _headline(summary: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        ("Examples", str(summary.get("n", "—"))),
        ("Tool accuracy", _pct(summary.get("tool_accuracy"))),
        ("Macro F1", _pct(summary.get("macro_f1"))),
        ("Arguments exact match", _pct(summary.get("args_exact_match"))),
        ("Out-of-scope recall", _pct(summary.get("oos_recall"))),
        ("False refusals", _pct(summary.get("false_refusal_rate"))),
        (
            "Calibration error (ECE)",
            f"{summary['ece']:.3f}" if isinstance(summary.get("ece"), int | float) else "—",
        ),
        ("Auto-executed", _pct(summary.get("auto_execute_share"))),
        ("Wrong auto-executions", _pct(summary.get("wrong_auto_execution_rate"))),
        ("Latency p50 / p95", f"{_ms(summary.get('latency_ms_p50'))} / {_ms(summary.get('latency_ms_p95'))}"),
    ]
    return rows


def _per_tool(summary: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    per_tool = summary.get("per_tool") or {}
    rows = []
    for tool, scores in sorted(per_tool.items()):
        if isinstance(scores, dict):
            rows.append(
                (
                    tool,
                    _pct(scores.get("precision")),
                    _pct(scores.get("recall")),
                    _pct(scores.get("f1")),
                    str(scores.get("support", "—")),
                )
            )
    return rows
