"""``switchboard chat``: a terminal REPL on the same graph the console and the bot use."""

from __future__ import annotations

import os
import uuid
from typing import Any

import typer
from rich.panel import Panel

from agent.state import Reply
from core.errors import NotFound
from core.store.users import get_user
from switchboard.app import App, console, handle_errors
from switchboard.render import plain, render_table, safe


def resolve_actor(state: App, name: str, role: str | None) -> tuple[str, str]:
    """Use the stored user's role when the user exists; otherwise the given role (default operator)."""
    try:
        user = get_user(engine=state.engine, name=name)
    except NotFound:
        return name, role or "operator"
    return user.name, user.role


def render_reply(reply: Reply) -> None:
    """Print a reply with its table, chart and 'what I ran'."""
    console.print(
        # Text, not a markup string: a reply quotes data ("[/bold]" in a customer's name would be markup).
        Panel(plain(reply.text), title="switchboard", title_align="left", border_style="cyan"),
        highlight=False,
    )
    if reply.table is not None and reply.table.rows:
        render_table(reply.table, max_rows=20)
    if reply.chart_path:
        console.print(f"[dim]chart: {safe(reply.chart_path)}[/]", highlight=False)
    if reply.decision is not None and reply.decision.tool:
        d = reply.decision
        args = ", ".join(f"{k}={v}" for k, v in d.args.items())
        console.print(
            plain(
                f"what I ran: {d.tool}({args}) · confidence {d.confidence:.2f} · {d.action} · {d.backend}",
                style="dim",
            ),
            highlight=False,
        )
    for note in reply.notes:
        console.print(plain(note, style="yellow"), highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``chat`` to the root app."""

    @app.command()
    @handle_errors
    def chat(
        ctx: typer.Context,
        actor: str = typer.Option(
            "operator", "--as", help="User name to chat as (their stored role applies)."
        ),
        role: str | None = typer.Option(None, help="Role when the user is not in the database."),
        thread: str | None = typer.Option(None, help="Continue a thread by id."),
        message: list[str] = typer.Option(
            None, "--message", "-m", help="Send these messages and exit (scriptable)."
        ),
    ) -> None:
        """Chat with Switchboard in the terminal (type 'help'; Ctrl-D to leave)."""
        from agent.service import open_switchboard

        state: App = ctx.obj
        name, user_role = resolve_actor(state, actor, role)
        thread_id = thread or f"cli:{name}:{uuid.uuid4().hex[:8]}"
        with open_switchboard(
            state.settings, state.engine, durable_as=f"cli-{os.getpid()}", serves=False
        ) as service:
            if message:
                for text in message:
                    console.print(f"[bold]{safe(name)}>[/] {safe(text)}", highlight=False)
                    render_reply(
                        service.chat(thread_id=thread_id, user=name, role=user_role, text=text, source="cli")
                    )
                return
            console.print(
                plain(f"Thread {thread_id} as {name} ({user_role}). Type 'help', or Ctrl-D to leave."),
                highlight=False,
            )
            seen = _last_id(service.history(thread_id=thread_id, user=name))
            while True:
                seen = _show_updates(service, thread_id=thread_id, user=name, after=seen)
                try:
                    text = console.input(f"[bold]{safe(name)}>[/] ")
                except (EOFError, KeyboardInterrupt):
                    console.print()
                    return
                seen = _show_updates(service, thread_id=thread_id, user=name, after=seen)
                if text.strip():
                    render_reply(
                        service.chat(thread_id=thread_id, user=name, role=user_role, text=text, source="cli")
                    )
                    seen = _last_id(service.history(thread_id=thread_id, user=name))


def _last_id(messages: list[Any]) -> int:
    return max((m.id or 0 for m in messages), default=0)


def _show_updates(service: Any, *, thread_id: str, user: str, after: int) -> int:
    """Print what was posted to the thread since ``after`` (an approval's or a background run's outcome)."""
    messages = [m for m in service.history(thread_id=thread_id, user=user) if (m.id or 0) > after]
    for message in messages:
        if message.role == "assistant" and "kind" not in (message.payload or {}):
            console.print(
                Panel(plain(message.text), title="update", title_align="left", border_style="yellow"),
                highlight=False,
            )
    return max(after, _last_id(messages))
