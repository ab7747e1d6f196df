"""Tool executions as DBOS workflows: a write or external call runs once per key, and a crash does not lose it.

A call that creates a run (every tool that is not a read) executes as the workflow ``switchboard.execute``,
whose id is the call's idempotency key: an approval id, ``retry:<run>``, a schedule's slot, a confirmation, or
a fresh ``call:<uuid>`` when the caller has none. Starting the same key twice, from two processes or two hosts,
executes once; the second caller gets the first one's outcome. The tool itself runs as the workflow's step, and
calls it makes (a flow's steps) run inside that step under keys derived from its own. A workflow keyed by the
call's own key (an approval's, whose id is the approval id) runs it in its body, as ``switchboard.execute``
would: one workflow per execution, not a workflow starting another. A call made from any other workflow's body
(a tick's) is a child workflow under its own key.

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

from dbos import DBOS, SetWorkflowID, StepOptions

from core.durable import DurableConfig, Slot, current_workflow, launch, launched, shutdown

WORKFLOW = "switchboard.execute"


class Executes(Protocol):
    """What a workflow runs a call on (``tools.runtime.ToolRunner``); outcomes and errors come back as data."""

    def composite(self, tool: str) -> bool:
        """True when the tool is made of calls of other tools (a named flow)."""

    def execute_recorded(self, call: dict[str, Any]) -> dict[str, Any]:
        """Execute a serialised call with its run record."""

    def open_recorded(self, call: dict[str, Any]) -> dict[str, Any]:
        """Open a composite call's run: ``{"run_id"}``, or ``{"outcome"}`` when its key ran before."""

    def run_body(self, call: dict[str, Any], run_id: int) -> dict[str, Any]:
        """Run a composite tool under its open run: ``{"result"}`` or ``{"error"}``."""

    def close_recorded(self, call: dict[str, Any], run_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Record a composite call's body on its run; the call's outcome."""

    def next_attempt(self, call: dict[str, Any]) -> dict[str, Any]:
        """The attempt to make of a step with a retry policy."""


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
    if current_workflow() is not None:
        if DBOS.step_status is not None:
            # A call made inside a step (a retry asked by a tool) is part of that step: it runs here, under a key
            # derived from the workflow's, so a re-run of the step takes its run over.
            return runner.execute_recorded(call), False
        if call["key"] == current_workflow():
            # The running workflow is this call's own (an approval's): it runs here, as _execute's body would.
            return run(runner, call), False
        if owns(call["key"]):
            # A composite tool's call, made from its workflow's body (a flow's step): a step of that workflow.
            return _step(runner, call), False
    # Otherwise a workflow of its own; started from a workflow's body (the scheduler's tick), a child of it.
    token = f"{id(runner)}"
    _runners[token] = runner
    repeated = DBOS.get_workflow_status(call["key"]) is not None
    with SetWorkflowID(call["key"]):
        outcome: dict[str, Any] = _execute({**call, "runner": token})
    return outcome, repeated


def run(runner: Executes, call: dict[str, Any]) -> dict[str, Any]:
    """Execute a call in the running workflow's body: a plain tool as one step, a composite one step by step.

    A composite tool (a named flow) opens its run in one step, runs its body in the workflow's (each call it
    makes is a step, ``execute``), and records its outcome in a last step. After a crash the workflow replays
    its body: the steps that finished return what they returned, and the rest run.
    """
    if not runner.composite(call["tool"]):
        outcome: dict[str, Any] = DBOS.run_step({"name": call["tool"]}, runner.execute_recorded, call)
        return outcome
    opened: dict[str, Any] = DBOS.run_step({"name": f"{call['tool']}.open"}, runner.open_recorded, call)
    if "outcome" in opened:
        replayed: dict[str, Any] = opened["outcome"]
        return replayed
    body = runner.run_body(call, opened["run_id"])
    closed: dict[str, Any] = DBOS.run_step(
        {"name": f"{call['tool']}.close"}, runner.close_recorded, call, opened["run_id"], body
    )
    return closed


class StepFailed(Exception):
    """An attempt of a step failed for a reason that may pass; the engine makes the next one after its delay."""


# Failures that a later attempt may not meet: the server's side or downstream, except its own configuration.
_TRANSIENT = ("Busy", "DeliveryFailed", "AuditUnavailable", "InternalToolError")


def _step(runner: Executes, call: dict[str, Any]) -> dict[str, Any]:
    """Run a composite tool's call as a step of its workflow, retried by the call's policy."""
    policy = call.get("retry") or {}
    attempts = int(policy.get("attempts", 1))
    if attempts == 1:
        once: dict[str, Any] = DBOS.run_step({"name": call["tool"]}, runner.execute_recorded, call)
        return once
    options: StepOptions = {
        "name": call["tool"],
        "retries_allowed": True,
        "max_attempts": attempts,
        "interval_seconds": float(policy["delay_s"]),
        "backoff_rate": float(policy["backoff"]),
    }
    outcome: dict[str, Any] = DBOS.run_step(options, _attempt, runner, call)
    return outcome


def _attempt(runner: Executes, call: dict[str, Any]) -> dict[str, Any]:
    attempt = runner.next_attempt(call)
    outcome = runner.execute_recorded(attempt)
    error = outcome.get("error")
    if error is None or error.get("type") not in _TRANSIENT:
        return outcome
    if attempt["attempt"] < attempt["max_attempts"]:
        raise StepFailed(f"{call['tool']} attempt {attempt['attempt']} failed: {error.get('message')}")
    # The last attempt failed too: its run is dead-lettered, and the caller is told so.
    details = {**(error.get("details") or {}), "attempts": attempt["attempt"], "dead_lettered": True}
    return {"error": {**error, "details": details}}


@DBOS.workflow(name=WORKFLOW)
def _execute(call: dict[str, Any]) -> dict[str, Any]:
    runner = _runners.get(call.get("runner", "")) or _default.get()
    if runner is None:
        raise RuntimeError("no tool runner serves durable workflows in this process")
    return run(runner, call)
