"""Health and Prometheus metrics (no login: for probes and scrapers; neither reveals business data)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from console.deps import State
from console.schemas import HealthOut

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(state: State) -> Response:
    """Liveness plus a one-row database check; 503 when the database cannot be reached."""
    sb = state.switchboard
    if sb is None:
        return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
    try:
        with sb.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        logger.warning("health check: database unreachable", exc_info=True)
        return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(state: State) -> Response:
    """Prometheus exposition: requests, chat decisions, latencies, pending approvals, run statuses."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
