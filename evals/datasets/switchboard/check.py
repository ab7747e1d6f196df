"""Validate the Switchboard eval dataset (the files of splits.json) and print its counts.

Stdlib only, so it runs before anything is installed:

    python evals/datasets/switchboard/check.py [--dir DIR] [--json]

Exit status 0 when every line is valid and the coverage minimums of issue 5 hold, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REFERENCE_DATE = dt.date(2026, 11, 22)
# Which files make up each split: the same table evals/dataset.py reads.
SPLIT_FILES = {
    split: tuple(files)
    for split, files in json.loads(
        (Path(__file__).parent / "splits.json").read_text(encoding="utf-8")
    ).items()
}
SPLITS = tuple(SPLIT_FILES)
MIN_TOTAL = 700
MIN_PER_TOOL = 30
MIN_OOS = 150
MIN_FOLLOWUPS = 50

PERIOD_KEYWORDS = frozenset(
    {
        "today",
        "yesterday",
        "this_week",
        "last_week",
        "this_month",
        "last_month",
        "this_quarter",
        "last_quarter",
        "this_year",
        "last_year",
        "last_7_days",
        "last_30_days",
        "last_90_days",
    }
)
REGIONS = frozenset({"emea", "apac", "latam", "north_america"})
DATASETS = frozenset({"customers", "products", "orders"})
FLOWS = frozenset({"nightly_sales_export", "customer_sync", "invoice_run"})
SKU_RE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
RANGE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
CRON_ITEM_RE = re.compile(r"^(\*|\d+(?:-\d+)?)(?:/(\d+))?$")
CRON_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))

Check = Callable[[Any], str | None]


def _enum(*values: str) -> Check:
    allowed = frozenset(values)
    return lambda v: None if v in allowed else f"must be one of {sorted(allowed)}"


def _pos_int(v: Any) -> str | None:
    # bool is an int subclass; a JSON true must not pass as a quantity.
    ok = isinstance(v, int) and not isinstance(v, bool) and v > 0
    return None if ok else "must be a positive integer"


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _text(v: Any) -> str | None:
    if not isinstance(v, str) or not v.strip():
        return "must be a non-empty string"
    return None if v == v.strip() else "must be trimmed"


def _folded(v: Any) -> str | None:
    return _text(v) or (None if v == v.casefold() else "must be casefolded")


def _sku(v: Any) -> str | None:
    return None if isinstance(v, str) and SKU_RE.match(v) else "must be an upper-case SKU"


def check_period(v: Any) -> str | None:
    """Return an error when ``v`` is not a period keyword or a past inclusive date range."""
    if v in PERIOD_KEYWORDS:
        return None
    m = RANGE_RE.match(v) if isinstance(v, str) else None
    if not m:
        return "must be a period keyword or YYYY-MM-DD..YYYY-MM-DD"
    try:
        start, end = (dt.date.fromisoformat(g) for g in m.groups())
    except ValueError:
        return "has an invalid calendar date"
    if start > end:
        return "range starts after it ends"
    return None if end <= REFERENCE_DATE else f"range ends after the reference date {REFERENCE_DATE}"


def check_cron(v: Any) -> str | None:
    """Return an error when ``v`` is not a canonical 5-field cron expression."""
    if not isinstance(v, str) or v != " ".join(v.split()):
        return "must be a string with single spaces and no padding"
    fields = v.split(" ")
    if len(fields) != 5:
        return "must have exactly 5 fields"
    for field, (low, high) in zip(fields, CRON_BOUNDS, strict=True):
        for item in field.split(","):
            m = CRON_ITEM_RE.match(item)
            if not m:
                return f"has an invalid field {field!r}"
            numbers = [int(n) for n in re.findall(r"\d+", m.group(1))]
            if any(n < low or n > high for n in numbers) or numbers != sorted(numbers):
                return f"has an out-of-range field {field!r}"
            if m.group(2) is not None and int(m.group(2)) == 0:
                return f"has a zero step in {field!r}"
    return None


CATALOGUE: dict[str, dict[str, Check]] = {
    "run_report": {
        "report": _enum(
            "sales_by_region",
            "sales_by_product",
            "top_customers",
            "revenue_trend",
            "order_status",
            "data_quality",
        ),
        "period": check_period,
        "region": _enum(*REGIONS),
        "limit": _pos_int,
    },
    "lookup_customer": {"query": _folded},
    "quote_price": {"client_id": _pos_int, "product": _sku, "quantity": _pos_int},
    "get_run_status": {"run_id": _pos_int, "flow": _enum(*FLOWS)},
    "list_runs": {
        "status": _enum("failed", "succeeded", "running", "pending"),
        "period": check_period,
    },
    "list_pending_approvals": {},
    "explain_rule": {"rule": _enum("vip_customer", "credit_hold", "bulk_discount")},
    "ingest_file": {"path": _text, "dataset": _enum(*DATASETS), "mode": _enum("append", "replace")},
    "normalize_dataset": {"dataset": _enum(*DATASETS), "dry_run": _bool},
    "apply_rules": {"ruleset": _enum("vip_tiering", "credit_hold"), "dry_run": _bool},
    "export_dataset": {
        "dataset": _enum(*DATASETS, "sales_by_region"),
        "format": _enum("csv", "xml", "json", "dat"),
        "period": check_period,
    },
    "run_flow": {"flow": _enum(*FLOWS)},
    "retry_run": {"run_id": _pos_int},
    "schedule_flow": {"flow": _enum(*FLOWS), "cron": check_cron},
    "create_order": {"client_id": _pos_int, "product": _sku, "quantity": _pos_int},
    "deliver_file": {
        "file": _text,
        "destination": _enum("bank_sftp", "partner_sftp", "finance_share", "erp_webhook"),
    },
    "send_notification": {
        "channel": _enum("telegram", "email", "webhook"),
        "recipient": _text,
        "message": _text,
    },
}


def validate_call(tool: Any, args: Any) -> list[str]:
    """Validate a tool name (or None for out of scope) and its checked arguments."""
    if tool is None:
        return [] if args == {} else ["out-of-scope rows must have empty args"]
    if tool not in CATALOGUE:
        return [f"unknown tool {tool!r}"]
    if not isinstance(args, dict):
        return ["args must be an object"]
    spec = CATALOGUE[tool]
    errors = []
    for name, value in args.items():
        if name not in spec:
            errors.append(f"{tool} has no argument {name!r}")
        elif (problem := spec[name](value)) is not None:
            errors.append(f"{tool}.{name}={value!r} {problem}")
    return errors


def validate_turn(turn: Any) -> list[str]:
    """Validate one previous turn of a follow-up's context."""
    if not isinstance(turn, dict):
        return ["context turn must be an object"]
    if turn.get("role") == "user":
        extra = set(turn) - {"role", "text"}
        errors = [f"user turn has unknown keys {sorted(extra)}"] if extra else []
        return errors + [f"user turn text {p}" for p in [_text(turn.get("text"))] if p]
    if turn.get("role") == "assistant":
        extra = set(turn) - {"role", "tool", "args", "text", "run_id"}  # run_id: the run the call started
        errors = [f"assistant turn has unknown keys {sorted(extra)}"] if extra else []
        run_id = turn.get("run_id")
        if run_id is not None and (not isinstance(run_id, int) or isinstance(run_id, bool) or run_id < 1):
            errors.append(f"assistant turn run_id {run_id!r} is not a positive integer")
        return errors + validate_call(turn.get("tool"), turn.get("args", {}))
    return ["context turn role must be 'user' or 'assistant'"]


def validate_example(row: Any) -> list[str]:
    """Validate one dataset line, already parsed from JSON."""
    if not isinstance(row, dict):
        return ["line must be a JSON object"]
    errors = []
    extra = set(row) - {"text", "tool", "args", "context"}
    if extra:
        errors.append(f"unknown keys {sorted(extra)}")
    if missing := {"text", "tool", "args"} - set(row):
        errors.append(f"missing keys {sorted(missing)}")
    if problem := _text(row.get("text")):
        errors.append(f"text {problem}")
    errors += validate_call(row.get("tool"), row.get("args"))
    if "context" in row:
        context = row["context"]
        if not isinstance(context, list) or not context:
            errors.append("context must be a non-empty list")
        else:
            for turn in context:
                errors += validate_turn(turn)
    return errors


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def check_dir(directory: Path) -> tuple[dict[str, Any], list[str]]:
    """Validate every split in ``directory`` and return (summary, errors)."""
    errors: list[str] = []
    seen: dict[str, tuple[str, str]] = {}
    per_tool: dict[str, Counter[str]] = {name: Counter() for name in CATALOGUE}
    oos: Counter[str] = Counter()
    followups: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for split, path in ((split, directory / name) for split, names in SPLIT_FILES.items() for name in names):
        if not path.is_file():
            errors.append(f"{path}: missing")
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.name}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: invalid JSON ({exc.msg})")
                continue
            problems = validate_example(row)
            errors += [f"{where}: {p}" for p in problems]
            if problems:
                continue
            key = _key(row["text"]) + "\0" + json.dumps(row.get("context"), sort_keys=True)
            # Each file was written by other hands: a short generic text ("load orders_today.csv") may occur in
            # two of them; anything longer, or any repeat inside one file, is a copy.
            if key in seen and (seen[key][0] == path.name or len(_key(row["text"]).split()) > 3):
                errors.append(f"{where}: duplicate text, first seen at {seen[key][1]}")
            seen.setdefault(key, (path.name, where))
            sizes[split] += 1
            followups[split] += "context" in row
            if row["tool"] is None:
                oos[split] += 1
            else:
                per_tool[row["tool"]][split] += 1
    summary = {
        "n": sum(sizes.values()),
        "splits": dict(sizes),
        "out_of_scope": dict(oos),
        "followups": dict(followups),
        "per_tool": {name: dict(c) for name, c in per_tool.items()},
    }
    errors += _coverage_errors(per_tool, oos, followups, sizes)
    return summary, errors


def _coverage_errors(
    per_tool: dict[str, Counter[str]],
    oos: Counter[str],
    followups: Counter[str],
    sizes: Counter[str],
) -> list[str]:
    errors = []
    if sum(sizes.values()) < MIN_TOTAL:
        errors.append(f"only {sum(sizes.values())} utterances, need {MIN_TOTAL}")
    if sum(oos.values()) < MIN_OOS:
        errors.append(f"only {sum(oos.values())} out-of-scope rows, need {MIN_OOS}")
    if sum(followups.values()) < MIN_FOLLOWUPS:
        errors.append(f"only {sum(followups.values())} follow-ups, need {MIN_FOLLOWUPS}")
    for name, counts in per_tool.items():
        if sum(counts.values()) < MIN_PER_TOOL:
            errors.append(f"{name}: only {sum(counts.values())} rows, need {MIN_PER_TOOL}")
    # Stratification: every class must be measurable on both splits.
    for split in SPLITS:
        missing = [name for name, counts in per_tool.items() if counts[split] == 0]
        if missing:
            errors.append(f"{split}: no rows for {missing}")
        if oos[split] == 0 or followups[split] == 0:
            errors.append(f"{split}: needs both out-of-scope rows and follow-ups")
    return errors


def _table(summary: dict[str, Any]) -> str:
    rows = [f"{'tool':<24}{'dev':>6}{'test':>6}{'total':>7}"]
    for name, counts in summary["per_tool"].items():
        dev, test = counts.get("dev", 0), counts.get("test", 0)
        rows.append(f"{name:<24}{dev:>6}{test:>6}{dev + test:>7}")
    for label, key in (("(out of scope)", "out_of_scope"), ("(follow-ups)", "followups")):
        dev, test = summary[key].get("dev", 0), summary[key].get("test", 0)
        rows.append(f"{label:<24}{dev:>6}{test:>6}{dev + test:>7}")
    dev, test = summary["splits"].get("dev", 0), summary["splits"].get("test", 0)
    rows.append(f"{'all':<24}{dev:>6}{test:>6}{dev + test:>7}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the checks and print counts; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    options = parser.parse_args(argv)
    summary, errors = check_dir(options.dir)
    out = json.dumps(summary, indent=2) if options.json else _table(summary)
    print(out)  # noqa: T201 - this is a command-line report
    for error in errors:
        print(f"ERROR {error}", file=sys.stderr)  # noqa: T201
    if not errors and not options.json:
        print("OK")  # noqa: T201
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
