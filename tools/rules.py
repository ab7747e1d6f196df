"""Rule tools: explain a business rule in words, and apply a ruleset (VIP tiering, credit hold)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from flows.rules.rulesets import RulesReport, apply_ruleset, explain
from tools.base import Preview, Table, ToolArgs, ToolContext, ToolResult, ToolSpec

CHANGE_COLUMNS = ["customer_id", "customer", "field", "before", "after", "reason"]
_RULESET_OF = {"vip_customer": "vip_tiering", "credit_hold": "credit_hold", "bulk_discount": "bulk_discount"}


class ExplainRuleArgs(ToolArgs):
    """Which rule to explain."""

    rule: Literal["vip_customer", "credit_hold", "bulk_discount"] = Field(
        description="The rule: vip_customer (who is a gold or silver VIP), credit_hold (when an account is "
        "put on hold) or bulk_discount (quantity discounts and VIP extras)."
    )


class ApplyRulesArgs(ToolArgs):
    """Which ruleset to apply, and whether only to preview it."""

    ruleset: Literal["vip_tiering", "credit_hold"] = Field(
        description="vip_tiering re-tiers customers by their last 12 months of revenue; credit_hold puts "
        "accounts with overdue or too large unpaid invoices on hold (and lifts holds that no longer apply)."
    )
    dry_run: bool = Field(default=False, description="True to only list what would change, writing nothing.")


def _explain_rule(ctx: ToolContext, args: ExplainRuleArgs) -> ToolResult:
    text = explain(args.rule, ctx.settings.rulesets)
    ruleset = _RULESET_OF[args.rule]
    version = getattr(ctx.settings.rulesets, ruleset).version
    return ToolResult(summary=text, data={"rule": args.rule, "ruleset": ruleset, "ruleset_version": version})


def _result(report: RulesReport) -> ToolResult:
    rows: list[list[Any]] = [
        [c.customer_id, c.customer, c.field, c.before, c.after, c.reason] for c in report.changes
    ]
    return ToolResult(
        summary=report.summary,
        table=Table(title=f"{report.ruleset} {report.version}", columns=CHANGE_COLUMNS, rows=rows),
        data={
            "ruleset": report.ruleset,
            "ruleset_version": report.version,
            "dry_run": report.dry_run,
            "evaluated": report.evaluated,
            "changed": len(report.changes),
        },
    )


def _apply_rules(ctx: ToolContext, args: ApplyRulesArgs) -> ToolResult:
    report = apply_ruleset(
        engine=ctx.engine,
        rulesets=ctx.settings.rulesets,
        ruleset=args.ruleset,
        today=ctx.today,
        dry_run=args.dry_run,
        actor=ctx.actor,
    )
    return _result(report)


def _preview_rules(ctx: ToolContext, args: ApplyRulesArgs) -> Preview:
    report = apply_ruleset(
        engine=ctx.engine,
        rulesets=ctx.settings.rulesets,
        ruleset=args.ruleset,
        today=ctx.today,
        dry_run=True,
        actor=ctx.actor,
    )
    shown = [change.model_dump(mode="json") for change in report.changes[:20]]
    return Preview(
        summary=report.summary,
        rows_affected=len(report.changes),
        details={"ruleset_version": report.version, "changes": shown},
    )


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name="explain_rule",
        description="Explain a business rule in plain words from the current config: who counts as a VIP "
        "customer, when credit hold applies, or how bulk discounts work. Read-only.",
        args_model=ExplainRuleArgs,
        risk="read",
        func=_explain_rule,
    ),
    ToolSpec(
        name="apply_rules",
        description="Apply a business ruleset to all customers: vip_tiering (set gold/silver tiers) or "
        "credit_hold (put or lift credit holds). Lists every change; dry_run only previews.",
        args_model=ApplyRulesArgs,
        risk="write",
        func=_apply_rules,
        preview=_preview_rules,
    ),
)
