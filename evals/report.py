"""The eval report: report.md, a self-contained report.html (plots inlined), summary.json and errors.jsonl.

Both documents are rendered from one list of blocks, so the markdown and the HTML always say the same thing.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.metrics import confusion
from evals.plots import confusion_png, coverage_png, reliability_png
from evals.runner import EvalResult
from evals.summary import Summary

MAX_ERRORS_SHOWN = 300


@dataclass(frozen=True)
class Block:
    """One piece of the report: a heading, a paragraph, a table or an image."""

    kind: str
    text: str = ""
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def pct(value: float | None) -> str:
    """A fraction as a percentage with one decimal, or a dash."""
    return "—" if value is None else f"{100 * value:.1f} %"


def ms(value: float | None) -> str:
    """Milliseconds with one decimal, or a dash."""
    return "—" if value is None else f"{value:.1f} ms"


def headline_rows(s: Summary) -> list[tuple[str, str]]:
    """The headline figures as (label, value) pairs; the CLI prints the same rows."""
    return [
        ("examples", str(s.n)),
        ("tool accuracy", pct(s.tool_accuracy)),
        ("macro-F1", pct(s.macro_f1)),
        ("argument exact-match", f"{pct(s.args_exact_match)} (n={s.args_n})"),
        ("out-of-scope precision", pct(s.oos_precision)),
        ("out-of-scope recall", pct(s.oos_recall)),
        ("in-scope false refusals", pct(s.false_refusal_rate)),
        ("follow-ups fully right", pct(s.followup_accuracy)),
        ("ECE (15 bins)", "—" if s.ece is None else f"{s.ece:.3f}"),
        ("latency p50 / p95", f"{ms(s.latency_ms_p50)} / {ms(s.latency_ms_p95)}"),
    ]


def runtime_rows(s: Summary) -> list[tuple[str, str]]:
    """What the policy gate would do at the runtime thresholds."""
    return [
        ("auto-executed", pct(s.auto_execute_share)),
        ("confirmed by the requester", pct(s.confirm_share)),
        ("sent to an approver", pct(s.approve_share)),
        ("asked back (clarify)", pct(s.clarify_share)),
        ("refused", pct(s.refuse_share)),
        ("accuracy of what auto-executes", pct(s.auto_execute_accuracy)),
        ("wrong auto-executions (of all)", pct(s.wrong_auto_execution_rate)),
        ("wrong calls reaching confirm/approve (of all)", pct(s.wrong_confirm_rate)),
        ("wrong-execution rate (both, of all)", pct(s.wrong_execution_rate)),
    ]


def _call(tool: str | None, args: dict[str, Any]) -> str:
    if tool is None:
        return "none"
    return f"{tool} {json.dumps(args, sort_keys=True, default=str)}" if args else tool


def error_records(result: EvalResult) -> list[dict[str, Any]]:
    """One record per wrong example: text, expected, got (checked arguments only), confidence, action."""
    records = []
    for o in result.errors:
        got_args = {name: o.predicted_args.get(name) for name in o.expected_args}
        records.append(
            {
                "source": o.source,
                "text": o.text,
                "expected": {"tool": o.expected_tool, "args": o.expected_args},
                "got": {
                    "tool": o.predicted_tool,
                    "args": got_args if o.predicted_tool == o.expected_tool else o.predicted_args,
                },
                "confidence": round(o.confidence, 4),
                "action": o.action,
                "wrong_args": sorted(name for name, ok in o.args_ok.items() if not ok)
                if o.tool_correct
                else [],
            }
        )
    return records


def build_blocks(result: EvalResult) -> list[Block]:
    """The report's content, in order."""
    s = result.summary
    labels, matrix = confusion(result.outcomes)
    meta = (
        f"Backend {s.backend or '?'} {s.model}, policy {s.policy_version}, role {s.role}, "
        f"reference date {s.today}."
    )
    blocks = [
        Block("h1", "Switchboard eval report"),
        Block("p", meta + " Datasets: " + ", ".join(s.datasets or ["(in memory)"]) + "."),
        Block("table", headers=("metric", "value"), rows=tuple(headline_rows(s))),
        Block("h2", "At the runtime thresholds"),
        Block(
            "p", "Each message went through the runtime planner (decision, argument validation, policy gate)."
        ),
        Block("table", headers=("outcome", "share"), rows=tuple(runtime_rows(s))),
        Block("h2", "Per tool"),
        Block(
            "table",
            headers=("class", "precision", "recall", "F1", "support", "args exact-match"),
            rows=tuple(
                (
                    name,
                    pct(t.precision),
                    pct(t.recall),
                    pct(t.f1),
                    str(t.support),
                    f"{pct(t.args_exact_match)} (n={t.args_n})",
                )
                for name, t in s.per_tool.items()
            ),
        ),
        Block("h2", "Per argument"),
        Block(
            "table",
            headers=("argument", "exact-match", "n"),
            rows=tuple((key, pct(v["accuracy"]), str(v["n"])) for key, v in s.per_argument.items()),
        ),
        Block("h2", "Calibration"),
        Block("img", "reliability.png"),
        Block(
            "table",
            headers=("confidence", "n", "mean confidence", "accuracy"),
            rows=tuple(
                (f"{b.low:.2f}–{b.high:.2f}", str(b.n), pct(b.confidence), pct(b.accuracy))
                for b in s.reliability
                if b.n
            ),
        ),
        Block("h2", "Coverage vs accuracy"),
        Block("img", "coverage.png"),
        Block(
            "table",
            headers=("threshold", "coverage", "accuracy"),
            rows=tuple((f"{p.threshold:.2f}", pct(p.coverage), pct(p.accuracy)) for p in s.coverage),
        ),
        Block("h2", "Confusion matrix"),
        Block("img", "confusion.png"),
        Block("p", "Rows are expected classes, columns predicted (numbered as the rows)."),
        Block(
            "table",
            headers=("expected \\ predicted", *[str(i + 1) for i in range(len(labels))]),
            rows=tuple(
                (f"{i + 1} {name}", *[str(c) if c else "·" for c in row])
                for i, (name, row) in enumerate(zip(labels, matrix, strict=True))
            ),
        ),
        Block("h2", f"Errors ({len(result.errors)})"),
    ]
    records = error_records(result)
    if len(records) > MAX_ERRORS_SHOWN:
        blocks.append(Block("p", f"The first {MAX_ERRORS_SHOWN} are shown; errors.jsonl has all of them."))
    blocks.append(
        Block(
            "table",
            headers=("text", "expected", "got", "confidence", "action"),
            rows=tuple(
                (
                    r["text"],
                    _call(r["expected"]["tool"], r["expected"]["args"]),
                    _call(r["got"]["tool"], r["got"]["args"]),
                    f"{r['confidence']:.2f}",
                    r["action"],
                )
                for r in records[:MAX_ERRORS_SHOWN]
            ),
        )
    )
    return blocks


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list[Block]) -> str:
    """Render blocks as GitHub markdown."""
    out: list[str] = []
    for b in blocks:
        if b.kind == "h1":
            out.append(f"# {b.text}")
        elif b.kind == "h2":
            out.append(f"## {b.text}")
        elif b.kind == "p":
            out.append(b.text)
        elif b.kind == "img":
            out.append(f"![{b.text}]({b.text})")
        elif b.kind == "table":
            out.append("| " + " | ".join(_cell(h) for h in b.headers) + " |")
            out.append("|" + "|".join("---" for _ in b.headers) + "|")
            out.extend("| " + " | ".join(_cell(v) for v in row) + " |" for row in b.rows)
        out.append("")
    return "\n".join(out)


def to_html(blocks: list[Block], images: dict[str, Path]) -> str:
    """Render blocks as one self-contained HTML page: images are base64 data URIs, no external resources."""
    body: list[str] = []
    for b in blocks:
        if b.kind in ("h1", "h2"):
            body.append(f"<{b.kind}>{html.escape(b.text)}</{b.kind}>")
        elif b.kind == "p":
            body.append(f"<p>{html.escape(b.text)}</p>")
        elif b.kind == "img":
            data = base64.b64encode(images[b.text].read_bytes()).decode("ascii")
            body.append(f'<img alt="{html.escape(b.text)}" src="data:image/png;base64,{data}">')
        elif b.kind == "table":
            head = "".join(f"<th>{html.escape(h)}</th>" for h in b.headers)
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in b.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;"
        "margin:1em 0;font-size:0.9em}th,td{border:1px solid #ccc;padding:0.25em 0.5em;text-align:left}"
        "th{background:#f3f3f3}img{max-width:100%;margin:1em 0}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Switchboard eval report</title>'
        f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_report(result: EvalResult, directory: Path) -> dict[str, Path]:
    """Write every report file into ``directory`` (created if needed) and return their paths by name."""
    directory.mkdir(parents=True, exist_ok=True)
    s = result.summary
    labels, matrix = confusion(result.outcomes)
    images = {
        "reliability.png": reliability_png(s.reliability, directory / "reliability.png", ece=s.ece),
        "coverage.png": coverage_png(s.coverage, directory / "coverage.png"),
        "confusion.png": confusion_png(labels, matrix, directory / "confusion.png"),
    }
    blocks = build_blocks(result)
    files = dict(images)
    files["report.md"] = directory / "report.md"
    files["report.md"].write_text(to_markdown(blocks), encoding="utf-8")
    files["report.html"] = directory / "report.html"
    files["report.html"].write_text(to_html(blocks, images), encoding="utf-8")
    files["summary.json"] = directory / "summary.json"
    files["summary.json"].write_text(s.model_dump_json(indent=2) + "\n", encoding="utf-8")
    files["errors.jsonl"] = directory / "errors.jsonl"
    files["errors.jsonl"].write_text(
        "".join(json.dumps(r, default=str) + "\n" for r in error_records(result)), encoding="utf-8"
    )
    return files
