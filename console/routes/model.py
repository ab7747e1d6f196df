"""The Model page and its API: the router's drift report, its trend as charts, and the shadow router's disagreements.

Admins and approvers see it (it quotes every operator's messages); operators are refused, as they are on other
people's audit records.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from agent.modelops.drift_models import DriftReport, WindowReport
from agent.modelops.drift_service import drift_report, report_range
from agent.modelops.drift_shadow import ShadowSummary, shadow_summary
from agent.modelops.drift_windows import WindowKind
from console.deps import ConsoleState, PageUser, Principal, State, User, require_role
from console.routes.pages import render
from core.errors import Forbidden
from flows.reports.charts import ChartData

router = APIRouter(tags=["model"])
ACTION = "the model drift report"
WindowQuery = Annotated[WindowKind, Query(description="Day windows or ISO weeks (UTC).")]
DaysQuery = Annotated[
    int | None, Query(ge=1, le=366, description="The last N days (default: 7 for days, 28 for weeks).")
]
ToolQuery = Annotated[
    str | None, Query(max_length=100, description="Only this tool (overall still counts every decision).")
]
Measure = Literal["confidence", "corrections", "oos", "psi"]
CHARTS: dict[Measure, tuple[str, str]] = {
    "confidence": ("Mean confidence", "confidence"),
    "corrections": ("Corrections", "share of decisions"),
    "oos": ("Out of scope", "share of messages"),
    "psi": ("Confidence shift against the baseline", "PSI"),
}


class ModelDriftOut(BaseModel):
    """The drift report of a range, the scopes it flagged, and the shadow router's disagreements in it."""

    report: DriftReport
    flagged: list[str]
    shadow: ShadowSummary


def _allowed(principal: Principal) -> None:
    require_role(principal, "admin", "approver", action=ACTION)


def _drift(state: ConsoleState, window: WindowKind, days: int | None, tool: str | None) -> ModelDriftOut:
    start, end = report_range(kind=window, now=datetime.now(UTC), days=days)
    engine = state.sb.engine
    report = drift_report(
        settings=state.settings, engine=engine, kind=window, start=start, end=end, tool=tool
    )
    shadow = shadow_summary(engine=engine, start=start, end=end)
    return ModelDriftOut(report=report, flagged=report.flagged, shadow=shadow)


def _value(window: WindowReport, measure: Measure, tool: str | None) -> float | None:
    """The measure in one window; None where it is undefined (no decisions, no baseline), never a made-up 0."""
    stats = next((t for t in window.tools if t.scope == tool), None) if tool else window.overall
    if stats is None or not stats.decisions:
        return None
    if measure == "confidence":
        return stats.confidence_mean
    if measure == "corrections":
        return stats.correction_rate
    if measure == "oos":
        return window.overall.oos_share
    return stats.psi.value if stats.psi else None


@router.get("/api/model/drift", response_model=ModelDriftOut)
def model_drift(
    principal: User, state: State, window: WindowQuery = "day", days: DaysQuery = None, tool: ToolQuery = None
) -> ModelDriftOut:
    """The router's drift report per window and tool, with the flags and the shadow router's disagreements."""
    _allowed(principal)
    return _drift(state, window, days, tool)


@router.get("/api/model/drift/chart", response_model=ChartData)
def model_drift_chart(
    principal: User,
    state: State,
    measure: Annotated[Measure, Query(description="The measure to plot per window.")],
    window: WindowQuery = "day",
    days: DaysQuery = None,
    tool: ToolQuery = None,
    as_: Annotated[
        Literal["json"], Query(alias="format", description="The series (the console draws it).")
    ] = "json",
) -> ChartData:
    """One measure of the drift report per window, as the series the console draws as a line chart."""
    _allowed(principal)
    del as_  # the console's chart script always asks for format=json
    start, end = report_range(kind=window, now=datetime.now(UTC), days=days)
    report = drift_report(
        settings=state.settings,
        engine=state.sb.engine,
        kind=window,
        start=start,
        end=end,
        tool=tool,
        with_vocabulary=False,
    )
    title, ylabel = CHARTS[measure]
    # Windows where the measure is undefined are left out rather than drawn as 0 (an empty day is no drop).
    points = [(w, value) for w in report.windows if (value := _value(w, measure, tool)) is not None]
    return ChartData(
        kind="line",
        title=f"{title} · {tool}" if tool else title,
        ylabel=ylabel,
        labels=[w.label[5:] if window == "day" else w.label for w, _ in points],
        values=[round(value, 4) for _, value in points],
    )


@router.get("/model", include_in_schema=False)
def model_page(
    request: Request,
    principal: PageUser,
    state: State,
    window: WindowQuery = "day",
    days: DaysQuery = None,
    tool: ToolQuery = None,
) -> Response:
    """The router's drift: trend charts, flagged tools, the latest window per tool, the shadow router."""
    try:
        _allowed(principal)
    except Forbidden as exc:
        return render(request, state, principal, "model.html", "model", status_code=403, refused=exc.message)
    drift = _drift(state, window, days, tool)
    query = urlencode(
        {key: value for key, value in (("window", window), ("days", days), ("tool", tool)) if value}
    )
    return render(
        request,
        state,
        principal,
        "model.html",
        "model",
        refused=None,
        drift=drift,
        latest=drift.report.latest,
        query=query,
        charts=list(CHARTS),
        window=window,
        days=days,
        tool=tool,
    )
