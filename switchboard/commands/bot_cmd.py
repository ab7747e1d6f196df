"""``switchboard bot``: run the Telegram bot by long polling, or standalone behind a webhook."""

from __future__ import annotations

import asyncio

import typer

from switchboard.app import App, console, handle_errors
from switchboard.commands import panels
from switchboard.render import plain


def register(app: typer.Typer) -> None:
    """Add ``bot`` to the root app."""

    @app.command(rich_help_panel=panels.SET_UP)
    @handle_errors
    def bot(
        ctx: typer.Context,
        webhook: str | None = typer.Option(
            None,
            "--webhook",
            metavar="URL",
            help="Public HTTPS URL Telegram should post to (ending in /telegram/webhook). Registers it with "
            "setWebhook and serves the webhook here instead of polling.",
        ),
        host: str = typer.Option("127.0.0.1", help="Webhook mode: address to listen on."),
        port: int = typer.Option(8443, help="Webhook mode: port to listen on."),
        register_only: bool = typer.Option(
            False,
            "--register-only",
            help="With --webhook: only register the URL (for 'switchboard serve') and exit.",
        ),
        drop_pending: bool = typer.Option(
            False, "--drop-pending", help="Skip updates sent while the bot was down."
        ),
        sweep_interval: float = typer.Option(
            30.0, help="Seconds between approval expiry/reminder sweeps (0: off)."
        ),
    ) -> None:
        """Run the Telegram bot (long polling by default; Ctrl-C to stop)."""
        from agent.service import open_switchboard
        from bot.access import ALLOWED_UPDATES
        from bot.app import build_application
        from bot.webhook import register_webhook, serve_webhook, webhook_secret

        state: App = ctx.obj
        settings = state.settings
        if webhook:
            webhook_secret(settings)  # fail before connecting anywhere
            if register_only:
                asyncio.run(register_webhook(settings, url=webhook))
                console.print(plain(f"Telegram will post updates to {webhook}."))
                return
        from bot import intake

        with open_switchboard(
            settings, state.engine, durable_as="bot", extra_queues=(intake.QUEUE,)
        ) as service:
            application = build_application(settings, switchboard=service, sweep_interval=sweep_interval)
            if webhook:
                console.print(
                    plain(f"Serving the Telegram webhook on {host}:{port}; Telegram posts to {webhook}.")
                )
                asyncio.run(serve_webhook(application, settings, url=webhook, host=host, port=port))
                return
            console.print(
                plain(f"Polling {settings.telegram_api_url.rstrip('/')}… for updates; Ctrl-C to stop.")
            )
            application.run_polling(
                allowed_updates=ALLOWED_UPDATES, drop_pending_updates=drop_pending, close_loop=False
            )
