"""Files the console shows: report charts (as PNG, or as the series they plot) and the latest eval report.

Only files directly inside the charts folder or an eval report folder are served, by name; a name is checked
against a strict pattern and its resolved path must stay in that folder, so no path can reach anything else.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response

from console.config import ConsoleSettings
from console.deps import State, User
from console.schemas import EvalReportOut
from console.views import charts_dir
from core.errors import NotFound
from flows.reports.charts import read_chart_data

router = APIRouter(tags=["files"])
_PNG = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.png$"
ROOT_REPORT = "_"
PngName = Annotated[str, PathParam(pattern=_PNG)]
ReportName = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,100}$")]


def evals_dir(settings: ConsoleSettings) -> Path:
    """Where ``switchboard eval --report`` reports are looked for."""
    return (Path(settings.var_dir) / "evals").resolve()


def _inside(folder: Path, name: str) -> Path | None:
    if not re.match(_PNG, name):
        return None
    path = (folder / name).resolve()
    return path if path.parent == folder and path.is_file() else None


def latest_report(settings: ConsoleSettings) -> tuple[str, Path] | None:
    """The most recent report folder (``var/evals`` itself or one folder below it) holding a summary.json."""
    root = evals_dir(settings)
    if not root.is_dir():
        return None
    found: list[tuple[float, str, Path]] = []
    if (root / "summary.json").is_file():
        found.append(((root / "summary.json").stat().st_mtime, ROOT_REPORT, root))
    for child in root.iterdir():
        summary = child / "summary.json"
        if (
            child.is_dir()
            and not child.is_symlink()
            and re.match(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,100}$", child.name)
            and summary.is_file()
        ):
            found.append((summary.stat().st_mtime, child.name, child))
    if not found:
        return None
    _, name, folder = max(found)
    return name, folder


def report_folder(settings: ConsoleSettings, name: str) -> Path:
    """The folder of report ``name`` (``_`` is ``var/evals`` itself)."""
    root = evals_dir(settings)
    folder = root if name == ROOT_REPORT else (root / name).resolve()
    if folder != root and folder.parent != root or not (folder / "summary.json").is_file():
        raise NotFound(f"no eval report called {name}")
    return folder


def load_report(settings: ConsoleSettings) -> EvalReportOut:
    """The latest report's summary and plot URLs.

    Raises:
        NotFound: no report has been written yet.
    """
    latest = latest_report(settings)
    if latest is None:
        raise NotFound("no eval report yet: run 'switchboard eval --report var/evals/latest'")
    name, folder = latest
    summary_file = folder / "summary.json"
    try:
        summary: Any = json.loads(summary_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotFound(f"the eval report {name} has no readable summary.json") from None
    plots = sorted(p.name for p in folder.glob("*.png") if _inside(folder, p.name))
    created = datetime.fromtimestamp(summary_file.stat().st_mtime, tz=UTC)
    return EvalReportOut(
        name=name,
        created_at=created,
        summary=summary if isinstance(summary, dict) else {},
        plots=[f"/evals/files/{name}/{plot}" for plot in plots],
    )


@router.get(
    "/api/evals/latest", response_model=EvalReportOut, responses={404: {"description": "No report yet."}}
)
def eval_latest(_principal: User, state: State) -> EvalReportOut:
    """The latest eval report (summary figures and plot URLs)."""
    return load_report(state.settings)


@router.get(
    "/evals/files/{report}/{name}",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}, 404: {"description": "No such plot."}},
)
def eval_file(report: ReportName, name: PngName, _principal: User, state: State) -> FileResponse:
    """A plot of an eval report."""
    path = _inside(report_folder(state.settings, report), name)
    if path is None:
        raise NotFound(f"no plot called {name} in eval report {report}")
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.get(
    "/charts/{name}",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/png": {}, "application/json": {}}},
        404: {"description": "No such chart, or (format=json) one without its series."},
    },
)
def chart(
    name: PngName,
    _principal: User,
    state: State,
    as_: Annotated[
        Literal["png", "json"], Query(alias="format", description="png: the image; json: the series it plots")
    ] = "png",
) -> Response:
    """A report chart written by the run_report tool, or the series it plots (the console draws it to fit)."""
    path = _inside(charts_dir(state.settings), name)
    if path is None:
        raise NotFound(f"no chart called {name}")
    cache = {"Cache-Control": "private, max-age=300"}
    if as_ == "json":
        data = read_chart_data(path)
        if data is None:
            raise NotFound(f"the chart {name} carries no series")
        return JSONResponse(data.model_dump(), headers=cache)
    return FileResponse(path, media_type="image/png", headers=cache)
