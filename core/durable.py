"""Durable execution on DBOS Transact: the engine's lifecycle in one process.

DBOS checkpoints every workflow and each of its steps in its system database, so work a process was doing when it
died is finished by that process's next start (its *executor id* names it across restarts), and a workflow id
started twice runs once: the second caller gets the first one's outcome. LangGraph decides what to run; a DBOS
workflow runs it.

Where its state lives:
- SQLite (one host): a file of its own beside the main database (``switchboard.db`` → ``switchboard.dbos.db``), so
  DBOS's writers never queue behind ours.
- PostgreSQL (several hosts): the same database, in the ``dbos`` schema, so processes on every host share the work.

DBOS keeps one engine per process, so ``launch`` is process-wide: the composition roots (the console's lifespan,
the bot, the CLI) call it after building what the workflows run on, and ``shutdown`` when they stop. Workflows are
registered by the modules that define them (tools/durable.py) before ``launch``.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Generic, TypeVar

from dbos import DBOS, DBOSConfig
from dbos._dbos import _get_dbos_instance
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

from core.config import CoreSettings
from core.errors import Conflict
from core.store.db import normalize_url, ping_when_idle, switch_to_wal

logger = logging.getLogger(__name__)
T = TypeVar("T")
APP_NAME = "switchboard"
SCHEMA = "dbos"
_LOCK = threading.Lock()
_launched: DurableConfig | None = None


@dataclass(frozen=True)
class DurableConfig:
    """Where DBOS keeps its state and who this process is to it.

    Attributes:
        system_url: DBOS's system database.
        executor_id: This process across restarts: a restarted process recovers the workflows it left unfinished,
            and never those of a sibling that is still running them.
        schema: The PostgreSQL schema of DBOS's tables (ignored on SQLite).
        log_level: DBOS's own log records at this level or above reach our log handlers.
        serves: The process takes work from the shared queues (console workers, the bot); a CLI command does not,
            so a tick is never handed to a process about to exit.
    """

    system_url: str
    executor_id: str
    schema: str = SCHEMA
    log_level: str = "WARNING"
    serves: bool = True
    queues: tuple[str, ...] | None = None


def system_url(database_url: str, override: str | None = None) -> str:
    """DBOS's system database for a main database URL: a sibling file on SQLite, the same database on PostgreSQL."""
    if override:
        return normalize_url(override)
    url = make_url(normalize_url(database_url))
    if url.get_backend_name() != "sqlite":
        return url.render_as_string(hide_password=False)
    if not url.database or url.database == ":memory:":
        raise ValueError("durable execution needs a database file, not an in-memory SQLite database")
    stem = url.database[: -len(".db")] if url.database.endswith(".db") else url.database
    return url.set(database=f"{stem}.dbos.db").render_as_string(hide_password=False)


def durable_config(
    settings: CoreSettings, *, role: str, serves: bool = True, queues: tuple[str, ...] | None = None
) -> DurableConfig:
    """The engine's configuration for a process playing ``role`` ("console-0", "bot", "cli-<pid>", ...).

    The executor id is ``settings.executor_id`` (else the host's name) and the role: a restarted console worker
    or bot recovers what its predecessor left, and never takes over a sibling's work while the sibling runs.
    """
    executor = f"{settings.executor_id or socket.gethostname()}-{role}"
    return DurableConfig(
        system_url=system_url(settings.database_url, settings.durable_url),
        executor_id=executor,
        schema=schema_for(settings.database_url, settings.durable_schema),
        log_level=settings.log_level,
        serves=serves,
        queues=queues,
    )


def schema_for(database_url: str, configured: str) -> str:
    """DBOS's schema: ``configured``, or ``<schema>_dbos`` when the URL pins Switchboard to a schema of its own.

    Two Switchboards in two schemas of one PostgreSQL database then never share workflow ids ("retry:5").
    """
    if configured != SCHEMA:
        return configured
    options = str(make_url(normalize_url(database_url)).query.get("options", ""))
    found = re.search(r"search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)", options)
    return f"{found.group(1).lower()}_{SCHEMA}" if found else SCHEMA


def _version() -> str:
    # Pinned to the release rather than DBOS's default (a hash of the workflow code): a workflow a crash left
    # unfinished is recovered by the next start even when that start runs a patched build of the same release.
    try:
        return metadata.version(APP_NAME)
    except metadata.PackageNotFoundError:
        return "dev"


def launch(config: DurableConfig) -> None:
    """Start the engine for this process (idempotent); it recovers this executor's unfinished workflows.

    A second call with another configuration (a test's fresh database) shuts the first engine down first.
    """
    global _launched
    with _LOCK:
        if _launched == config:
            return
        if _launched is not None:
            DBOS.destroy(destroy_registry=False)
            _launched = None
        dbos_logger = logging.getLogger("dbos")
        if not dbos_logger.handlers:
            # A handler of any kind stops DBOS from adding its own console handler; records then go to ours.
            dbos_logger.addHandler(logging.NullHandler())
        dbos_logger.propagate = True
        settings: DBOSConfig = {
            "name": APP_NAME,
            "system_database_url": config.system_url,
            **(
                {"system_database_engine": _sqlite_engine(config.system_url)}
                if _is_sqlite(config.system_url)
                # DBOS's own engine, but checked only after it sat idle (``ping_when_idle``, set below) instead of
                # at every checkout: its pre-ping was half of its round trips per workflow.
                else {"db_engine_kwargs": {"pool_pre_ping": False}}
            ),
            "executor_id": config.executor_id,
            "application_version": _version(),
            "dbos_system_schema": config.schema,
            "log_level": config.log_level,
            "enable_otlp": False,
        }
        DBOS(config=settings)
        if not config.serves:
            DBOS.listen_queues([])  # DBOS's internal queue only: what this process starts itself
        elif config.queues is not None:
            DBOS.listen_queues(list(config.queues))  # only work it has the code for
        DBOS.launch()
        if not _is_sqlite(config.system_url):
            ping_when_idle(_get_dbos_instance()._sys_db.engine)
        _launched = config
        logger.info(
            "durable execution started", extra={"executor_id": config.executor_id, "schema": config.schema}
        )


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_engine(url: str) -> Engine:
    """DBOS's SQLite engine as DBOS makes it (IMMEDIATE transactions), but in WAL mode with NORMAL sync.

    DBOS's own keeps SQLite's rollback journal with FULL sync: each checkpoint then cost several fsyncs (a
    workflow of one step about 17 ms more than a direct call, here) and readers blocked its writers. WAL with
    NORMAL survives a killed process whole, as our own database does; on power loss the last checkpoints may be
    lost, and the step they recorded runs again, against the run store's keys and the far side's checks.
    """
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    path = make_url(url).database

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = "IMMEDIATE"
        switch_to_wal(dbapi_connection, path)
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        dbapi_connection.execute("PRAGMA busy_timeout=30000")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return engine


def launched() -> bool:
    """True while this process's engine runs."""
    return _launched is not None


def executor_id() -> str | None:
    """This process's executor id, while its engine runs."""
    config = _launched
    return config.executor_id if config is not None else None


def serving() -> bool:
    """True while this process's engine runs and takes work from the shared queues."""
    config = _launched
    return config is not None and config.serves


def shutdown() -> None:
    """Stop the engine; workflows still running are finished by this executor's next start."""
    global _launched
    with _LOCK:
        if _launched is not None:
            DBOS.destroy(destroy_registry=False)
            _launched = None


class Slot(Generic[T]):
    """What this process's workflows of one kind run on: set by a composition root, read by the workflows.

    Workflows are module-level functions (DBOS registers them at import), and a recovered one starts on DBOS's own
    threads, so the object it needs (the runner, the approval service, the bot's Application) is put here.
    """

    def __init__(self) -> None:
        """An empty slot."""
        self._lock = threading.Lock()
        self._value: T | None = None

    def set(self, value: T) -> None:
        """Serve ``value`` from now on."""
        with self._lock:
            self._value = value

    def clear(self) -> None:
        """Serve nothing (the process is stopping)."""
        with self._lock:
            self._value = None

    def get(self) -> T | None:
        """What is served, if anything."""
        return self._value


def current_workflow() -> str | None:
    """The id of the workflow this thread is running, if any."""
    return DBOS.workflow_id if _launched is not None else None


@dataclass(frozen=True)
class ExecutorWork:
    """Workflows an executor started and has not finished: running now, or left by a process that died."""

    executor_id: str
    unfinished: int
    oldest: datetime | None


def unfinished_work() -> list[ExecutorWork]:
    """Unfinished workflows of this release, by the executor holding them, most first (none without the engine)."""
    if _launched is None:
        return []
    rows = DBOS.list_workflows(status="PENDING", app_version=_version(), load_input=False, load_output=False)
    counts = Counter(row.executor_id or "?" for row in rows)
    oldest: dict[str, int] = {}
    for row in rows:
        key = row.executor_id or "?"
        if row.created_at is not None:
            oldest[key] = min(oldest.get(key, row.created_at), row.created_at)
    return [
        ExecutorWork(
            executor,
            count,
            datetime.fromtimestamp(oldest[executor] / 1000, tz=UTC) if executor in oldest else None,
        )
        for executor, count in counts.most_common()
    ]


def hand_over(executor_id: str) -> int:
    """Queue the unfinished workflows of ``executor_id``, a process that will not come back, for any serving one.

    Only a person can know that a host is gone for good: while its process runs, its workflows are its own, and
    handing them over would run them twice. DBOS re-queues each at most once (a workflow another executor took is
    no longer the dead one's). Returns how many were queued.

    Raises:
        Conflict: ``executor_id`` is this process itself, or the engine does not run here.
    """
    config = _launched
    if config is None:
        raise Conflict("the durable engine does not run in this process; hand over from a serving one")
    if config.executor_id == executor_id:
        raise Conflict(f"{executor_id} is this process; hand over the work of an executor that is gone")
    # DBOS's own recovery, as its admin endpoint (/dbos-workflow-recovery) and its Conductor call it.
    return len(DBOS._recover_pending_workflows([executor_id]))
