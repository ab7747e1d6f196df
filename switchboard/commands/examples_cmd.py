"""``switchboard examples list|show|review|accept|fix|discard``: the admin's review of candidate training examples.

A person's corrections of the agent (a "no", a "Did you mean" pick, an approver's edit or rejection) wait here as
candidates. Accepting or fixing one writes the next version of the reviewed training file; discarding writes
nothing. ``--as`` names the stored admin who reviews. ``review`` asks about one candidate at a time and reads its
answers from stdin, so it also works in a pipe (``switchboard examples review --as root < answers.txt``).
"""

from __future__ import annotations

import json
from typing import Any

import typer

from agent.modelops.review import Meant, Review, Reviewed, Reviewer, training_dir
from core.errors import BadInput, SwitchboardError
from core.store.training_candidates import CandidateStatus, TrainingCandidatePublic
from core.store.users import get_user
from switchboard.app import App, console, err_console, handle_errors
from switchboard.render import plain, print_json, render_table
from tools.base import Table

app = typer.Typer(
    help="Review corrections of the assistant before they become training data (admins).",
    epilog="Example: switchboard examples review --as root",
    no_args_is_help=True,
)
ACTOR = typer.Option(..., "--as", help="The admin who reviews.")
ANSWERS = {"a": "accept", "f": "fix", "d": "discard", "s": "skip", "q": "quit"}


def _review(state: App) -> Review:
    from tools.registry import build_registry

    return Review(
        engine=state.engine, registry=build_registry(), directory=training_dir(state.settings.var_dir)
    )


def _reviewer(state: App, name: str) -> Reviewer:
    user = get_user(engine=state.engine, name=name)
    reviewer = Reviewer(user.name, user.role)
    reviewer.check()
    return reviewer


def _args(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadInput(f"--args is not JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(value, dict):
        raise BadInput('--args must be a JSON object, e.g. \'{"flow": "customer_sync"}\'')
    return value


def _call(tool: str | None, args: dict[str, Any] | None) -> str:
    if tool is None:
        return "—"
    return f"{tool}({json.dumps(args or {}, ensure_ascii=False)})" if args is not None else f"{tool}(?)"


def _said(outcome: Reviewed) -> str:
    candidate = outcome.candidate
    if outcome.version is None:
        return f"Discarded {candidate.id}."
    what = (
        "out of scope" if candidate.meant_tool is None else _call(candidate.meant_tool, candidate.meant_args)
    )
    return (
        f"{candidate.status.capitalize()} {candidate.id} as {what}; "
        f"reviewed examples version {outcome.version.version} has {len(outcome.version.examples)}."
    )


@app.command("list")
@handle_errors
def list_cmd(
    ctx: typer.Context,
    status: str = typer.Option("pending", help="pending, accepted, fixed, discarded or all."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
) -> None:
    """List candidate examples (pending by default)."""
    state: App = ctx.obj
    if status != "all" and status not in set(CandidateStatus):
        raise BadInput(f"unknown status {status!r}: use pending, accepted, fixed, discarded or all")
    found = _review(state).candidates(status=None if status == "all" else CandidateStatus(status))
    if as_json:
        print_json([candidate.model_dump(mode="json") for candidate in found])
        return
    rows: list[list[Any]] = [
        [c.id, c.kind, c.text, _call(c.chose_tool, c.chose_args), _call(c.meant_tool, c.meant_args), c.user]
        for c in found
    ]
    render_table(
        Table(
            title=f"Examples ({status})", columns=["id", "kind", "text", "chose", "meant", "by"], rows=rows
        ),
        empty=f"No {status} examples.",
    )


@app.command()
@handle_errors
def show(ctx: typer.Context, candidate_id: str) -> None:
    """Show one candidate example."""
    from core.store.training_candidates import get_candidate

    state: App = ctx.obj
    row = get_candidate(engine=state.engine, candidate_id=candidate_id)
    print_json(TrainingCandidatePublic.model_validate(row).model_dump(mode="json"))


@app.command()
@handle_errors
def accept(
    ctx: typer.Context,
    candidate_id: str,
    actor: str = ACTOR,
    tool: str | None = typer.Option(None, help="The tool meant, when not the one the person meant."),
    args: str | None = typer.Option(None, help="The arguments meant, as a JSON object."),
    out_of_scope: bool = typer.Option(False, "--out-of-scope", help="No tool fits the message."),
) -> None:
    """Accept a candidate as the person meant it; writes the next reviewed version."""
    state: App = ctx.obj
    meant = Meant(tool=tool, args=_args(args), out_of_scope=out_of_scope)
    outcome = _review(state).accept(candidate_id=candidate_id, reviewer=_reviewer(state, actor), meant=meant)
    console.print(plain(_said(outcome)), highlight=False)


@app.command()
@handle_errors
def fix(
    ctx: typer.Context,
    candidate_id: str,
    actor: str = ACTOR,
    tool: str | None = typer.Option(None, help="The tool meant."),
    args: str | None = typer.Option(None, help="The arguments meant, as a JSON object."),
    text: str | None = typer.Option(None, help="Better words for the message."),
    out_of_scope: bool = typer.Option(False, "--out-of-scope", help="No tool fits the message."),
) -> None:
    """Change a candidate's tool, arguments or words and keep it; writes the next reviewed version."""
    state: App = ctx.obj
    meant = Meant(tool=tool, args=_args(args), text=text, out_of_scope=out_of_scope)
    outcome = _review(state).fix(candidate_id=candidate_id, reviewer=_reviewer(state, actor), meant=meant)
    console.print(plain(_said(outcome)), highlight=False)


@app.command()
@handle_errors
def discard(
    ctx: typer.Context,
    candidate_id: str,
    actor: str = ACTOR,
    note: str | None = typer.Option(None, help="Why, for the next reviewer."),
) -> None:
    """Discard a candidate: it never reaches training."""
    state: App = ctx.obj
    outcome = _review(state).discard(candidate_id=candidate_id, reviewer=_reviewer(state, actor), note=note)
    console.print(plain(_said(outcome)), highlight=False)


@app.command()
@handle_errors
def review(ctx: typer.Context, actor: str = ACTOR) -> None:
    """Go through the pending candidates one at a time: accept, fix, discard, skip or quit."""
    state: App = ctx.obj
    reviewer = _reviewer(state, actor)
    service = _review(state)
    waiting = service.pending()
    if not waiting:
        console.print("No pending examples.")
        return
    for number, candidate in enumerate(waiting, start=1):
        _describe(candidate, number, len(waiting))
        answer = _ask_action()
        if answer == "quit":
            break
        if answer == "skip":
            continue
        try:
            outcome = _decide(service, reviewer, candidate, answer)
        except SwitchboardError as exc:
            err_console.print(plain(f"Not done: {exc.message}"), highlight=False)
            continue
        console.print(plain(_said(outcome)), highlight=False)


def _describe(candidate: TrainingCandidatePublic, number: int, total: int) -> None:
    lines = [
        f"[{number}/{total}] {candidate.id} · {candidate.kind} · {candidate.user} on {candidate.channel}",
        f"  said:   {candidate.text or '—'}",
    ]
    if candidate.context:
        lines.append(f"  before: {' / '.join(candidate.context)}")
    lines.append(f"  chose:  {_call(candidate.chose_tool, candidate.chose_args)}")
    lines.append(f"  meant:  {_call(candidate.meant_tool, candidate.meant_args)}")
    if candidate.reason:
        lines.append(f"  reason: {candidate.reason}")
    for line in lines:
        console.print(plain(line), highlight=False)


def _ask_action() -> str:
    while True:
        raw = typer.prompt("accept, fix, discard, skip or quit? [a/f/d/s/q]", default="s", show_default=False)
        answer = raw.strip().lower()[:1]
        if answer in ANSWERS:
            return ANSWERS[answer]
        err_console.print(f"Answer a, f, d, s or q (not {raw!r}).", highlight=False, markup=False)


def _decide(service: Review, reviewer: Reviewer, candidate: TrainingCandidatePublic, answer: str) -> Reviewed:
    if answer == "accept":
        return service.accept(candidate_id=candidate.id, reviewer=reviewer)
    if answer == "discard":
        note = typer.prompt("note (optional)", default="", show_default=False)
        return service.discard(candidate_id=candidate.id, reviewer=reviewer, note=note or None)
    tool = typer.prompt("tool (empty: out of scope)", default=candidate.meant_tool or "", show_default=True)
    if not tool.strip():
        return service.fix(candidate_id=candidate.id, reviewer=reviewer, meant=Meant(out_of_scope=True))
    args = typer.prompt("arguments (JSON)", default=json.dumps(candidate.meant_args or {}), show_default=True)
    text = typer.prompt("words", default=candidate.text, show_default=True)
    meant = Meant(tool=tool.strip(), args=_args(args), text=text)
    return service.fix(candidate_id=candidate.id, reviewer=reviewer, meant=meant)
