"""Errors and run errors quote user- or file-supplied text only up to the documented bound (issue 15, finding 1)."""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine

from core.errors import BadInput, NotFound, as_data, rebuild
from core.store.audit import AuditLog
from core.store.runs import RunStatus, RunStore
from core.text import MESSAGE_LIMIT, QUOTE_LIMIT

TEN_MB = "x" * (10 * 1024 * 1024)


def test_an_error_clips_its_message_and_details() -> None:
    error = BadInput(f"f.csv: line 1: unknown column {TEN_MB!r}", file="f.csv", field=TEN_MB, line=1)

    assert len(error.message) == MESSAGE_LIMIT - 32 + len("… 10.0 MB more")
    assert error.message.startswith("f.csv: line 1: unknown column 'xxx")
    assert error.message.endswith("x… 10.0 MB more")
    assert str(error) == error.message
    assert error.details == {"file": "f.csv", "field": "x" * (QUOTE_LIMIT - 32) + "… 10.0 MB more", "line": 1}
    assert len(json.dumps(error.to_dict())) < MESSAGE_LIMIT + 2 * QUOTE_LIMIT


def test_a_clipped_error_survives_a_round_trip_unchanged() -> None:
    error = NotFound("no customer name is close to " + repr(TEN_MB), query=TEN_MB, ids=list(range(1_000)))
    again = rebuild(as_data(error))
    assert (type(again), again.message, again.details) == (NotFound, error.message, error.details)
    assert again.details["ids"] == [*range(49), "… 951 more"]


def test_a_run_error_and_its_audit_record_are_clipped(any_engine: Engine) -> None:
    runs = RunStore(any_engine)
    failed, _ = runs.create(name="ingest_file", actor="olive", inputs={"path": "f.csv"})
    runs.start(failed.id or 0)
    partial, _ = runs.create(name="nightly_sales_export", actor="olive", inputs={}, kind="flow")
    runs.start(partial.id or 0)

    runs.fail(failed.id or 0, error=f"f.csv: {TEN_MB}", code="bad_input")
    runs.partial(partial.id or 0, {}, error=f"step 2 failed: {TEN_MB}")

    for run_id, status in ((failed.id or 0, RunStatus.FAILED), (partial.id or 0, RunStatus.PARTIAL)):
        run = runs.get(run_id)
        assert run.status == status
        assert run.error is not None and len(run.error) <= MESSAGE_LIMIT
        assert run.error.endswith("x… 10.0 MB more")
    records = list(AuditLog(any_engine).iter_records())
    assert [r.event for r in records][-2:] == ["run.failed", "run.partial"]
    assert max(len(r.data) for r in records) < MESSAGE_LIMIT + 200
