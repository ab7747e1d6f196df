"""``switchboard demo`` and ``switchboard config``."""

from __future__ import annotations

import json

import typer

from switchboard.app import App, console, handle_errors
from switchboard.commands import panels
from switchboard.render import plain


def register(app: typer.Typer) -> None:
    """Add the core commands to the root app."""

    @app.command(rich_help_panel=panels.SET_UP)
    @handle_errors
    def demo(
        ctx: typer.Context,
        seed: int = typer.Option(7, help="Random seed of the generated demo data."),
        keep: bool = typer.Option(False, "--keep", help="Keep existing data instead of resetting it."),
    ) -> None:
        """Create the database and load the demo distributor (customers, products, 18 months of orders)."""
        from flows.demo.data import load_demo

        state: App = ctx.obj
        runner = state.runner()
        summary = load_demo(
            engine=state.engine,
            settings=state.settings,
            today=runner.reference_date(),
            seed=seed,
            reset=not keep,
        )
        state.engine.dispose()
        console.print(plain(f"Demo data loaded into {state.settings.database_url}"), highlight=False)
        described = summary.describe() if hasattr(summary, "describe") else str(summary)
        console.print(plain(described), highlight=False)

    @app.command("config", rich_help_panel=panels.SET_UP)
    @handle_errors
    def show_config(ctx: typer.Context) -> None:
        """Print the effective configuration (secrets hidden)."""
        state: App = ctx.obj
        data = state.settings.model_dump(mode="json", exclude={"secrets"})
        data["secrets"] = sorted(state.settings.secrets)
        data["config_version"] = state.settings.config_version()
        console.print_json(json.dumps(data))
