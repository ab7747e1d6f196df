"""``switchboard doctor``: check, before the first turn, what the configured backend needs to work."""

from __future__ import annotations

from typing import Annotated, get_args

import typer

from core.errors import BadInput
from switchboard.app import App, console, handle_errors
from switchboard.commands import panels
from switchboard.render import safe


def register(app: typer.Typer) -> None:
    """Add ``doctor`` to the root app."""

    @app.command(rich_help_panel=panels.SET_UP)
    @handle_errors
    def doctor(
        ctx: typer.Context,
        backend: Annotated[
            str | None,
            typer.Option(help="Check this backend instead of the configured one: embedded or ollama."),
        ] = None,
    ) -> None:
        """Check the backend: for Ollama, that the server answers, the model is there, supports tools and fits."""
        from agent.backends.ollama_check import CheckName, check_configured
        from tools.registry import build_registry

        state: App = ctx.obj
        settings = state.settings
        chosen = backend or settings.agent.backend
        if chosen not in ("embedded", "ollama"):
            raise BadInput(f"--backend {chosen!r}: use embedded or ollama")
        if chosen == "embedded":
            console.print(
                "Backend: embedded (offline); there is no server to check. "
                "'switchboard doctor --backend ollama' checks an Ollama server.",
                highlight=False,
                markup=False,
            )
            return
        agent = settings.agent
        console.print(
            f"Ollama at {safe(agent.ollama_host)}, model {safe(agent.ollama_model)}:", highlight=False
        )
        health = check_configured(settings, registry=build_registry())
        done = {check.name: check for check in health.checks}
        for name in get_args(CheckName):
            check = done.get(name)
            if check is None:
                console.print(f"  [dim]--    {name:<8} not checked[/]", highlight=False)
            elif check.ok:
                console.print(f"  [green]ok[/]    {name:<8} {safe(check.message())}", highlight=False)
            else:
                console.print(f"  [bold red]FAIL[/]  {name:<8} {safe(check.message())}", highlight=False)
        if not health.ok:
            raise typer.Exit(code=1)
