"""Long work leaves the chat turn: a named flow runs as a queued durable workflow; its outcome goes to the thread.

The turn records the run (pending), enqueues the workflow ``switchboard.background`` on the ``switchboard-work``
queue with the run's key as its id, and answers at once: "Started … as run 42". Whichever serving process takes
the workflow starts that very run (its key is the workflow's), executes it as a step, and posts the outcome to the
requester's thread as a step of its own, so a crash in between is finished by the recovering process and the
thread is still told. A process that serves no queues (a terminal chat) runs the flow in the turn, as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from dbos import DBOS, SetWorkflowID

from agent.prompts import Prompts
from core import tracing
from core.durable import Slot, serving
from core.store.approvals import ThreadMessage
from core.store.audit import AuditEvent
from core.store.db import write_session
from core.store.runs import Run
from tools import durable
from tools.bound import BoundCall
from tools.runtime import ToolRunner

logger = logging.getLogger(__name__)
QUEUE = "switchboard-work"
# The interfaces ("sources") that show an outcome posted after the turn: the console polls the thread, the bot's
# sweep sends it to Telegram (bot/outcomes.py).
LATER_OUTCOMES_SHOWN = frozenset({"console", "chat", "telegram"})

_served: Slot[BackgroundRuns] = Slot()


@dataclass
class BackgroundRuns:
    """Starts long calls off the chat turn and tells their thread how they ended."""

    runner: ToolRunner
    prompts: Prompts

    def available(self, source: str) -> bool:
        """True when this process serves the work queue and the interface shows outcomes that come later."""
        return source in LATER_OUTCOMES_SHOWN and serving() and _served.get() is self

    def start(
        self,
        call: BoundCall,
        *,
        owner: str,
        thread_id: str,
        source: str,
        audit_first: list[AuditEvent],
        key: str | None = None,
    ) -> Run:
        """Record the run and queue its execution; returns the pending run at once (the same one for a key seen)."""
        run, serialised = self.runner.prepare(
            call, actor=owner, source=source, audit_first=audit_first, key=key
        )
        with SetWorkflowID(serialised["key"]):
            # The trace goes with the work: a queue thread (here or in another process) continues it.
            queue = DBOS.retrieve_queue(QUEUE)
            queue.enqueue(_background, serialised, owner, thread_id, tracing.carrier())  # type: ignore[union-attr]
        return run

    def tell(self, outcome: dict[str, Any], call: dict[str, Any], owner: str, thread_id: str) -> None:
        """Post how the run ended to the requester's thread (a durable step)."""
        shown = self.prompts.wording.phrase(call["tool"], call["args"])
        if "error" in outcome:
            run = self.runner.runs.find_by_key(call["key"])
            run_id = run.id if run else None
            text = self.prompts.render(
                "run_failed", run_id=run_id, call=shown, error=outcome["error"]["message"]
            )
            payload: dict[str, Any] = {"approval_id": None, "run_id": run_id, "result": None, "ok": False}
        else:
            run_id = outcome["run_id"]
            summary = outcome["result"]["summary"]
            text = self.prompts.render("run_finished", run_id=run_id, call=shown, summary=summary)
            payload = {"approval_id": None, "run_id": run_id, "result": outcome["result"], "ok": True}
        with write_session(self.runner.engine) as session:
            session.add(
                ThreadMessage(thread_id=thread_id, owner=owner, role="assistant", text=text, payload=payload)
            )


def serve(background: BackgroundRuns) -> None:
    """Take long calls from the work queue on ``background`` (the engine must run; this process serves)."""
    _served.set(background)
    DBOS.register_queue(QUEUE)


def stop() -> None:
    """This process no longer takes long calls (they stay queued for the others)."""
    _served.clear()


@DBOS.workflow(name="switchboard.background")
def _background(
    call: dict[str, Any], owner: str, thread_id: str, trace: dict[str, str] | None = None
) -> None:
    background = _served.get()
    if background is None:
        raise RuntimeError("this process no longer serves long calls")
    with (
        tracing.attached(trace),
        tracing.span("background.run", kind="consumer", tool=call["tool"], thread_id=thread_id),
    ):
        outcome = durable.run(background.runner, call)
    DBOS.run_step({"name": "tell"}, background.tell, outcome, call, owner, thread_id)
