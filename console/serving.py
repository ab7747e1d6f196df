"""How ``switchboard serve`` runs the console: in one process, or in several uvicorn worker processes.

A worker is a separate process (uvicorn's supervisor starts them and replaces any that dies). Each builds its
Settings the usual way, from the environment and the YAML file, and its own agent service over the shared
database and var folder. What the workers share, and how:

- the database (SQLite in WAL mode, or PostgreSQL) and the checkpoint store;
- turns on one chat thread, serialised across processes by ``var/locks/threads.lock`` (``flows.locks``);
- the background ticker (schedules, approval expiry, reminders), run by whichever worker holds
  ``var/locks/background.lock``;
- the per-user rate limit, split evenly between the workers, so together they never allow more;
- ``/metrics``, which adds up every worker's samples (prometheus_client's multiprocess files in ``var/metrics``).

The Telegram webhook keeps to a single process: with several workers, run ``switchboard bot`` beside them.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from fastapi import FastAPI

from console.app import create_app, metrics_dir
from flows.config import Settings, load_settings
from flows.errors import ConfigError

# prometheus_client reads this when it is imported, so the supervisor sets it before any worker starts.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_WORKERS_ENV = "SWITCHBOARD_CONSOLE_WORKERS"


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn's factory, called in each worker).

    Raises:
        ConfigError: the process was not started by ``serve_workers`` (the metrics folder is not set up).
    """
    settings = load_settings()
    if os.environ.get(MULTIPROC_ENV) != str(metrics_dir(settings)):
        raise ConfigError("console workers must be started with 'switchboard serve --workers N'")
    return create_app(settings)


def serve_workers(settings: Settings, *, host: str, port: int, workers: int, **uvicorn_options: Any) -> None:
    """Run ``workers`` worker processes on one listening socket until interrupted.

    Args:
        settings: The supervisor's settings; every worker loads the same ones from the environment and YAML.
        host: Address to listen on.
        port: Port to listen on.
        workers: Number of worker processes (at least 2; use ``create_app`` directly for one).
        uvicorn_options: Passed on to ``uvicorn.run``.

    Raises:
        ConfigError: a Telegram webhook is configured (it runs in a single process).
    """
    import uvicorn

    if settings.telegram_token is not None and settings.telegram_webhook_secret is not None:
        raise ConfigError(
            "the Telegram webhook runs in a single process: use 'switchboard serve --workers 1', "
            "or run 'switchboard bot' beside the workers"
        )
    folder = metrics_dir(settings)
    shutil.rmtree(folder, ignore_errors=True)  # samples of an earlier run would be added to this one's
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    os.environ[_WORKERS_ENV] = str(workers)
    uvicorn.run(
        "console.serving:worker_app", factory=True, host=host, port=port, workers=workers, **uvicorn_options
    )
