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
from switchboard.commands import panels
from switchboard.render import plain, render_table, safe


def resolve_actor(state: App, name: str, role: str | None) -> tuple[str, str]:
    """Use the stored user's role when the user exists; otherwise the given role (default operator)."""
    try:
        user = get_user(engine=state.engine, name=name)
    except NotFound:
        return name, role or "operator"
    return user.name, user.role


# What a reply's kind says about its call: it ran, it would run once confirmed, or neither can be said.
RAN_KINDS = ("answer", "started")
WOULD_RUN_KINDS = ("confirm", "question", "waiting")


def call_line(reply: Reply, *, verbose: bool) -> str | None:
    """The technical call behind a reply, labelled by whether it ran; None when there is nothing to show.

    Nothing is labelled "ran" before it ran: a confirmation, a question back or a wait for approval shows the
    call only with ``--verbose``, as "would run"; an error or a notice shows it only with ``--verbose`` as well.
    """
    decision = reply.decision
    if decision is None or not decision.tool:
        return None
    if reply.kind in RAN_KINDS:
        label = "what I ran"
    elif not verbose:
        return None
    else:
        label = "would run" if reply.kind in WOULD_RUN_KINDS else "call"
    args = ", ".join(f"{k}={v}" for k, v in decision.args.items())
    details = f"confidence {decision.confidence:.2f} · {decision.action} · {decision.backend}"
    return f"{label}: {decision.tool}({args}) · {details}"


def render_reply(reply: Reply, *, verbose: bool = False) -> None:
    """Print a reply with its table, chart and, when it ran (or with ``--verbose``), the call behind it."""
    console.print(
        # Text, not a markup string: a reply quotes data ("[/bold]" in a customer's name would be markup).
        Panel(plain(reply.text), title="switchboard", title_align="left", border_style="cyan", expand=False),
        highlight=False,
    )
    if reply.table is not None and reply.table.rows:
        render_table(reply.table, max_rows=20)
    if reply.chart_path:
        console.print(f"[dim]chart: {safe(reply.chart_path)}[/]", highlight=False)
    line = call_line(reply, verbose=verbose)
    if line is not None:
        console.print(plain(line, style="dim"), highlight=False)
    for note in reply.notes:
        console.print(plain(note, style="yellow"), highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``chat`` to the root app."""

    @app.command(rich_help_panel=panels.RUN)
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
        verbose = state.verbose > 0
        name, user_role = resolve_actor(state, actor, role)
        thread_id = thread or f"cli:{name}:{uuid.uuid4().hex[:8]}"
        with open_switchboard(
            state.settings, state.engine, durable_as=f"cli-{os.getpid()}", serves=False
        ) as service:
            if message:
                for text in message:
                    console.print(f"[bold]{safe(name)}>[/] {safe(text)}", highlight=False)
                    render_reply(
                        service.chat(thread_id=thread_id, user=name, role=user_role, text=text, source="cli"),
                        verbose=verbose,
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
                        service.chat(thread_id=thread_id, user=name, role=user_role, text=text, source="cli"),
                        verbose=verbose,
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
                Panel(
                    plain(message.text),
                    title="update",
                    title_align="left",
                    border_style="yellow",
                    expand=False,
                ),
                highlight=False,
            )
    return max(after, _last_id(messages))
