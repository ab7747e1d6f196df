"""The app of one ``switchboard serve --workers N`` worker process (uvicorn's factory, called in each worker)."""

from __future__ import annotations

from fastapi import FastAPI

from console.app import create_app
from console.serving import check_worker
from switchboard.settings import load_settings


def worker_app() -> FastAPI:
    """Build a worker's app from the environment and YAML, as the supervisor did.

    Raises:
        ConfigError: the process was not started by ``serve_workers``.
    """
    settings = load_settings()
    check_worker(settings)
    return create_app(settings)
