"""How ``switchboard serve`` runs the console: in one process, or in several uvicorn worker processes.

A worker is a separate process running uvicorn on a listening socket of its own: every worker's socket is bound
to the same address with ``SO_REUSEPORT``, so the kernel spreads new connections evenly between them. (With
uvicorn's own ``--workers``, all workers share one socket and the first to wake accepts every waiting
connection: measured here, all 16 keep-alive connections of a load test landed on one worker while the other
sat idle.) The supervisor replaces a worker that dies. Each worker builds its settings the usual way, from the
environment and the YAML file, and its own agent service over the shared database and var folder. What the
workers share, and how:

- the database (SQLite in WAL mode, or PostgreSQL) and the checkpoint store;
- turns on one chat thread, serialised across processes by lock files in ``var/locks/threads/`` (``core.locks``);
- the background ticker (schedules, approval expiry, reminders), run by whichever worker holds
  ``var/locks/background.lock``;
- the per-user rate limit, split evenly between the workers, so together they never allow more;
- ``/metrics``, which adds up every worker's samples (prometheus_client's multiprocess files in ``var/metrics``).

The Telegram webhook keeps to a single process: with several workers, run ``switchboard bot`` beside them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

from console.app import metrics_dir
from console.config import ConsoleSettings
from core.errors import ConfigError

logger = logging.getLogger(__name__)
# prometheus_client reads this when it is imported, so the supervisor sets it before any worker starts.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_WORKERS_ENV = "SWITCHBOARD_CONSOLE_WORKERS"
_SLOT_ENV = "SWITCHBOARD_CONSOLE_SLOT"
_STARTUP_FAILURE = 3  # uvicorn's exit code when an app cannot start; restarting would fail the same way
_STOP_WAIT_S = 30.0


def check_worker(settings: ConsoleSettings) -> None:
    """Refuse to build a worker's app outside ``serve_workers``.

    Raises:
        ConfigError: the process was not started by ``serve_workers`` (the metrics folder is not set up).
    """
    if os.environ.get(MULTIPROC_ENV) != str(metrics_dir(settings)):
        raise ConfigError("console workers must be started with 'switchboard serve --workers N'")


def serve_workers(
    settings: ConsoleSettings, *, app_factory: str, host: str, port: int, workers: int, **uvicorn_options: Any
) -> None:
    """Run ``workers`` worker processes on one address until SIGINT or SIGTERM.

    Args:
        settings: The supervisor's settings; every worker loads the same ones from the environment and YAML.
        app_factory: ``module:function`` that builds a worker's app (uvicorn calls it in each worker).
        host: Address to listen on.
        port: Port to listen on.
        workers: Number of worker processes (at least 2; use ``create_app`` directly for one).
        uvicorn_options: Passed on to ``uvicorn.Config`` in each worker (its ``log_config``, proxy headers, ...).

    Raises:
        ConfigError: the address is in use, or a worker could not start.
    """
    check_free(host, port)  # SO_REUSEPORT would otherwise let a second server share the port silently
    folder = metrics_dir(settings)
    shutil.rmtree(folder, ignore_errors=True)  # samples of an earlier run would be added to this one's
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    os.environ[_WORKERS_ENV] = str(workers)
    sockets = [_listen(host, port) for _ in range(workers)]
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _sig, _frame: stop.set())
    processes = [_start(slot, sock, app_factory, uvicorn_options) for slot, sock in enumerate(sockets)]
    failed = False
    try:
        while not stop.wait(0.5):
            for index, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == _STARTUP_FAILURE:
                    failed = True
                    stop.set()
                    break
                logger.warning(
                    "console worker %s exited with %s; starting another", process.pid, process.exitcode
                )
                processes[index] = _start(index, sockets[index], app_factory, uvicorn_options)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + _STOP_WAIT_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sock in sockets:
            sock.close()
    if failed:
        raise ConfigError("a console worker could not start; its error is printed above")


def check_free(host: str, port: int) -> None:
    """Raise ConfigError naming the address when nothing can listen on it (in use, or not this host's)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _start(slot: int, sock: socket.socket, app_factory: str, uvicorn_options: dict[str, Any]) -> BaseProcess:
    process = multiprocessing.get_context("spawn").Process(
        target=_run_worker,
        args=(slot, sock, app_factory, uvicorn_options),
        name=f"switchboard-console-worker-{slot}",
    )
    process.start()
    return process


def _run_worker(slot: int, sock: socket.socket, app_factory: str, uvicorn_options: dict[str, Any]) -> None:
    """One worker process: uvicorn serving the app ``app_factory`` builds, on its own socket."""
    import uvicorn

    # Its settings are read from the environment: a restarted worker keeps its slot, so it recovers the durable
    # work its predecessor left (and no sibling takes that work over while running its own).
    os.environ[_SLOT_ENV] = str(slot)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    config = uvicorn.Config(app_factory, factory=True, **uvicorn_options)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(_STARTUP_FAILURE)


def _exit_with_parent(parent: int) -> None:
    # A supervisor killed outright (SIGKILL, OOM) cannot stop its workers; without this they would keep serving
    # the port as orphans. SIGTERM lets uvicorn finish the requests in flight.
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)
