"""An approval request's own LangGraph thread: paused in ``interrupt()`` until a decision, then acting once.

The thread (``approval:<id>``) lives on the checkpointer, so a restart between request and decision loses nothing.
The side effect happens only after the interrupt, keyed by the approval id, so a restart, a double click, a racing
approver or a replayed checkpoint can never run the action twice. Whatever happens is told to the requester's chat
thread and to the listeners (bot, console).
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from typing import Any, Protocol

from dbos import DBOS, SetWorkflowID
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from agent.prompts import Prompts
from agent.state import ApprovalResult, ApprovalState, Verdict
from core.durable import Slot, current_workflow
from core.errors import Conflict, SwitchboardError
from core.faults import crash_point
from core.store import approval_ops as ops
from core.store.approvals import ApprovalRequest, ApprovalStatus, ThreadMessage, merged_threads
from core.store.db import write_session
from core.store.runs import RunStatus
from tools.durable import durable
from tools.runtime import ToolRunner

logger = logging.getLogger(__name__)


class ApprovalListener(Protocol):
    """Interfaces (bot, console) that tell people about requests and outcomes."""

    def on_requested(self, request: ApprovalRequest) -> None:
        """A new request waits for approvers."""

    def on_reminder(self, request: ApprovalRequest) -> None:
        """A request is about to expire."""

    def on_outcome(self, request: ApprovalRequest, text: str) -> None:
        """A request was decided (and maybe executed); ``text`` is for the requester."""


@dataclass
class Outcome:
    """What happened after a decision."""

    request: ApprovalRequest
    executed: bool = False
    run_id: int | None = None
    text: str = ""
    result: dict[str, Any] | None = None


@dataclass
class _Resumption:
    """What a resumed approval thread is handed: the row its caller just loaded, and room for the outcome.

    The row is loaded (or returned by the state change) once per decision and passed along, not read again.
    """

    request: ApprovalRequest
    outcome: Outcome | None = None


@dataclass
class ApprovalThread:
    """Starts, resumes and finishes approval threads."""

    runner: ToolRunner
    prompts: Prompts
    checkpointer: BaseCheckpointSaver[Any] | None
    listeners: list[ApprovalListener] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.graph = self._build_graph()

    def start(self, paused: ApprovalState) -> None:
        """Run a new request's thread up to its ``interrupt()``."""
        self.graph.invoke(paused, self._config(paused.approval_id))

    def _build_graph(self) -> Any:
        graph = StateGraph(ApprovalState, context_schema=_Resumption)
        graph.add_node("wait", self._wait)
        graph.add_node("act", self._act_node)
        graph.add_edge(START, "wait")
        graph.add_edge("wait", "act")
        graph.add_edge("act", END)
        return graph.compile(checkpointer=self.checkpointer)

    @staticmethod
    def _wait(state: ApprovalState) -> dict[str, Any]:
        # Nothing before interrupt() has side effects: LangGraph re-runs this node from its start on resume.
        decision = interrupt({"approval_id": state.approval_id, "tool": state.tool})
        return {"decision": decision}

    def _act_node(self, state: ApprovalState, runtime: Runtime[_Resumption]) -> dict[str, Any]:
        resumption = runtime.context
        if resumption is None or resumption.request.id != state.approval_id:
            # Resumed by hand (a replayed checkpoint): nobody loaded the row for us.
            request = ops.get_request(engine=self.runner.engine, approval_id=state.approval_id)
            outcome = self.act(request, binding=state.binding)
        else:
            outcome = resumption.outcome = self.act(resumption.request, binding=state.binding)
        return {
            "outcome": ApprovalResult(executed=outcome.executed, run_id=outcome.run_id, text=outcome.text)
        }

    def _config(self, approval_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": f"approval:{approval_id}"}}

    def resume(self, request: ApprovalRequest, verdict: Verdict) -> Outcome:
        """Resume the request's paused thread with a verdict; ``request`` is its row as just loaded or changed."""
        config = self._config(request.id)
        if self.checkpointer is not None and self.graph.get_state(config).interrupts:
            resumption = _Resumption(request)
            final = self.graph.invoke(Command(resume=verdict.model_dump()), config, context=resumption)
            if resumption.outcome is not None:
                return resumption.outcome
            # The thread acted without the row we handed it: report what it recorded, from a fresh read.
            done = ApprovalState.model_validate(final).outcome or ApprovalResult()
            fresh = ops.get_request(engine=self.runner.engine, approval_id=request.id)
            return Outcome(fresh, done.executed, done.run_id, done.text)
        # No paused thread (lost checkpoint, or resumed before): act directly; act is idempotent.
        return self.act(request, binding=request.binding)

    def act(self, request: ApprovalRequest, *, binding: str) -> Outcome:
        """Execute an approved request exactly once and tell the requester; any other state only reports.

        With the durable engine running, the execution and the telling are one workflow whose id is the approval
        id, the action's own key (its steps run in that workflow, not in a child): a process killed anywhere in
        between is finished by its restart, and the requester is told.

        Args:
            request: The request's row, as its caller just loaded or changed it (it is not read again).
            binding: What the paused thread says was approved; the row must carry the same.
        """
        if request.status != ApprovalStatus.APPROVED:
            return self._report(request, self.prompts.wording.phrase(request.tool, request.args))
        if binding != request.binding:
            error = "arguments differ from the approved ones"
            marked = ops.mark_executed(
                engine=self.runner.engine, approval_id=request.id, run_id=None, ok=False, error=error
            )
            done = self._after_mark(request, marked, ok=False, run_id=None)
            return self._report(done, self.prompts.wording.phrase(request.tool, request.args))
        if durable() and current_workflow() is None:
            _threads[str(id(self))] = self
            # The workflow's body takes the row from here instead of reading it again; a recovered one reads it.
            _handed[request.id] = request
            try:
                with SetWorkflowID(request.id):
                    told = _approval_workflow(str(id(self)), request.id)
            finally:
                _handed.pop(request.id, None)
                # The row as this process's tell step left it; absent when the workflow ran before or elsewhere.
                fresh = _told.pop(request.id, None)
            if fresh is None:
                fresh = ops.get_request(engine=self.runner.engine, approval_id=request.id)
            return Outcome(fresh, told["executed"], told["run_id"], told["text"], told["result"])
        return self._finish(request, self._execute(request))

    def started(self, approval_id: str) -> bool:
        """True when the request's durable workflow exists (running, or left by a process that died).

        Until December 2026 it was keyed ``approval:<id>``, with the action a child workflow keyed by the id; one
        left unfinished by that code is still found here, and its recorded steps replay as they were made.
        """
        return durable() and any(
            DBOS.get_workflow_status(key) is not None for key in (approval_id, f"approval:{approval_id}")
        )

    def _execute(self, request: ApprovalRequest) -> dict[str, Any]:
        """Run the approved call once per approval id; its outcome as data (it may cross a checkpoint)."""
        try:
            # The row holds the canonical arguments the approver saw: they are parsed once, here, to run.
            bound = self.runner.bind_call(request.tool, request.args, actor=request.requester)
            execution = self.runner.run(
                bound, actor=request.requester, idempotency_key=request.id, source="approval"
            )
        except Conflict as exc:
            if exc.details.get("status") == RunStatus.RUNNING.value:
                # Another worker runs this approval's action right now (no durable engine here); it tells.
                return {"busy": True}
            return {"ok": False, "error": exc.message}
        except SwitchboardError as exc:
            return {"ok": False, "error": exc.message}
        return {
            "ok": True,
            "run_id": execution.run.id if execution.run else None,
            "summary": execution.result.summary,
            "result": execution.result.model_dump(mode="json"),
        }

    def finish(
        self, approval_id: str, executed: dict[str, Any], request: ApprovalRequest | None = None
    ) -> dict[str, Any]:
        """Mark the request and tell the requester (a durable step); what was told, as data.

        Args:
            approval_id: The request.
            executed: What ``_execute`` returned.
            request: Its row as the workflow's body had it (it changes only here), else it is read.
        """
        if request is None:
            request = ops.get_request(engine=self.runner.engine, approval_id=approval_id)
        outcome = self._finish(request, executed)
        if approval_id in _handed:  # an ``act`` in this process waits for it
            _told[approval_id] = outcome.request
        return {
            "executed": outcome.executed,
            "run_id": outcome.run_id,
            "text": outcome.text,
            "result": outcome.result,
        }

    def _finish(self, request: ApprovalRequest, executed: dict[str, Any]) -> Outcome:
        if executed.get("busy"):
            return Outcome(request, False, None, "")
        crash_point(self.runner.settings, "approval.executed")
        call = self.prompts.wording.phrase(request.tool, request.args)
        if not executed["ok"]:
            error = executed["error"]
            marked = ops.mark_executed(
                engine=self.runner.engine, approval_id=request.id, run_id=None, ok=False, error=error
            )
            text = self.prompts.render(
                "approval_failed", approval_id=request.id, call=call, by=request.decided_by, error=error
            )
            failed = self._after_mark(request, marked, ok=False, run_id=None)
            return self._tell(failed, Outcome(failed, False, None, text))
        run_id = executed["run_id"]
        marked = ops.mark_executed(engine=self.runner.engine, approval_id=request.id, run_id=run_id, ok=True)
        text = self.prompts.render(
            "approval_approved",
            approval_id=request.id,
            call=call,
            by=request.decided_by,
            summary=executed["summary"],
        )
        done = self._after_mark(request, marked, ok=True, run_id=run_id)
        crash_point(self.runner.settings, "approval.marked")
        return self._tell(done, Outcome(done, True, run_id, text, executed["result"]))

    def _after_mark(
        self, request: ApprovalRequest, marked: bool, *, ok: bool, run_id: int | None
    ) -> ApprovalRequest:
        """The row after ``mark_executed``: changed here as the UPDATE changed it, or read when another won."""
        if not marked:
            return ops.get_request(engine=self.runner.engine, approval_id=request.id)
        # The row is detached from any session, so this changes only our copy, exactly as the UPDATE did.
        request.status = ApprovalStatus.EXECUTED if ok else ApprovalStatus.FAILED
        request.run_id = run_id
        return request

    def _report(self, request: ApprovalRequest, call: str) -> Outcome:
        templates = {
            ApprovalStatus.REJECTED: ("approval_rejected", {"reason": request.decision_reason}),
            ApprovalStatus.EXPIRED: ("approval_expired", {}),
        }
        name, extra = templates.get(request.status, ("", {}))
        text = (
            self.prompts.render(name, approval_id=request.id, call=call, by=request.decided_by, **extra)
            if name
            else ""
        )
        return (
            self._tell(request, Outcome(request, False, request.run_id, text))
            if text
            else Outcome(request, False, request.run_id)
        )

    def _tell(self, request: ApprovalRequest, outcome: Outcome) -> Outcome:
        # The requester's thread, and the threads of those whose identical request merged into this one.
        threads = [(request.requester, request.thread_id)] if request.thread_id else []
        threads += [t for t in merged_threads(self.runner.engine, request.id) if t not in threads]
        if threads:
            payload = {"approval_id": request.id, "run_id": outcome.run_id, "result": outcome.result}
            with write_session(self.runner.engine) as session:
                for owner, thread_id in threads:
                    session.add(
                        ThreadMessage(
                            thread_id=thread_id,
                            owner=owner,
                            role="assistant",
                            text=outcome.text,
                            payload=payload,
                        )
                    )
        for listener in self.listeners:
            try:
                listener.on_outcome(outcome.request, outcome.text)
            except Exception:
                # A failed notification never repeats or rolls back the action it reports on.
                logger.exception("approval listener failed for %s", request.id)
        return outcome


_threads: weakref.WeakValueDictionary[str, ApprovalThread] = weakref.WeakValueDictionary()
# Rows passed in memory between ``act`` and the workflow it starts in this thread, keyed by approval id: the
# row going in, and the row as the tell step left it. Neither is ever trusted across a restart.
_handed: dict[str, ApprovalRequest] = {}
_told: dict[str, ApprovalRequest] = {}
_served: Slot[ApprovalThread] = Slot()


def serve(thread: ApprovalThread) -> None:
    """Make ``thread`` the one this process's recovered approval workflows finish on (before the engine starts)."""
    _served.set(thread)


@DBOS.workflow(name="switchboard.approval")
def _approval_workflow(token: str, approval_id: str) -> dict[str, Any]:
    thread = _threads.get(token) or _served.get()
    if thread is None:
        raise RuntimeError("no approval service finishes durable approvals in this process")
    request = _handed.get(approval_id) or ops.get_request(
        engine=thread.runner.engine, approval_id=approval_id
    )
    executed = thread._execute(request)  # the action's steps, in this workflow (its id is the action's key)
    told: dict[str, Any] = DBOS.run_step({"name": "tell"}, thread.finish, approval_id, executed, request)
    return told
