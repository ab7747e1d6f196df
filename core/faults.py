"""Fault points: named places where a test can have this process killed outright, to prove what survives a crash.

``SWITCHBOARD_FAULT_POINT=<name>`` (``CoreSettings.fault_point``) makes the process SIGKILL itself the first time
it reaches that point: no ``finally`` block, no ``atexit`` handler and no flush runs, exactly as after a power cut
or the OOM killer. Unset (always, outside the fault suite), a point costs one comparison.

The points, in the order a durable execution reaches them:
- ``approval.approved``: the approval's decision is committed; nothing has executed yet.
- ``run.created``: the run's row exists: running for a call that runs at once (it is recorded and started in one
  transaction), still pending for one its workflow queued ahead.
- ``run.started``: the run is running (a queued run started, or a run left running taken over by its
  workflow); the tool has not been called.
- ``delivery.uploaded``: the file is at the destination; the delivery row still says "sending".
- ``flow.step_done``: one step of a named flow has finished; the next has not started.
- ``tool.returned``: the tool returned; its run is not recorded yet.
- ``run.recorded``: the run is recorded; the engine has not checkpointed the step.
- ``approval.executed``: the approval's run finished; the request is not marked executed.
- ``approval.marked``: the request is marked executed; the requester's thread has not been told.

And one in a chat turn: ``correction.captured``, a correction's candidate example is committed, and the turn that
made it has not been kept (the thread still waits on the question).
"""

from __future__ import annotations

import logging
import os
import signal

from core.config import CoreSettings

logger = logging.getLogger(__name__)

POINTS = (
    "approval.approved",
    "run.created",
    "run.started",
    "delivery.uploaded",
    "flow.step_done",
    "tool.returned",
    "run.recorded",
    "approval.executed",
    "approval.marked",
    "correction.captured",
)


def crash_point(settings: CoreSettings, name: str) -> None:
    """Kill this process with SIGKILL when ``name`` is the configured fault point."""
    if settings.fault_point == name:
        logger.warning("fault point %s reached: killing this process", name)
        os.kill(os.getpid(), signal.SIGKILL)
