"""References to earlier results in the thread: "that file", "the export", "the one that failed", "same again".

The backend reads words; what a word points at lives in the runs the thread started. A decision that lacks a file
or a run id, in a message that points back, gets the thread's latest matching result, and a note that says which
one was taken so the person can see it was not a guess. "Same again" repeats the thread's last call as it was made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.backends.base import Decision, Turn
from agent.backends.embedded.dialogue import SAME_AGAIN
from agent.prompts import Prompts
from core.errors import NotFound
from core.store.runs import FAILED_STATUSES, Run, RunStore

_FILE = re.compile(
    r"\b(that|this|the|same|last|latest|new|just made)\s+(file|export|extract|csv|xml|json|dat|report file|one)\b|"
    r"\b(it|that|this)\b",
    re.I,
)
_FAILED = re.compile(
    r"\b(the|that)\s+(one|run|flow|job)\s+(that|which)\s+(failed|broke|errored)\b|\bthe failed (one|run)\b",
    re.I,
)
FILE_ARGUMENT = "file"
RUN_ARGUMENT = "run_id"


def resolve_results(
    decision: Decision, *, text: str, turns: Sequence[Turn], runs: RunStore, prompts: Prompts
) -> Decision:
    """``decision`` with what its words point back at filled in from the thread's runs (noted), else unchanged."""
    if SAME_AGAIN.search(text):
        last = next((t for t in reversed(turns) if t.role == "assistant" and t.tool), None)
        if last is not None and last.tool is not None:
            what = prompts.wording.phrase(last.tool, last.args)
            note = prompts.render("used_reference", what=f"the last request ({what})")
            return decision.model_copy(
                update={
                    "tool": last.tool,
                    "args": dict(last.args),
                    "missing": [],  # whatever the router guessed lacked, the repeated call had it all
                    "confidence": 0.9,
                    "notes": [*decision.notes, note],
                }
            )
        return decision
    if decision.tool is None:
        return decision
    if FILE_ARGUMENT in decision.missing and _FILE.search(text):
        found = _latest_file(turns, runs)
        if found is not None:
            name, run_id = found
            note = prompts.render("used_reference", what=f"{name}, the file made by run {run_id}")
            return _filled(decision, FILE_ARGUMENT, name, note)
    if RUN_ARGUMENT in decision.missing and _FAILED.search(text):
        failed = _latest_failed(turns, runs)
        if failed is not None and failed[0].id is not None:
            run, in_thread = failed
            what = f"run {run.id} ({run.name}), which failed"
            note = prompts.render("used_reference" if in_thread else "used_latest", what=what)
            return _filled(decision, RUN_ARGUMENT, run.id, note)
    return decision


def _filled(decision: Decision, name: str, value: object, note: str) -> Decision:
    missing = [m for m in decision.missing if m != name]
    # The confidence was capped for the missing argument; filled from the thread, the tool's own probability holds.
    confidence = decision.confidence if missing else max(decision.confidence, decision.tool_probability)
    update = {
        "args": {**decision.args, name: value},
        "missing": missing,
        "confidence": confidence,
        "notes": [*decision.notes, note],
    }
    return decision.model_copy(update=update)


def _thread_runs(turns: Sequence[Turn], runs: RunStore) -> list[Run]:
    """The runs this thread started, newest first."""
    found = []
    for turn in reversed(turns):
        if turn.role == "assistant" and turn.run_id is not None:
            try:
                found.append(runs.get(turn.run_id))
            except NotFound:
                continue
    return found


def _latest_file(turns: Sequence[Turn], runs: RunStore) -> tuple[str, int] | None:
    """The newest file a run of this thread made: its artifact name and the run."""
    for run in _thread_runs(turns, runs):
        data = (run.output.get("result") or {}).get("data") or {}
        if isinstance(data.get("name"), str) and run.id is not None:
            return data["name"], run.id
    return None


def _latest_failed(turns: Sequence[Turn], runs: RunStore) -> tuple[Run, bool] | None:
    """The newest failed run this thread started, else the newest failed run anywhere; and which of the two."""
    for run in _thread_runs(turns, runs):
        if run.status in FAILED_STATUSES:
            return run, True
    recent = runs.list(statuses=FAILED_STATUSES, limit=1)
    return (recent[0], False) if recent else None
