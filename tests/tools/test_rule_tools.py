"""explain_rule and apply_rules through the ToolRunner; the ruleset version lands on the run."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.errors import BadInput
from core.store.models import Customer
from switchboard.settings import Settings
from tests.utils.factories import seed_basic
from tools import rules
from tools.registry import Registry
from tools.rules import ApplyRulesArgs
from tools.runtime import ToolRunner


def _runner(settings: Settings, engine: Engine) -> ToolRunner:
    return ToolRunner(settings=settings, engine=engine, registry=Registry(list(rules.TOOLS)))


def _holds(engine: Engine) -> list[bool]:
    with engine.connect() as conn:
        return list(conn.execute(select(Customer.credit_hold).order_by(Customer.id)).scalars())  # type: ignore[arg-type]


def test_explain_rule(settings: Settings, engine: Engine) -> None:
    result = _runner(settings, engine).call("explain_rule", {"rule": "vip_customer"}, actor="ana").result
    assert result.summary == (
        "A customer is gold when their revenue over the last 12 months is at least 250,000; "
        "silver at 100,000. (ruleset vip_tiering, version 2026.1)"
    )
    assert result.data == {"rule": "vip_customer", "ruleset": "vip_tiering", "ruleset_version": "2026.1"}
    with pytest.raises(BadInput, match="'rule'"):
        _runner(settings, engine).call("explain_rule", {"rule": "vip_tiering"}, actor="ana")


def test_apply_rules_dry_run_then_apply(settings: Settings, any_engine: Engine) -> None:
    seed_basic(any_engine)
    runner = _runner(settings, any_engine)
    spec = runner.registry["apply_rules"]
    assert spec.preview is not None
    preview = spec.preview(runner.context(actor="ana"), ApplyRulesArgs(ruleset="credit_hold"))
    assert (preview.rows_affected, preview.details["ruleset_version"]) == (1, "2026.1")
    assert preview.details["changes"] == [
        {
            "customer_id": 2,
            "customer": "Borealis Trading",
            "field": "credit_hold",
            "before": False,
            "after": True,
            "reason": "1 invoiced order unpaid for more than 60 days",
        }
    ]

    dry = runner.call("apply_rules", {"ruleset": "credit_hold", "dry_run": True}, actor="ana")
    assert dry.result.summary == (
        "A dry run of the credit hold rules (version 2026.1) found 1 of 5 customers would change; "
        "nothing was written."
    )
    assert _holds(any_engine) == [False] * 5
    assert dry.run is not None
    assert dry.run.output["result"]["data"] == {
        "ruleset": "credit_hold",
        "ruleset_version": "2026.1",
        "dry_run": True,
        "evaluated": 5,
        "changed": 1,
    }

    done = runner.call("apply_rules", {"ruleset": "credit_hold"}, actor="ana")
    assert done.result.summary == "Applying the credit hold rules (version 2026.1) changed 1 of 5 customers."
    assert done.result.table is not None
    assert done.result.table.columns == ["customer_id", "customer", "field", "before", "after", "reason"]
    assert done.result.table.rows == [
        [2, "Borealis Trading", "credit_hold", False, True, "1 invoiced order unpaid for more than 60 days"]
    ]
    assert _holds(any_engine) == [False, True, False, False, False]
