"""Shared CLI plumbing: lazily built settings, engine and tool runner, and error translation at the edge."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import typer
from rich.markup import escape
from sqlalchemy.engine import Engine

from core.errors import SwitchboardError
from core.logs import configure_logging
from core.store.db import make_engine
from core.store.schema import init_db
from core.text import visible
from switchboard.settings import Settings, load_settings
from switchboard.terminal import console, err_console

__all__ = ["App", "console", "err_console", "handle_errors"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class App:
    """Resources for one CLI invocation, built on first use."""

    overrides: dict[str, Any] = field(default_factory=dict)
    # Only the console script's main() sets it: commands run in-process (tests, stand-in roots) leave logging alone.
    configures_logging: bool = False
    # -v: INFO logs and the technical call behind a chat reply; -vv: DEBUG logs.
    verbose: int = 0
    _settings: Settings | None = None
    _engine: Engine | None = None
    _resources: ExitStack = field(default_factory=ExitStack)

    @property
    def settings(self) -> Settings:
        """The configuration (env + YAML); the first load sets the log level and format when this App owns logging."""
        if self._settings is None:
            self._settings = load_settings(**self.overrides)
            if self.configures_logging:
                configure_logging(self._settings.log_level, json=self._settings.log_format == "json")
        return self._settings

    @property
    def engine(self) -> Engine:
        """The database engine, with the schema created."""
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
            init_db(self._engine)
        return self._engine

    def runner(self) -> Any:
        """A ToolRunner over the full registry, with alerts wired in; its writes run as durable workflows."""
        from core.durable import durable_config
        from flows.operations.alerts import AlertManager
        from tools.durable import engine_running
        from tools.registry import build_registry
        from tools.runtime import ToolRunner

        runner = ToolRunner(settings=self.settings, engine=self.engine, registry=build_registry())
        runner.listeners.append(AlertManager(settings=self.settings, engine=self.engine).on_run_finished)
        # An executor of its own: a second CLI command never takes over this one's work while it runs.
        role = f"cli-{os.getpid()}"
        config = durable_config(self.settings, role=role, serves=False)
        self._resources.enter_context(engine_running(runner, config))
        return runner

    def close(self) -> None:
        """Release what the command opened (the durable engine)."""
        self._resources.close()


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a SwitchboardError as one clear line and exit non-zero; never show a traceback to the user."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SwitchboardError as exc:
            err_console.print(
                f"[bold red]Error:[/] {escape(visible(exc.message))}", highlight=False, markup=True
            )
            raise typer.Exit(code=2 if exc.fault == "caller" else 1) from None
        except KeyboardInterrupt:
            err_console.print("Interrupted.")
            raise typer.Exit(code=130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception:
            logger.exception("unexpected error")
            err_console.print(
                "[bold red]Error:[/] something unexpected went wrong; the log on stderr has the details."
            )
            raise typer.Exit(code=1) from None

    return wrapper
