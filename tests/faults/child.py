"""A Switchboard process for the fault suite: it approves a request (and may die at a fault point), or restarts.

``python -m tests.faults.child approve <approval id>``: start as the console would (durable, recovering), then
approve as ann. With ``SWITCHBOARD_FAULT_POINT`` set, the process SIGKILLs itself at that point.

``python -m tests.faults.child restart <approval id>``: start again as the same executor, let it recover, and
print the request's status once it is decided, as one JSON line.
"""

from __future__ import annotations

import json
import sys
import time

from dbos import DBOS

from agent.service import open_switchboard
from core.store import approval_ops as ops
from core.store.approvals import ApprovalStatus
from core.store.db import make_engine
from switchboard.settings import load_settings
from tests.utils.fake_backend import ScriptedBackend

ROLE = "console-0"  # the same executor before and after the crash, as a restarted console worker is
SETTLE_S = 60.0
WORKFLOWS = ["switchboard.approval", "switchboard.execute"]  # not the ticks, which come every few seconds


def main(action: str, approval_id: str) -> None:
    """Run one side of the crash scenario."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    with open_switchboard(settings, engine, backend=ScriptedBackend(), durable_as=ROLE) as service:
        service.approvals.recover()  # as the console's lifespan does at every start
        if action == "approve":
            service.approvals.approve(approval_id, approver="ann", role="approver")
            return
        deadline = time.monotonic() + SETTLE_S
        request = ops.get_request(engine=engine, approval_id=approval_id)
        # Until the request is decided and the engine has finished what the killed process left (telling the
        # thread may come after the request is marked).
        while time.monotonic() < deadline and (
            request.status == ApprovalStatus.APPROVED
            or DBOS.list_workflows(status=["PENDING", "ENQUEUED"], name=WORKFLOWS)
        ):
            time.sleep(0.2)
            request = ops.get_request(engine=engine, approval_id=approval_id)
        sys.stdout.write(json.dumps({"status": request.status.value, "run_id": request.run_id}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
