"""``switchboard router train|check``: rebuild the router that ships with the package."""

from __future__ import annotations

import typer

from switchboard.app import console, err_console, handle_errors

app = typer.Typer(help="Train and check the embedded intent router.", no_args_is_help=True)


@app.command()
@handle_errors
def train() -> None:
    """Retrain from prompts/examples and write the shipped copy (commit it with the examples)."""
    from agent.backends.factory import SHIPPED_DIR, train_router

    _, count, seconds = train_router(SHIPPED_DIR)
    console.print(f"Trained on {count} examples in {seconds:.1f} s; wrote {SHIPPED_DIR}", highlight=False)


@app.command()
@handle_errors
def check() -> None:
    """Exit 1 when the shipped router is older than the examples."""
    from agent.backends.factory import examples_fingerprint, shipped_fingerprint

    current, shipped = examples_fingerprint(), shipped_fingerprint()
    if current == shipped:
        console.print(f"OK: the shipped router matches the examples ({current}).")
        return
    err_console.print(f"Stale: examples are {current}, shipped router is {shipped}; run 'switchboard router train'.")
    raise typer.Exit(code=1)
