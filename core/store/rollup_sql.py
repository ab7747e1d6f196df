"""The SQL that keeps the order rollups (``core.store.rollup_tables``): triggers, and the grouped rebuild.

Both are written once, as the list of (rollup, key expressions, value expressions) in ``_targets``, and rendered
for SQLite (row triggers, ``substr`` for the month) or PostgreSQL (a PL/pgSQL trigger function, ``date_trunc``).
A trigger adds a new line's figures with sign +1 and subtracts an old line's with -1; the rebuild groups the
whole order table with the same expressions, so both agree on what each bucket holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

ORDERS = '"order"'
TRIGGER_NAMES = ("order_rollup_insert", "order_rollup_update", "order_rollup_delete")
PG_FUNCTION = "order_rollup()"
# The order columns a rollup reads: an UPDATE that changes none of them leaves the rollups alone.
WATCHED = ("order_date", "region", "status", "sku", "customer_id", "quantity", "unit_price", "total")
_PAUSED = "EXISTS (SELECT 1 FROM rollup_pause)"


@dataclass(frozen=True)
class Target:
    """One rollup: its table, its key columns with their expressions, and its summed columns with theirs."""

    table: str
    keys: tuple[tuple[str, str], ...]
    sums: tuple[tuple[str, str], ...]


def _targets(row: str, dialect: str) -> Iterator[Target]:
    """The rollup rows one order line touches, as expressions over ``row`` (``NEW``, ``OLD`` or the table)."""
    pg = dialect == "postgresql"
    prefix = f"{row}." if row else ""

    def col(name: str) -> str:
        return prefix + name

    revenue = f"coalesce({col('total')}, {col('quantity')} * {col('unit_price')})"
    cancelled = f"({col('status')} = 'cancelled')"
    missing = f"({col('total')} IS NULL)" + ("::int" if pg else "")
    month = (
        f"date_trunc('month', {col('order_date')})::date"
        if pg
        else f"substr({col('order_date')}, 1, 8) || '01'"
    )
    yield Target(
        "rollup_day",
        (("day", col("order_date")), ("region", col("region")), ("status", col("status"))),
        (("orders", "1"), ("units", col("quantity")), ("revenue", revenue), ("missing_total", missing)),
    )
    # Every writer touches rollup rows in this order (days, skus, customers; day grain before month), so two
    # transactions on PostgreSQL that meet on the same rows wait for each other rather than deadlock.
    grains = (("d", col("order_date")), ("m", month))
    for table, key, sums in (
        ("rollup_sku", "sku", (("orders", "1"), ("units", col("quantity")), ("revenue", revenue))),
        ("rollup_customer", "customer_id", (("orders", "1"), ("revenue", revenue))),
    ):
        for grain, bucket in grains:
            head = (
                ("grain", f"'{grain}'"),
                ("bucket", bucket),
                ("region", col("region")),
                ("cancelled", cancelled),
            )
            yield Target(table, (*head, (key, col(key))), sums)


def _upsert(target: Target, sign: str) -> str:
    names = [name for name, _ in (*target.keys, *target.sums)]
    values = [expr for _, expr in target.keys] + [
        sign if e == "1" else f"{sign} * {e}" for _, e in target.sums
    ]
    added = ", ".join(f"{name} = {target.table}.{name} + excluded.{name}" for name, _ in target.sums)
    return (
        f"INSERT INTO {target.table} ({', '.join(names)}) VALUES ({', '.join(values)}) "
        f"ON CONFLICT ({', '.join(name for name, _ in target.keys)}) DO UPDATE SET {added}"
    )


def _row_changes(row: str, sign: str, dialect: str) -> list[str]:
    return [_upsert(target, sign) for target in _targets(row, dialect)]


def install_triggers(dialect: str) -> list[str]:
    """Statements that create the triggers keeping the rollups current (after ``drop_triggers``)."""
    watched = ", ".join(WATCHED)
    if dialect == "postgresql":
        body = "\n".join(
            [
                f"IF {_PAUSED} THEN RETURN NULL; END IF;",
                "IF TG_OP <> 'INSERT' THEN",
                *(f"  {sql};" for sql in _row_changes("OLD", "-1", dialect)),
                "END IF;",
                "IF TG_OP <> 'DELETE' THEN",
                *(f"  {sql};" for sql in _row_changes("NEW", "1", dialect)),
                "END IF;",
                "RETURN NULL;",
            ]
        )
        return [
            f"CREATE FUNCTION {PG_FUNCTION} RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\nEND\n$$",
            f"CREATE TRIGGER order_rollup AFTER INSERT OR DELETE OR UPDATE OF {watched} ON {ORDERS} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}",
        ]
    when = f"WHEN NOT {_PAUSED}"
    old, new = _row_changes("OLD", "-1", dialect), _row_changes("NEW", "1", dialect)

    def trigger(name: str, event: str, statements: list[str]) -> str:
        body = "".join(f"  {sql};\n" for sql in statements)
        return f"CREATE TRIGGER {name} AFTER {event} ON {ORDERS} {when}\nBEGIN\n{body}END"

    insert_name, update_name, delete_name = TRIGGER_NAMES
    return [
        trigger(insert_name, "INSERT", new),
        trigger(update_name, f"UPDATE OF {watched}", [*old, *new]),
        trigger(delete_name, "DELETE", old),
    ]


def drop_triggers(dialect: str) -> list[str]:
    """Statements that remove the triggers (and PostgreSQL's function), if they exist."""
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS order_rollup ON {ORDERS}", f"DROP FUNCTION IF EXISTS {PG_FUNCTION}"]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGER_NAMES]


def grouped(dialect: str) -> list[tuple[str, list[str], str]]:
    """For each rollup: (table, its columns, a SELECT grouping the order table into exactly its rows)."""
    selects: dict[str, list[str]] = {}
    columns: dict[str, list[str]] = {}
    for target in _targets("", dialect):
        keys = [expr for _, expr in target.keys]
        sums = ["count(*)" if expr == "1" else f"sum({expr})" for _, expr in target.sums]
        # A constant (the grain) is selected but not grouped by: PostgreSQL refuses a string constant there.
        grouping = [expr for expr in keys if not expr.startswith("'")]
        select = f"SELECT {', '.join(keys + sums)} FROM {ORDERS} GROUP BY {', '.join(grouping)}"
        selects.setdefault(target.table, []).append(select)
        columns[target.table] = [name for name, _ in (*target.keys, *target.sums)]
    return [(table, columns[table], " UNION ALL ".join(parts)) for table, parts in selects.items()]


__all__ = ["WATCHED", "drop_triggers", "grouped", "install_triggers"]
