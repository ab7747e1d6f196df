"""Run every benchmark and print one table: ``python -m benchmarks`` (or ``make bench`` / ``switchboard bench``).

The scale benchmark is long (tens of minutes) and runs only when named: ``python -m benchmarks --only scale``.

Targets are goals from the issues; each row says whether this run met it. Where a same-run baseline exists (raw
sqlite3 for ingest, a bare health endpoint for the console), the ratio is what to compare across machines.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from benchmarks import core


def _rows() -> list[
    tuple[
        str, Callable[[], dict[str, Any]], Callable[[dict[str, Any]], list[tuple[str, str, str, bool | None]]]
    ]
]:
    from benchmarks.console_load import bench_console
    from benchmarks.ingest import bench_ingest
    from benchmarks.reports import bench_reports
    from benchmarks.scale import bench_scale
    from benchmarks.tracing import bench_tracing_off

    def ingest(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
        return [
            (
                "ingest 200k-row CSV",
                f"{r['ours_rows_per_s']:,} rows/s vs raw {r['raw_rows_per_s']:,} = {r['ratio']}× "
                f"(CPU {r['cpu_ratio']}×)",
                "≥ 0.6× raw",
                r["ratio"] >= 0.6,
            ),
            ("ingest peak RSS growth", f"{r['peak_rss_growth_mb']} MB", "bounded", True),
        ]

    def audit(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
        return [
            (
                "audit appends, batched",
                f"{r['batched_per_s']:,}/s",
                "≥ 20,000/s",
                r["batched_per_s"] >= 20_000,
            ),
            (
                "audit appends, 1 per transaction",
                f"{r['single_per_s']:,}/s",
                "≥ 2,000/s",
                r["single_per_s"] >= 2_000,
            ),
            (
                "audit chain verify",
                f"{r['verify_per_s']:,} records/s",
                "≥ 100,000/s",
                r["verify_per_s"] >= 100_000,
            ),
            (
                "audit checkpoint after 1,000 records (recompute + sign)",
                f"{r['checkpoint_1000_ms']} ms",
                "",
                None,
            ),
            (
                "audit verify against signed checkpoints",
                f"{r['verify_with_checkpoints_per_s']:,} records/s",
                "≥ 100,000/s",
                r["checkpoints_ok"] and r["verify_with_checkpoints_per_s"] >= 100_000,
            ),
        ]

    def reports(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
        worst = max(r["rows"], key=lambda row: row["p95_ms"])
        return [
            (
                "report query p95 (worst report)",
                f"{worst['p95_ms']} ms ({worst['report']}, {worst['period']})",
                "≤ 20 ms",
                r["ok"],
            )
        ]

    def decisions(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
        return [
            ("embedded decision p50", f"{r['p50_ms']} ms", "≤ 15 ms", r["p50_ms"] <= 15),
            ("embedded decision p95", f"{r['p95_ms']} ms", "≤ 40 ms", r["p95_ms"] <= 40),
            ("cold start to first decision", f"{r['cold_start_s']} s", "≤ 5 s", r["cold_start_s"] <= 5),
            ("decider process RSS", f"{r['decider_rss_mb']} MB", "≤ 600 MB", r["decider_rss_mb"] <= 600),
        ]

    def approvals(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
        return [
            ("approval round trip p95", f"{r['p95_ms']} ms (p50 {r['p50_ms']})", "≤ 40 ms", r["p95_ms"] <= 40)
        ]

    def console(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
        one = r["one_worker"]
        return [
            (
                "chat turn over HTTP p95 (read tool, serial, 2 workers)",
                f"{r['turn_p95_ms']:.1f} ms (p50 {r['turn_p50_ms']:.1f}; /health p50 {r['health_p50_ms']:.1f} ms)",
                "≤ 60 ms",
                r["turn_p95_ms"] <= 60,
            ),
            (
                "chat turns/s at concurrency 16, 2 workers",
                f"{r['turns_per_s']:.0f}/s, median of {'/'.join(f'{x:.0f}' for x in r['rounds_per_s'])} "
                f"(/health {r['health_per_s']:.0f}/s; 1 worker {one['turns_per_s']:.0f}/s)",
                "≥ 150/s",
                r["turns_per_s"] >= 150,
            ),
            (
                "server CPU per chat turn (serial; at concurrency 16)",
                f"{r['server_cpu_ms_per_serial_turn']:.1f} ms; {r['server_cpu_ms_per_turn']:.1f} ms "
                f"(/health {r['server_cpu_ms_per_health']:.2f} ms; client {r['client_cpu_ms_per_turn']:.2f} ms)",
                "",
                None,
            ),
            (
                "largest serving process RSS after the load (2 workers)",
                f"{r['largest_process_rss_mb']:.0f} MB (1 worker: {one['largest_process_rss_mb']:.0f} MB)",
                "≤ 600 MB",
                r["largest_process_rss_mb"] <= 600,
            ),
        ]

    def durable(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
        return [
            (
                "durable action overhead p95 (SQLite, vs direct)",
                f"{r['overhead_p95_ms']} ms (durable p95 {r['durable_p95_ms']}, direct p95 {r['direct_p95_ms']}; "
                f"p50 +{r['overhead_p50_ms']})",
                "≤ 25 ms",
                r["overhead_p95_ms"] <= 25,
            )
        ]

    def hosts(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
        return [
            (
                "3 consoles + 2 bots on PostgreSQL, chaos: executed / expected",
                f"{r['executed']} / {r['expected']} ({r['duplicates']} duplicates, {r['lost']} lost, "
                f"{r['kills']} kills; approve→executed p95 {r['approve_to_executed_p95_ms']} ms)",
                "equal, 0 dup",
                r["executed"] == r["expected"] and r["duplicates"] == 0 and r["lost"] == 0,
            ),
            (
                "approved executions/s across 3 processes (PostgreSQL)",
                f"{r['approved_executions_per_s']}/s ({r['rate_duplicates']} duplicates)",
                "≥ 50/s",
                (r["approved_executions_per_s"] or 0) >= 50 and r["rate_duplicates"] == 0,
            ),
        ]

    def scale(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
        rows: list[tuple[str, str, str, bool | None]] = []
        for db in r["databases"]:
            top, name = db["steps"][-1], f"({db['database']}, {db['top_orders']:,} orders)"
            worst = top["reports"]["worst"]
            rows += [
                (
                    f"scale: report p95, worst of 6 × 5 periods {name}",
                    f"{worst['p95_ms']} ms ({worst['report']}, {worst['period']})",
                    "≤ 100 ms",
                    db["reports_ok"],
                ),
                (
                    f"scale: chat turn p95, last_year sales_by_region {name}",
                    f"{top['turn_p95_ms']} ms",
                    "≤ 300 ms",
                    db["turn_ok"],
                ),
                (
                    f"scale: export orders last_year csv {name}",
                    f"{top['export']['rows_per_s']:,} rows/s ({top['export']['rows']:,} rows)",
                    f"≥ {db['export_goal'] // 1000}k/s",
                    db["export_ok"],
                ),
                (
                    f"scale: ingest daily files, top size vs 200k {name}",
                    f"{top['ingest']['rows_per_s'] or 0:,} rows/s = {db['ingest_ratio'] or '-'}× the 200k step",
                    "≥ 0.8×",
                    db["ingest_ok"],
                ),
                (
                    f"scale: one scattered file at the top size {name}",
                    f"{db['scattered']['rows_per_s']:,} rows/s ({db['scattered']['rows']:,} rows)",
                    "",
                    None,
                ),
                (
                    f"scale: audit verify {name}",
                    f"{top['verify']['records_per_s']:,} records/s ({top['verify']['records']:,} records)",
                    "",
                    None,
                ),
            ]
        rows += [(f"scale: {db} skipped", "no server on 127.0.0.1:5432", "", None) for db in r["skipped"]]
        return rows

    def tracing_off(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
        return [
            (
                "tracing off: one span vs a bare call",
                f"{r['span_off_ns']} ns vs {r['bare_call_ns']} ns; {r['per_turn_us']} µs per turn of 20 spans",
                "≤ 1 µs/span",
                r["span_off_ns"] <= 1000,
            )
        ]

    from benchmarks.durable import bench_durable
    from benchmarks.hosts import simulate

    return [
        ("ingest", bench_ingest, ingest),
        ("audit", core.bench_audit, audit),
        ("reports", bench_reports, reports),
        ("decisions", core.bench_decisions, decisions),
        ("approvals", core.bench_approvals, approvals),
        ("console", bench_console, console),
        ("durable", bench_durable, durable),
        ("tracing", bench_tracing_off, tracing_off),
        ("hosts", simulate, hosts),
        ("scale", bench_scale, scale),
    ]


# Run only when named with --only: it grows the demo to 2M orders on SQLite and PostgreSQL (tens of minutes).
OPT_IN = frozenset({"scale"})


def main() -> None:
    """Run the selected benchmarks and print the table (and JSON with --json)."""
    from benchmarks.scale import bench_scale
    from benchmarks.scale import print_table as print_scale_table

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        nargs="*",
        help="ingest audit reports decisions approvals console durable tracing hosts scale (scale runs only when named)",
    )
    parser.add_argument(
        "--big", action="store_true", help="scale: grow to 500x the demo (10M orders), not 100x"
    )
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    table: list[tuple[str, str, str, bool | None]] = []
    raw: dict[str, Any] = {}
    for name, run, rows in _rows():
        if (name not in options.only) if options.only else (name in OPT_IN):
            continue
        if name == "scale":
            result = bench_scale(big=options.big)
            print_scale_table(result)  # size by size, before the goals
        else:
            result = run()
        raw[name] = result
        table.extend(rows(result))
    width = max(len(row[0]) for row in table)
    print(f"{'benchmark':<{width}}  {'measured':<60}  {'goal':<12}  met")
    for label, measured, goal, ok in table:
        print(f"{label:<{width}}  {measured:<60}  {goal:<12}  {'' if ok is None else 'yes' if ok else 'NO'}")
    if options.json:
        print(json.dumps(raw, indent=2, default=str))


if __name__ == "__main__":
    main()
