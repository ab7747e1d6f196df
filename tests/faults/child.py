"""A Switchboard process for the fault suite: it approves a request (and may die at a fault point), or restarts.

``python -m tests.faults.child approve <approval id>``: start as the console would (durable, recovering), then
approve as ann. With ``SWITCHBOARD_FAULT_POINT`` set, the process SIGKILLs itself at that point.

``python -m tests.faults.child restart <approval id>``: start again as the same executor, let it recover, and
print the request's status once it is decided, as one JSON line.

``python -m tests.faults.child takeover <approval id>``: start as another executor (another host), hand over the
dead executor's work (as an admin does in the console), and print the request's status like ``restart``.

``python -m tests.faults.child ask <thread>``: ask in the console for the customer sync and say yes, so it starts in
the background; print the reply's run id, then wait for the run (a fault point kills the process first).
``python -m tests.faults.child settle <thread>``: start again as the same executor and wait until the recovered
work is done.

``python -m tests.faults.child decline <thread>``: ask for a schedule, which asks to confirm, and say no (the fault
point ``correction.captured`` kills the process inside that turn). ``python -m tests.faults.child decline-again
<thread>``: start again and say no once more; print the reply and the candidate and correction counts.
"""

from __future__ import annotations

import json
import sys
import time

from dbos import DBOS

from agent.service import open_switchboard
from core import durable
from core.store import approval_ops as ops
from core.store.approvals import ApprovalStatus
from core.store.audit import AuditLog
from core.store.db import make_engine
from core.store.training_candidates import list_candidates
from switchboard.settings import load_settings
from tests.utils.fake_backend import ScriptedBackend

ROLE = "console-0"  # the same executor before and after the crash, as a restarted console worker is
SETTLE_S = 60.0
# Not the ticks, which come every few seconds.
WORKFLOWS = ["switchboard.approval", "switchboard.execute", "switchboard.background"]


def _unfinished() -> bool:
    return bool(DBOS.list_workflows(status=["PENDING", "ENQUEUED"], name=WORKFLOWS))


def background(action: str, thread: str) -> None:
    """Start a flow in the background from the console (and die at the fault point), or recover it."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    backend = ScriptedBackend()
    backend.enqueue("run_flow", {"flow": "customer_sync"}, confidence=0.95)
    with open_switchboard(settings, engine, backend=backend, durable_as=ROLE) as service:
        if action == "ask":
            service.chat(
                thread_id=thread, user="olive", role="operator", text="sync the customers", source="console"
            )
            reply = service.chat(
                thread_id=thread, user="olive", role="operator", text="yes", source="console"
            )
            sys.stdout.write(json.dumps({"kind": reply.kind, "run_id": reply.run_id}) + "\n")
            sys.stdout.flush()
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline and _unfinished():
            time.sleep(0.2)


def decline(action: str, thread: str) -> None:
    """Say no to a confirmation (and die once its correction is captured), or say it again after the restart."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    backend = ScriptedBackend()
    backend.enqueue("schedule_flow", {"flow": "customer_sync", "cron": "0 6 * * *"}, confidence=0.93)
    with open_switchboard(settings, engine, backend=backend) as service:
        if action == "decline":
            asked = service.chat(
                thread_id=thread, user="olive", role="operator", text="sync customers daily at 6"
            )
            assert asked.kind == "confirm", asked
        reply = service.chat(thread_id=thread, user="olive", role="operator", text="no")
        candidates = list_candidates(engine=engine, status=None)
        corrections = [r for r in AuditLog(engine).iter_records() if r.event == "model.correction"]
        said = {"reply": reply.text, "candidates": len(candidates), "corrections": len(corrections)}
        sys.stdout.write(json.dumps(said) + "\n")


def main(action: str, approval_id: str) -> None:
    """Run one side of the crash scenario."""
    if action in ("ask", "settle"):
        background(action, approval_id)
        return
    if action in ("decline", "decline-again"):
        decline(action, approval_id)
        return
    settings = load_settings()
    engine = make_engine(settings.database_url)
    role = "console-1" if action == "takeover" else ROLE
    with open_switchboard(settings, engine, backend=ScriptedBackend(), durable_as=role) as service:
        service.approvals.recover()  # as the console's lifespan does at every start
        if action == "takeover":  # later, an admin hands over the gone executor's work
            durable.hand_over(f"{settings.executor_id}-{ROLE}")
        if action == "approve":
            service.approvals.approve(approval_id, approver="ann", role="approver")
            return
        deadline = time.monotonic() + SETTLE_S
        request = ops.get_request(engine=engine, approval_id=approval_id)
        # Until the request is decided and the engine has finished what the killed process left (telling the
        # thread may come after the request is marked).
        while time.monotonic() < deadline and (request.status == ApprovalStatus.APPROVED or _unfinished()):
            time.sleep(0.2)
            request = ops.get_request(engine=engine, approval_id=approval_id)
        sys.stdout.write(json.dumps({"status": request.status.value, "run_id": request.run_id}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
