"""Tool executions as DBOS workflows: a write or external call runs once per key, and a crash does not lose it.

A call that creates a run (every tool that is not a read) executes as the workflow ``switchboard.execute``,
whose id is the call's idempotency key: an approval id, ``retry:<run>``, a schedule's slot, a confirmation, or
a fresh ``call:<uuid>`` when the caller has none. Starting the same key twice, from two processes or two hosts,
executes once; the second caller gets the first one's outcome. The tool itself runs as the workflow's step, and
calls it makes (a flow's steps) run inside that step under keys derived from its own. A call made from another
workflow's body (an approval's, a tick's) is a child workflow under its own key.

When a process dies during a step, the executor's next start re-runs the step: the run it left ``running``
belongs to the workflow re-running it (its key is the workflow's id, or derived from it), so the runner takes
it over instead of refusing it as "still running" (``owns``).

The workflow and its step run in the caller's thread, so a call's log fields and timing are the caller's; a
recovered workflow runs on DBOS's threads with the runner ``serve`` named.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from dbos import DBOS, SetWorkflowID

from core.durable import DurableConfig, Slot, current_workflow, launch, launched, shutdown

WORKFLOW = "switchboard.execute"


class Executes(Protocol):
    """What a workflow runs a call on (``tools.runtime.ToolRunner``)."""

    def execute_recorded(self, call: dict[str, Any]) -> dict[str, Any]:
        """Execute a serialised call with its run record; the outcome, or the error, as data."""


_runners: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_default: Slot[Executes] = Slot()


def serve(runner: Executes) -> None:
    """Make ``runner`` the one this process's recovered workflows run on (a composition root calls it)."""
    _default.set(runner)


@contextmanager
def engine_running(runner: Executes, config: DurableConfig) -> Iterator[None]:
    """Run the durable engine while the block runs, with ``runner`` serving recovered workflows."""
    serve(runner)
    launch(config)
    try:
        yield
    finally:
        shutdown()


def durable() -> bool:
    """True when executions go through the engine (a composition root launched it in this process)."""
    return launched()


def owns(key: str | None) -> bool:
    """True when the workflow running in this thread owns the run keyed ``key`` (it is re-running its step)."""
    workflow = current_workflow()
    if workflow is None or key is None:
        return False
    return key == workflow or key.startswith(f"{workflow}:")


def new_key() -> str:
    """A key for a call its caller gave none: the workflow (and its run) can still be found after a crash."""
    return f"call:{uuid.uuid4().hex}"


def execute(runner: Executes, call: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Execute a serialised call once per ``call["key"]``: as a workflow, or as a step of the running one.

    Returns:
        The outcome, ``{"run_id", "result", "replayed"}`` or ``{"error": {...}}`` (``core.errors.rebuild`` turns
        it back), and whether the key had been started before this call (its outcome is the earlier one's).
    """
    if current_workflow() is not None and DBOS.step_status is not None:
        # A call made inside a step (a flow's steps, a retry asked by a tool) is part of that step: it runs here,
        # under a key derived from the workflow's, so a re-run of the step takes its run over.
        return runner.execute_recorded(call), False
    # Otherwise a workflow of its own; started from a workflow's body (the scheduler's tick), a child of it.
    token = f"{id(runner)}"
    _runners[token] = runner
    repeated = DBOS.get_workflow_status(call["key"]) is not None
    with SetWorkflowID(call["key"]):
        outcome: dict[str, Any] = _execute({**call, "runner": token})
    return outcome, repeated


@DBOS.workflow(name=WORKFLOW)
def _execute(call: dict[str, Any]) -> dict[str, Any]:
    runner = _runners.get(call.get("runner", "")) or _default.get()
    if runner is None:
        raise RuntimeError("no tool runner serves durable workflows in this process")
    outcome: dict[str, Any] = DBOS.run_step({"name": call["tool"]}, runner.execute_recorded, call)
    return outcome
