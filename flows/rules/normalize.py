"""Normalize: apply the declarative cleaning rules of ``settings.normalize[dataset]``; report what changed.

Rules run in a fixed order: ``trim`` (strip surrounding whitespace), ``lowercase``, ``fill_total`` (orders:
total = quantity x unit_price where it is missing) and ``dedupe_by`` (keep the lowest key per normalised value
of a field and delete the others; removed customers' orders are re-pointed to the kept customer).
Deduplication is what enforces uniqueness of that field. Values are computed in Python, so SQLite and
PostgreSQL give the same result, and a dry run computes exactly the same report without writing. Running
normalize twice changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import String, Table, TypeDecorator, bindparam, func, select
from sqlalchemy.engine import Connection, Engine

from core import tracing
from core.errors import ConfigError
from core.store.audit import AuditEvent, append_in
from core.store.db import read_session, write_session
from core.store.models import Order
from core.text import count_of
from flows.config import FlowSettings, NormalizeRules
from flows.ingest.rows import dataset_spec

logger = logging.getLogger(__name__)

RuleName = Literal["trim", "lowercase", "fill_total", "dedupe_by"]
_CHUNK = 5_000
_EXAMPLES = 3


class Change(BaseModel):
    """One example of a change: the row's key and the value before and after."""

    key: str | int
    before: Any
    after: Any


class RuleReport(BaseModel):
    """What one rule did (or would do) to one field."""

    rule: RuleName
    field: str
    rows_changed: int = 0
    duplicates_removed: int = 0
    examples: list[Change] = Field(default_factory=list)


class NormalizeReport(BaseModel):
    """What normalize did to a dataset (or would do, for a dry run)."""

    dataset: str
    dry_run: bool
    rows_scanned: int = 0
    rows_changed: int = Field(default=0, description="Distinct rows whose values changed.")
    duplicates_removed: int = 0
    orders_repointed: int = Field(default=0, description="Orders moved to the kept customer by dedupe.")
    rules: list[RuleReport] = Field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when anything changed (or would change)."""
        return bool(self.rows_changed or self.duplicates_removed)

    def describe(self) -> str:
        """One sentence for the operator."""
        if not self.rules:
            return f"No normalisation rules are configured for {self.dataset}; nothing to do."
        if not self.changed:
            return f"{self.dataset.capitalize()} are already normalized ({self.rows_scanned} rows checked)."
        rows, duplicates = count_of(self.rows_changed, "row"), count_of(self.duplicates_removed, "duplicate")
        orders = count_of(self.orders_repointed, "order") if self.orders_repointed else ""
        if self.dry_run:
            parts = [f"{rows} would change"] if self.rows_changed else []
            if self.duplicates_removed:
                parts.append(f"{duplicates} would be merged away" + (f", moving {orders}" if orders else ""))
            return f"A dry run on {self.dataset} found that {' and '.join(parts)}; nothing was written."
        parts = [f"{rows} changed"] if self.rows_changed else []
        if self.duplicates_removed:
            parts.append(f"{duplicates} removed" + (f" ({orders} re-pointed)" if orders else ""))
        return f"Normalized {self.dataset}: {', '.join(parts)}."


@tracing.traced("flows.normalize", stage="normalize", params=("dataset",))
def normalize_dataset(
    *, engine: Engine, settings: FlowSettings, dataset: str, dry_run: bool = False, actor: str = "system"
) -> NormalizeReport:
    """Apply (or, with ``dry_run``, only compute) the dataset's normalisation rules in one transaction.

    Raises:
        NotFound: unknown dataset.
        ConfigError: a rule names a column the dataset does not have, or trims a non-text column.
    """
    spec = dataset_spec(dataset)
    rules = settings.normalize.get(dataset)  # type: ignore[call-overload]
    report = NormalizeReport(dataset=dataset, dry_run=dry_run)
    if rules is None or not (rules.trim or rules.lowercase or rules.fill_total or rules.dedupe_by):
        return report
    table = spec.table
    _check_rules(table, dataset, rules)
    session_factory = read_session(engine) if dry_run else write_session(engine)
    with session_factory as session:
        conn = session.connection()
        pass_ = _Pass(conn, table, spec.key, rules, dataset=dataset, write=not dry_run)
        pass_.run(report)
        if not dry_run and report.changed:
            append_in(
                session,
                [
                    AuditEvent(
                        "normalize.applied",
                        actor,
                        f"dataset:{dataset}",
                        report.model_dump(include={"rows_changed", "duplicates_removed", "orders_repointed"}),
                    )
                ],
            )
    logger.info(
        "normalize %s",
        dataset,
        extra={"dry_run": dry_run, "changed": report.rows_changed, "removed": report.duplicates_removed},
    )
    return report


def _check_rules(table: Table, dataset: str, rules: NormalizeRules) -> None:
    named = [*rules.trim, *rules.lowercase, *([rules.dedupe_by] if rules.dedupe_by else [])]
    for column in named:
        if column not in table.c:
            raise ConfigError(
                f"normalize.{dataset} names column {column!r}, which {dataset} does not have",
                setting=f"normalize.{dataset}",
            )
    for column in [*rules.trim, *rules.lowercase]:
        column_type = table.c[column].type
        if not isinstance(
            column_type.impl if isinstance(column_type, TypeDecorator) else column_type, String
        ):
            raise ConfigError(
                f"normalize.{dataset}: {column!r} is not a text column", setting=f"normalize.{dataset}"
            )
    if rules.fill_total and dataset != "orders":
        raise ConfigError(
            f"normalize.{dataset}: fill_total only applies to orders", setting=f"normalize.{dataset}"
        )


class _Pass:
    """One ordered scan over the table computing every rule, writing per chunk unless it is a dry run."""

    def __init__(
        self, conn: Connection, table: Table, key: str, rules: NormalizeRules, *, dataset: str, write: bool
    ) -> None:
        self.conn, self.table, self.key, self.rules, self.dataset, self.write = (
            conn,
            table,
            key,
            rules,
            dataset,
            write,
        )
        self.text_columns = list(dict.fromkeys([*rules.trim, *rules.lowercase]))
        self.reports: dict[tuple[str, str], RuleReport] = {}
        for column in rules.trim:
            self._rule("trim", column)
        for column in rules.lowercase:
            self._rule("lowercase", column)
        if rules.fill_total:
            self._rule("fill_total", "total")
        if rules.dedupe_by:
            self._rule("dedupe_by", rules.dedupe_by)
        self.kept: dict[str, Any] = {}
        self.duplicates: list[tuple[Any, Any]] = []  # (removed key, kept key)

    def _rule(self, name: RuleName, column: str) -> RuleReport:
        return self.reports.setdefault((name, column), RuleReport(rule=name, field=column))

    def _note(self, name: RuleName, column: str, key: Any, before: Any, after: Any) -> None:
        rule = self.reports[(name, column)]
        rule.rows_changed += 1
        if len(rule.examples) < _EXAMPLES:
            rule.examples.append(Change(key=key, before=before, after=after))

    def _rows(self) -> Iterator[list[Any]]:
        wanted = dict.fromkeys([self.key, *self.text_columns])
        if self.rules.dedupe_by:
            wanted[self.rules.dedupe_by] = None
        if self.rules.fill_total:
            wanted.update(dict.fromkeys(["quantity", "unit_price", "total"]))
        columns = [self.table.c[name] for name in wanted]
        key_column, last = self.table.c[self.key], None
        # Keyset pagination: one bounded chunk at a time, in key order so "first seen" is the lowest key.
        while True:
            query = select(*columns).order_by(key_column).limit(_CHUNK)
            if last is not None:
                query = query.where(key_column > last)
            chunk = [row._mapping for row in self.conn.execute(query)]
            if not chunk:
                return
            last = chunk[-1][self.key]
            yield [dict(row) for row in chunk]

    def run(self, report: NormalizeReport) -> None:
        rules, key = self.rules, self.key
        for chunk in self._rows():
            updates: list[dict[str, Any]] = []
            for row in chunk:
                report.rows_scanned += 1
                changes = self._apply(row)
                if rules.dedupe_by:
                    self._dedupe(row, row[rules.dedupe_by])
                if changes:
                    updates.append({"b_key": row[key], **{f"b_{name}": row[name] for name in changes}})
            report.rows_changed += len(updates)
            if self.write and updates:
                self._update(updates)
        report.duplicates_removed = len(self.duplicates)
        if self.duplicates:
            rule = self.reports[("dedupe_by", rules.dedupe_by or "")]
            rule.rows_changed = rule.duplicates_removed = len(self.duplicates)
            report.orders_repointed = self._remove_duplicates()
        report.rules = list(self.reports.values())

    def _apply(self, row: dict[str, Any]) -> set[str]:
        changed: set[str] = set()
        key = row[self.key]
        for column in self.rules.trim:
            value = row[column]
            if isinstance(value, str) and value != value.strip():
                row[column] = value.strip()
                self._note("trim", column, key, value, row[column])
                changed.add(column)
        for column in self.rules.lowercase:
            value = row[column]
            if isinstance(value, str) and value != value.lower():
                row[column] = value.lower()
                self._note("lowercase", column, key, value, row[column])
                changed.add(column)
        if (
            self.rules.fill_total
            and row["total"] is None
            and row["quantity"] is not None
            and row["unit_price"] is not None
        ):
            row["total"] = round(row["quantity"] * row["unit_price"], 2)
            self._note("fill_total", "total", key, None, row["total"])
            changed.add("total")
        return changed

    def _dedupe(self, row: dict[str, Any], value: Any) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return
        normalised = value.strip().casefold() if isinstance(value, str) else value
        kept = self.kept.setdefault(normalised, row[self.key])
        if kept != row[self.key]:
            self.duplicates.append((row[self.key], kept))
            rule = self.reports[("dedupe_by", self.rules.dedupe_by or "")]
            if len(rule.examples) < _EXAMPLES:
                rule.examples.append(Change(key=row[self.key], before=value, after=f"merged into {kept}"))

    def _update(self, updates: list[dict[str, Any]]) -> None:
        # executemany needs one statement shape; group rows by the set of columns they change.
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item in updates:
            groups.setdefault(tuple(sorted(name for name in item if name != "b_key")), []).append(item)
        for names, items in groups.items():
            statement = (
                self.table.update()
                .where(self.table.c[self.key] == bindparam("b_key"))
                .values({name[2:]: bindparam(name) for name in names})
            )
            self.conn.execute(statement, items)

    def _remove_duplicates(self) -> int:
        """Re-point orders of removed customers, then delete the duplicates; returns orders re-pointed."""
        removed = [dup for dup, _ in self.duplicates]
        moved = 0
        if self.dataset == "customers":
            orders: Table = Order.__table__  # type: ignore[attr-defined]
            for start in range(0, len(removed), 1000):
                part = removed[start : start + 1000]
                count = select(func.count()).select_from(orders).where(orders.c.customer_id.in_(part))
                moved += int(self.conn.execute(count).scalar_one())
            if self.write and moved:
                statement = (
                    orders.update()
                    .where(orders.c.customer_id == bindparam("b_old"))
                    .values(customer_id=bindparam("b_new"))
                )
                self.conn.execute(statement, [{"b_old": old, "b_new": new} for old, new in self.duplicates])
        if self.write:
            key_column = self.table.c[self.key]
            for start in range(0, len(removed), 1000):
                self.conn.execute(self.table.delete().where(key_column.in_(removed[start : start + 1000])))
        return moved


__all__ = ["Change", "NormalizeReport", "RuleReport", "normalize_dataset"]
