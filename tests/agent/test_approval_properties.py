"""Property test: random sequences of request, approve, reject, edit, expire and restart never break the gate."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from agent.service import open_switchboard
from core.errors import Conflict, Forbidden
from core.store import approval_ops
from core.store.approvals import ApprovalStatus
from core.store.audit import AuditLog
from core.store.db import make_engine
from core.store.schema import init_db
from switchboard.settings import load_settings
from tests.agent.test_approvals import Payments, _NoBackend, _registry

PEOPLE = ["ann", "bob", "cy"]


class ApprovalMachine(RuleBasedStateMachine):
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="sb-approvals-"))
        self.settings = load_settings(
            database_url=f"sqlite:///{self.folder / 'db.sqlite'}", var_dir=self.folder
        )
        self.engine = make_engine(self.settings.database_url)
        init_db(self.engine)
        self.payments = Payments()
        self._open()
        self.approved_args: dict[str, dict[str, Any]] = {}
        self.expired: set[str] = set()
        self.rejected: set[str] = set()

    def _open(self) -> None:
        self.context = open_switchboard(
            self.settings, self.engine, registry=_registry(self.payments), backend=_NoBackend()
        )
        self.sb = self.context.__enter__()

    @rule(target=requests, requester=st.sampled_from(PEOPLE), amount=st.integers(1, 5))
    def request(self, requester: str, amount: int) -> str:
        return self.sb.approvals.request(
            tool="pay",
            args={"account": "acme", "amount": amount},
            requester=requester,
            reasons=["external"],
            thread_id=f"t-{requester}",
        ).id

    @rule(approval_id=requests, approver=st.sampled_from(PEOPLE))
    def approve(self, approval_id: str, approver: str) -> None:
        before = approval_ops.get_request(engine=self.engine, approval_id=approval_id)
        try:
            outcome = self.sb.approvals.approve(approval_id, approver=approver, role="approver")
        except (Conflict, Forbidden):
            return
        assert approver not in (before.requester, before.edited_by)
        assert before.status == ApprovalStatus.PENDING and approval_id not in self.expired
        if outcome.executed:
            self.approved_args[approval_id] = before.args

    @rule(approval_id=requests, approver=st.sampled_from(PEOPLE))
    def reject(self, approval_id: str, approver: str) -> None:
        try:
            self.sb.approvals.reject(approval_id, approver=approver, role="approver", reason="no")
            self.rejected.add(approval_id)
        except (Conflict, Forbidden):
            pass

    @rule(target=requests, approval_id=requests, editor=st.sampled_from(PEOPLE), amount=st.integers(1, 5))
    def edit(self, approval_id: str, editor: str, amount: int) -> str:
        try:
            return self.sb.approvals.edit(
                approval_id, editor=editor, role="approver", args={"account": "acme", "amount": amount}
            ).id
        except (Conflict, Forbidden):
            return approval_id

    @rule()
    def expire(self) -> None:
        later = datetime.now(UTC) + timedelta(days=2)
        for outcome in self.sb.approvals.expire_due(now=later):
            self.expired.add(outcome.request.id)

    @rule()
    def restart(self) -> None:
        self.context.__exit__(None, None, None)
        self._open()
        self.sb.approvals.recover()

    @invariant()
    def executed_exactly_what_was_approved(self) -> None:
        executed = [
            r
            for r in approval_ops.list_requests(engine=self.engine, limit=1000)
            if r.status == ApprovalStatus.EXECUTED
        ]
        assert len(self.payments.calls) == len(executed)
        assert sorted(str(c) for c in self.payments.calls) == sorted(str(r.args) for r in executed)
        for request in executed:
            assert request.id not in self.expired and request.id not in self.rejected
            assert request.decided_by not in (request.requester, request.edited_by)

    @invariant()
    def every_decision_is_audited(self) -> None:
        events = [(r.event, r.subject) for r in AuditLog(self.engine).iter_records()]
        for request in approval_ops.list_requests(engine=self.engine, limit=1000):
            if request.status != ApprovalStatus.PENDING:
                assert (f"approval.{request.status.value}", f"approval:{request.id}") in events

    def teardown(self) -> None:
        self.context.__exit__(None, None, None)
        assert AuditLog(self.engine).verify().ok
        self.engine.dispose()


ApprovalMachine.TestCase.settings = settings(
    max_examples=15, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestApprovalMachine = ApprovalMachine.TestCase
