"""``switchboard serve``: the web console and HTTP API under uvicorn.

On an empty user table the first start creates an ``admin`` user and prints its one-time password to the
terminal (only there: it is neither logged nor audited). uvicorn's own records go to the same JSON lines on stderr
as everything else (``core.logs``); the console writes one access line per request itself, with its request id
and actor, so uvicorn's access log is off.
"""

from __future__ import annotations

from typing import Any

import typer

from core.logs import logging_config
from switchboard.app import App, console, handle_errors
from switchboard.commands import panels
from switchboard.render import plain


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root app."""

    @app.command(rich_help_panel=panels.SET_UP)
    @handle_errors
    def serve(
        ctx: typer.Context,
        host: str | None = typer.Option(
            None, help="Address to listen on (default: console_host, 127.0.0.1)."
        ),
        port: int | None = typer.Option(None, min=1, max=65535, help="Port (default: console_port, 8000)."),
        workers: int | None = typer.Option(
            None,
            min=1,
            max=32,
            help="Worker processes (default: console_workers, 1); one per core serves most.",
        ),
    ) -> None:
        """Start the web console and HTTP API (chat, approvals, runs, audit, metrics)."""
        import uvicorn

        from console.app import create_app
        from console.auth import bootstrap_admin
        from console.serving import check_free

        state: App = ctx.obj
        workers = workers or state.settings.console_workers
        settings = state.settings.model_copy(update={"console_workers": workers})
        # In this process uvicorn's loggers propagate to the root handler the CLI configured (log_config None).
        logs: dict[str, Any] = {"log_config": None, "access_log": False, "proxy_headers": False}
        host = host or settings.console_host
        port = port or settings.console_port
        check_free(host, port)  # before anything is created: a busy port must not cost the one-time password
        password = bootstrap_admin(state.engine)
        state.engine.dispose()  # the app opens its own engine in its lifespan
        if password is not None:
            console.print("Created the first admin user [bold]admin[/]. One-time password (shown only now):")
            console.print(f"    {password}", highlight=False, markup=False)
            console.print(
                "Log in with it as admin: the console then asks you to choose your own password.",
                highlight=False,
            )
        processes = f", {workers} worker processes" if workers > 1 else ""
        console.print(
            plain(f"Switchboard console on http://{host}:{port}{processes}  (Ctrl+C stops it)"),
            highlight=False,
        )
        if workers > 1:
            from console.serving import serve_workers

            # A worker is a fresh process: uvicorn applies this config there before it logs anything.
            worker_logs = logging_config(settings.log_level, json=settings.log_format == "json")
            serve_workers(
                settings,
                app_factory="switchboard.worker:worker_app",
                host=host,
                port=port,
                workers=workers,
                **(logs | {"log_config": worker_logs}),
            )
            return
        if settings.telegram_token is None or settings.telegram_webhook_secret is None:
            uvicorn.run(create_app(settings), host=host, port=port, **logs)
            return
        # With a bot token and webhook secret, the Telegram webhook runs in the same process, on the same service.
        from agent.service import open_switchboard
        from bot import intake
        from bot.webhook import telegram_routers
        from core.store.db import make_engine
        from core.store.schema import init_db

        engine = make_engine(settings.database_url)
        init_db(engine)
        with open_switchboard(
            settings, engine, durable_as="console-0", extra_queues=(intake.QUEUE,)
        ) as service:
            service.approvals.recover()
            app = create_app(
                settings,
                switchboard=service,
                extra_routers=telegram_routers(settings, switchboard=service),
            )
            console.print("Telegram webhook mounted at /telegram/webhook", highlight=False)
            uvicorn.run(app, host=host, port=port, **logs)
        engine.dispose()
