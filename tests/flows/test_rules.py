"""Business rules: VIP tiering and credit hold (dry run and apply), and explain."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.errors import BadInput
from core.store.audit import AuditLog, AuditRecord
from core.store.models import Customer
from flows.config import BulkDiscount, CreditHold, Rulesets, VipTiering
from flows.rules.rulesets import RuleChange, apply_ruleset, explain, trailing_year
from switchboard.settings import Settings
from tests.utils.factories import seed_basic

TODAY = date(2026, 11, 22)
VIP = Rulesets(vip_tiering=VipTiering(version="t1", tiers={"gold": 5000, "silver": 1000}))
_c = Customer.__table__  # type: ignore[attr-defined]


def _customers(engine: Engine) -> list[tuple[int, str | None, bool]]:
    with engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(select(_c.c.id, _c.c.tier, _c.c.credit_hold).order_by(_c.c.id))
        ]  # type: ignore[misc]


def test_vip_dry_run_reports_and_writes_nothing(any_engine: Engine) -> None:
    seed_basic(any_engine, customer_overrides={4: {"tier": "gold"}})
    before, head = _customers(any_engine), AuditLog(any_engine).head().seq
    report = apply_ruleset(engine=any_engine, rulesets=VIP, ruleset="vip_tiering", today=TODAY, dry_run=True)
    assert report.model_dump() == {
        "ruleset": "vip_tiering",
        "version": "t1",
        "dry_run": True,
        "evaluated": 5,
        "changes": [
            {
                "customer_id": 1,
                "customer": "Acme Logistics",
                "field": "tier",
                "before": None,
                "after": "gold",
                "reason": "revenue 10,200.00 over the last 12 months (from 5,000)",
            },
            {
                "customer_id": 2,
                "customer": "Borealis Trading",
                "field": "tier",
                "before": None,
                "after": "silver",
                "reason": "revenue 2,950.00 over the last 12 months (from 1,000)",
            },
            {
                "customer_id": 4,
                "customer": "Delta Freight",
                "field": "tier",
                "before": "gold",
                "after": None,
                "reason": "revenue 500.00 over the last 12 months, below every tier",
            },
        ],
    }
    assert (
        report.summary
        == "A dry run of the vip tiering rules (version t1) found 3 of 5 customers would change; nothing was written."
    )
    assert _customers(any_engine) == before
    assert AuditLog(any_engine).head().seq == head


def test_vip_apply_writes_and_audits(any_engine: Engine) -> None:
    seed_basic(any_engine, customer_overrides={4: {"tier": "gold"}})
    report = apply_ruleset(engine=any_engine, rulesets=VIP, ruleset="vip_tiering", today=TODAY, actor="ana")
    assert (report.dry_run, len(report.changes)) == (False, 3)
    assert _customers(any_engine) == [
        (1, "gold", False),
        (2, "silver", False),
        (3, None, False),
        (4, None, False),
        (5, None, False),
    ]
    with any_engine.connect() as conn:
        last = conn.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).one()  # type: ignore[attr-defined]
    assert (last.event, last.actor, last.subject) == ("rules.applied", "ana", "ruleset:vip_tiering")
    assert json.loads(last.data) == {"version": "t1", "evaluated": 5, "changed": 3, "customers": [1, 2, 4]}
    assert AuditLog(any_engine).verify().ok
    again = apply_ruleset(engine=any_engine, rulesets=VIP, ruleset="vip_tiering", today=TODAY)
    assert again.changes == []


def test_credit_hold_puts_overdue_accounts_on_hold_and_releases_others(any_engine: Engine) -> None:
    seed_basic(any_engine, customer_overrides={4: {"credit_hold": True}})
    report = apply_ruleset(engine=any_engine, rulesets=Rulesets(), ruleset="credit_hold", today=TODAY)
    assert report.version == "1"
    assert report.changes == [
        RuleChange(
            customer_id=2,
            customer="Borealis Trading",
            field="credit_hold",
            before=False,
            after=True,
            reason="1 invoiced order unpaid for more than 60 days",
        ),
        RuleChange(
            customer_id=4,
            customer="Delta Freight",
            field="credit_hold",
            before=True,
            after=False,
            reason="no overdue invoices and open balance 0.00 within 50,000",
        ),
    ]
    assert [(cid, hold) for cid, _, hold in _customers(any_engine)] == [
        (1, False),
        (2, True),
        (3, False),
        (4, False),
        (5, False),
    ]


def test_credit_hold_on_open_balance(engine: Engine) -> None:
    seed_basic(engine)
    rules = Rulesets(credit_hold=CreditHold(version="b", max_overdue_days=365, max_open_balance=2000))
    report = apply_ruleset(engine=engine, rulesets=rules, ruleset="credit_hold", today=TODAY, dry_run=True)
    assert [(c.customer_id, c.after, c.reason) for c in report.changes] == [
        (2, True, "open balance 2,950.00 over 2,000")
    ]


def test_trailing_year_and_unknown_ruleset(engine: Engine) -> None:
    assert trailing_year(TODAY) == (date(2025, 11, 23), TODAY)
    assert trailing_year(date(2028, 2, 29)) == (date(2027, 3, 1), date(2028, 2, 29))
    with pytest.raises(BadInput, match="unknown ruleset 'pricing'"):
        apply_ruleset(engine=engine, rulesets=VIP, ruleset="pricing", today=TODAY)  # type: ignore[arg-type]


def test_explain_renders_the_configured_rules(settings: Settings) -> None:
    rules = settings.rulesets
    assert explain("vip_customer", rules) == (
        "A customer is gold when their revenue over the last 12 months is at least 250,000; "
        "silver at 100,000. (ruleset vip_tiering, version 2026.1)"
    )
    assert explain("credit_hold", rules) == (
        "A customer goes on credit hold when an invoiced order is still unpaid more than 60 days after "
        "its order date, or when their open balance (invoiced, unpaid orders) is over 50,000. The hold is "
        "lifted when neither is true; new orders are refused while it lasts. "
        "(ruleset credit_hold, version 2026.1)"
    )
    assert explain("bulk_discount", rules) == (
        "Orders of at least 100 units get 5% off, 500 units 10%, 1,000 units 15%. "
        "Gold customers get an extra 3% and silver customers an extra 1%. "
        "(ruleset bulk_discount, version 2026.1)"
    )


def test_explain_follows_the_config() -> None:
    rules = Rulesets(
        vip_tiering=VipTiering(version="9", tiers={"platinum": 1_000_000, "gold": 250_000.5, "silver": 1}),
        bulk_discount=BulkDiscount(version="x", breaks=[(50, 0.025)], vip_extra={}),
    )
    assert explain("vip_customer", rules) == (
        "A customer is platinum when their revenue over the last 12 months is at least 1,000,000; gold at "
        "250,000.50; silver at 1. (ruleset vip_tiering, version 9)"
    )
    assert explain("bulk_discount", rules) == (
        "Orders of at least 50 units get 2.5% off. (ruleset bulk_discount, version x)"
    )
    with pytest.raises(BadInput, match="unknown rule 'loyalty'"):
        explain("loyalty", rules)  # type: ignore[arg-type]
