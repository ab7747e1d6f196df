"""Business rules kept in config: VIP tiering and credit hold, applied to customers, and ``explain``.

Each ruleset is versioned in the YAML config (``settings.rulesets``). ``apply_ruleset`` evaluates a ruleset
with aggregate queries, reports every customer whose tier or hold would change (before → after, and why), and
writes the changes plus an audit record in one transaction, or nothing at all on a dry run. Pricing
(bulk_discount) is in ``flows.sales.pricing``.

Order statuses the rules read: ``open``, ``shipped``, ``invoiced`` (billed, not yet paid), ``paid`` and
``cancelled``. An invoiced order counts as unpaid; the order date stands in for the invoice date.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import case, func, select, update
from sqlalchemy.engine import Connection, Engine

from core import tracing
from core.errors import BadInput
from core.store.audit import AuditEvent, append_in
from core.store.db import write_session
from core.store.models import Customer, Order
from flows.config import BulkDiscount, CreditHold, Rulesets, VipTiering
from flows.reports.sources import REVENUE, ROLLUPS, Window

logger = logging.getLogger(__name__)

INVOICED = "invoiced"
RulesetName = Literal["vip_tiering", "credit_hold"]
RuleName = Literal["vip_customer", "vip_tiering", "credit_hold", "bulk_discount"]

_o = Order.__table__  # type: ignore[attr-defined]
_c = Customer.__table__  # type: ignore[attr-defined]


class RuleChange(BaseModel):
    """One customer whose tier or credit hold changes."""

    model_config = ConfigDict(extra="forbid")

    customer_id: int
    customer: str
    field: Literal["tier", "credit_hold"]
    before: str | bool | None
    after: str | bool | None
    reason: str


class RulesReport(BaseModel):
    """What applying a ruleset changed (or, on a dry run, would change)."""

    model_config = ConfigDict(extra="forbid")

    ruleset: RulesetName
    version: str
    dry_run: bool
    evaluated: int
    changes: list[RuleChange]

    @property
    def summary(self) -> str:
        """One sentence for the operator."""
        rules = f"the {self.ruleset.replace('_', ' ')} rules (version {self.version})"
        if self.dry_run:
            found = f"{len(self.changes)} of {self.evaluated} customers would change"
            return f"A dry run of {rules} found {found}; nothing was written."
        return f"Applying {rules} changed {len(self.changes)} of {self.evaluated} customers."


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _amount(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _percent(fraction: float) -> str:
    return f"{round(fraction * 100, 4):g}%"


def trailing_year(today: date) -> tuple[date, date]:
    """The trailing 12 months ending today: from the day after the same date a year ago, to today."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return year_ago + timedelta(days=1), today


def tier_for(revenue: float, rules: VipTiering) -> str | None:
    """The highest tier whose threshold the revenue reaches, or None."""
    for tier, threshold in sorted(rules.tiers.items(), key=lambda kv: -kv[1]):
        if revenue >= threshold:
            return tier
    return None


def _vip_changes(conn: Connection, rules: VipTiering, today: date) -> tuple[int, list[RuleChange]]:
    start, end = trailing_year(today)
    # A year of revenue per customer is what the customer rollup holds: twelve month buckets, whatever the orders.
    grouped = ROLLUPS.grouped(conn, Window(start, end), "customer_id")
    revenue = {int(cid): total for cid, _, _, total in grouped}
    customers = conn.execute(select(_c.c.id, _c.c.name, _c.c.tier).order_by(_c.c.id)).all()
    changes = []
    for cid, name, tier in customers:
        earned = revenue.get(int(cid), 0.0)
        new = tier_for(earned, rules)
        if new != tier:
            threshold = f" (from {_amount(rules.tiers[new])})" if new else ", below every tier"
            reason = f"revenue {_money(earned)} over the last 12 months{threshold}"
            changes.append(
                RuleChange(
                    customer_id=cid, customer=name, field="tier", before=tier, after=new, reason=reason
                )
            )
    return len(customers), changes


def _hold_changes(conn: Connection, rules: CreditHold, today: date) -> tuple[int, list[RuleChange]]:
    cutoff = today - timedelta(days=rules.max_overdue_days)
    unpaid_query = (
        select(_o.c.customer_id, func.sum(case((_o.c.order_date < cutoff, 1), else_=0)), func.sum(REVENUE))
        .where(_o.c.status == INVOICED)
        .group_by(_o.c.customer_id)
    )
    unpaid = {
        int(cid): (int(overdue or 0), float(balance or 0))
        for cid, overdue, balance in conn.execute(unpaid_query)
    }
    customers = conn.execute(select(_c.c.id, _c.c.name, _c.c.credit_hold).order_by(_c.c.id)).all()
    changes = []
    for cid, name, held in customers:
        overdue, balance = unpaid.get(int(cid), (0, 0.0))
        reasons = []
        if overdue:
            plural = "order" if overdue == 1 else "orders"
            reasons.append(f"{overdue} invoiced {plural} unpaid for more than {rules.max_overdue_days} days")
        if balance > rules.max_open_balance:
            reasons.append(f"open balance {_money(balance)} over {_amount(rules.max_open_balance)}")
        hold = bool(reasons)
        if hold != bool(held):
            limit = _amount(rules.max_open_balance)
            reason = (
                "; ".join(reasons) or f"no overdue invoices and open balance {_money(balance)} within {limit}"
            )
            changes.append(
                RuleChange(
                    customer_id=cid,
                    customer=name,
                    field="credit_hold",
                    before=bool(held),
                    after=hold,
                    reason=reason,
                )
            )
    return len(customers), changes


def _evaluate(
    conn: Connection, ruleset: RulesetName, rulesets: Rulesets, today: date
) -> tuple[str, int, list[RuleChange]]:
    if ruleset == "vip_tiering":
        return rulesets.vip_tiering.version, *_vip_changes(conn, rulesets.vip_tiering, today)
    if ruleset == "credit_hold":
        return rulesets.credit_hold.version, *_hold_changes(conn, rulesets.credit_hold, today)
    raise BadInput(f"unknown ruleset {ruleset!r}: use vip_tiering or credit_hold", field="ruleset")


@tracing.traced("flows.rules", stage="rules")
def apply_ruleset(
    *,
    engine: Engine,
    rulesets: Rulesets,
    ruleset: RulesetName,
    today: date,
    dry_run: bool = False,
    actor: str = "system",
) -> RulesReport:
    """Evaluate a ruleset against every customer and apply the changes unless ``dry_run``.

    Args:
        engine: Database engine.
        rulesets: ``settings.rulesets``.
        ruleset: vip_tiering or credit_hold.
        today: Reference date (trailing year, overdue cut-off).
        dry_run: Report only; write nothing.
        actor: Who applies it (recorded in the audit log).

    Raises:
        BadInput: For an unknown ruleset.
    """
    if dry_run:
        with engine.connect() as conn:
            version, evaluated, changes = _evaluate(conn, ruleset, rulesets, today)
        return RulesReport(
            ruleset=ruleset, version=version, dry_run=True, evaluated=evaluated, changes=changes
        )
    with write_session(engine) as session:
        conn = session.connection()
        version, evaluated, changes = _evaluate(conn, ruleset, rulesets, today)
        by_value: dict[str | bool | None, list[int]] = {}
        for change in changes:
            by_value.setdefault(change.after, []).append(change.customer_id)
        column = "tier" if ruleset == "vip_tiering" else "credit_hold"
        for value, ids in by_value.items():
            conn.execute(update(_c).where(_c.c.id.in_(ids)).values({column: value}))
        append_in(
            session,
            [
                AuditEvent(
                    "rules.applied",
                    actor,
                    f"ruleset:{ruleset}",
                    {
                        "version": version,
                        "evaluated": evaluated,
                        "changed": len(changes),
                        "customers": [change.customer_id for change in changes[:100]],
                    },
                )
            ],
        )
    logger.info("ruleset applied", extra={"ruleset": ruleset, "version": version, "changed": len(changes)})
    return RulesReport(ruleset=ruleset, version=version, dry_run=False, evaluated=evaluated, changes=changes)


def _explain_vip(vip: VipTiering) -> str:
    tiers = sorted(vip.tiers.items(), key=lambda kv: -kv[1])
    if not tiers:
        return "No VIP tiers are configured, so no customer gets a tier."
    (top, threshold), lower = tiers[0], tiers[1:]
    text = f"A customer is {top} when their revenue over the last 12 months is at least {_amount(threshold)}"
    return text + "".join(f"; {name} at {_amount(value)}" for name, value in lower) + "."


def _explain_hold(hold: CreditHold) -> str:
    return (
        f"A customer goes on credit hold when an invoiced order is still unpaid more than "
        f"{hold.max_overdue_days} days after its order date, or when their open balance (invoiced, "
        f"unpaid orders) is over {_amount(hold.max_open_balance)}. The hold is lifted when neither is "
        f"true; new orders are refused while it lasts."
    )


def _explain_bulk(bulk: BulkDiscount) -> str:
    breaks = sorted(bulk.breaks)
    if breaks:
        (quantity, rate), higher = breaks[0], breaks[1:]
        text = f"Orders of at least {_amount(quantity)} units get {_percent(rate)} off"
        text += "".join(f", {_amount(q)} units {_percent(r)}" for q, r in higher) + "."
    else:
        text = "There are no quantity discounts."
    extras = [(tier, _percent(rate)) for tier, rate in bulk.vip_extra.items()]
    if extras:
        (tier, extra), others = extras[0], extras[1:]
        text += f" {tier[:1].upper()}{tier[1:]} customers get an extra {extra}"
        parts = [f"{name} customers an extra {value}" for name, value in others]
        text += "".join(f", {part}" for part in parts[:-1]) + (f" and {parts[-1]}." if parts else ".")
    return text


def explain(rule: RuleName, rulesets: Rulesets) -> str:
    """Render a rule in words from the config, ending with its ruleset and version.

    Raises:
        BadInput: For an unknown rule name.
    """
    if rule in ("vip_customer", "vip_tiering"):
        vip = rulesets.vip_tiering
        return f"{_explain_vip(vip)} (ruleset vip_tiering, version {vip.version})"
    if rule == "credit_hold":
        hold = rulesets.credit_hold
        return f"{_explain_hold(hold)} (ruleset credit_hold, version {hold.version})"
    if rule == "bulk_discount":
        bulk = rulesets.bulk_discount
        return f"{_explain_bulk(bulk)} (ruleset bulk_discount, version {bulk.version})"
    raise BadInput(f"unknown rule {rule!r}: use vip_customer, credit_hold or bulk_discount", field="rule")
