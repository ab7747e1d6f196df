"""``switchboard eval`` end to end: bad input, refusals, BFCL (fake Ollama / none), and real embedded runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from evals.summary import Summary
from switchboard.app import App
from switchboard.commands import eval_cmd
from switchboard.settings import DEFAULT_CONFIG
from tests.evals.fakes import write_bfcl
from tests.utils.servers.ollama_api import OllamaApi, tool_call
from tests.utils.servers.ports import free_port


def cli() -> typer.Typer:
    """The real CLI when it registers ``eval``, else the same command on a bare root."""
    from switchboard.cli import app

    if any(command.name == "eval" for command in app.registered_commands):
        return app
    root = typer.Typer(pretty_exceptions_enable=False)

    @root.callback()
    def _root(ctx: typer.Context) -> None:
        ctx.obj = App()

    eval_cmd.register(root)
    return root


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli(), ["eval", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'sb.db'}")
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "1000")  # one error message, one line


def config_with(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "switchboard.yaml"
    path.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8") + "\n" + extra, encoding="utf-8")
    return path


def flat(text: str) -> str:
    return " ".join(text.split())


def test_missing_dataset_file(tmp_path: Path) -> None:
    code, _, err = invoke("--dataset", str(tmp_path / "nope.jsonl"))
    assert code == 2
    assert flat(err) == f"Error: dataset file {tmp_path / 'nope.jsonl'} does not exist"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "hi", "tool": null', "not valid JSON (Expecting ',' delimiter)"),
        ('{"text": "hi", "tool": "make_coffee", "args": {}}', "unknown tool 'make_coffee'"),
        (
            '{"text": "hi", "tool": "run_report", "args": {"colour": "red"}}',
            "run_report has no argument 'colour'",
        ),
    ],
)
def test_bad_lines_are_named_without_traceback(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text('{"text": "hello there", "tool": null, "args": {}}\n' + line + "\n", encoding="utf-8")
    code, out, err = invoke("--dataset", str(path), "--json")
    assert code == 2
    assert flat(err) == f"Error: {path}:2: {message}"
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--tune", "--split", "test"],
            "--tune always uses the project dev split (tuning on test is not allowed)",
        ),
        (["--tune", "--dataset", "x.jsonl"], "--tune always uses the project dev split"),
        (["--write-baseline", "--split", "test"], "the baseline is measured on the project dev split"),
        (["--check-baseline", "--dataset", "x.jsonl"], "the baseline is measured on the project dev split"),
        (["--write"], "--write only goes with --tune"),
        (["--tune", "--check-baseline"], "use one of --tune, --check-baseline/--write-baseline, --benchmark"),
        (["--backend", "gpt"], "--backend 'gpt': use embedded or ollama"),
        (["--today", "yesterday"], "--today 'yesterday' is not a date (YYYY-MM-DD)"),
        (["--tune", "--write"], "refusing to edit the packaged default config"),
    ],
)
def test_refusals(args: list[str], message: str) -> None:
    code, _, err = invoke(*args)
    assert code == 2
    assert message in flat(err)


def test_bfcl_skipped_without_ollama(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config_with(tmp_path, f"agent:\n  ollama_host: {host}\n")))
    code, out, _ = invoke("--benchmark", "bfcl", "--datasets-dir", str(tmp_path))
    assert (code, out.strip()) == (0, f"skipped: no Ollama at {host}")


def test_bfcl_against_fake_ollama(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ollama_api: OllamaApi
) -> None:
    monkeypatch.setenv(
        "SWITCHBOARD_CONFIG", str(config_with(tmp_path, f"agent:\n  ollama_host: {ollama_api.url}\n"))
    )
    write_bfcl(tmp_path / "bfcl-v3")
    ollama_api.enqueue(
        tool_call("geometry_area", base=10, height=5),
        tool_call("geometry_area", base=10, height=7),
        tool_call("weather_get", city="Paris"),
        tool_call("weather_get", city="Rome"),
    )
    code, out, _ = invoke("--benchmark", "bfcl", "--datasets-dir", str(tmp_path), "--json")
    assert code == 0
    report = json.loads(out)
    assert {k: (v["correct"], v["n"]) for k, v in report["categories"].items()} == {
        "simple": (2, 2),
        "multiple": (1, 1),
        "irrelevance": (0, 1),
    }
    assert report["failures"] == [{"id": "irrelevance_0", "error": "made 1 call(s) where none was relevant"}]


SMALL = [
    {
        "text": "show me sales by region for last month",
        "tool": "run_report",
        "args": {"report": "sales_by_region", "period": "last_month"},
    },
    {"text": "what's the status of run 57", "tool": "get_run_status", "args": {"run_id": 57}},
    {"text": "write me a poem about the sea", "tool": None, "args": {}},
    {
        "text": "now just emea",
        "tool": "run_report",
        "args": {"report": "sales_by_region", "region": "emea"},
        "context": [
            {"role": "user", "text": "sales by region last month"},
            {"role": "assistant", "tool": "run_report", "args": {"report": "sales_by_region"}},
        ],
    },
]


def test_eval_json_and_report_with_the_embedded_backend(tmp_path: Path) -> None:
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in SMALL), encoding="utf-8")
    code, out, err = invoke(
        "--dataset", str(path), "--json", "--report", str(tmp_path / "report"), "--backend", "embedded"
    )
    assert code == 0, err
    summary = Summary.model_validate_json(out)
    assert summary.n == 4 and (summary.n_oos, summary.n_followups) == (1, 1)
    assert summary.backend == "embedded"
    assert summary.datasets == [str(path)]
    for key in (
        "tool_accuracy",
        "args_exact_match",
        "oos_precision",
        "oos_recall",
        "ece",
        "latency_ms_p50",
        "latency_ms_p95",
        "n",
        "macro_f1",
        "false_refusal_rate",
        "auto_execute_share",
        "wrong_execution_rate",
        "per_tool",
    ):
        assert key in json.loads(out)
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [
        "confusion.png",
        "coverage.png",
        "errors.jsonl",
        "reliability.png",
        "report.html",
        "report.md",
        "summary.json",
    ]
    errors = (tmp_path / "report" / "errors.jsonl").read_text().splitlines()
    assert len(errors) == summary.errors


def test_check_baseline_fails_on_a_regression(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A baseline above what the backend reaches must fail the gate, naming the metric and the drop."""
    # The dev split stands in as three rows, one labelled with a tool no router would pick for it: the CLI's gate
    # path is under test here (the whole split costs half a minute, and test_gate.py runs it for real).
    rows = [
        {"text": "show me last month's sales by region", "tool": "run_report"},
        {"text": "list the failed runs", "tool": "list_runs"},
        {"text": "hi there", "tool": "create_order"},
    ]
    split = tmp_path / "three.jsonl"
    split.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    monkeypatch.setattr("evals.commands.default_paths", lambda _split: [split])
    baseline = tmp_path / "baseline.json"
    baseline.write_text(
        json.dumps(
            {
                "metrics": {"tool_accuracy": 1.0, "args_exact_match": None, "oos_recall": None},
                "floors": {"per_tool_f1": 0.0},
            }
        ),
        encoding="utf-8",
    )
    code, out, err = invoke("--check-baseline", "--baseline", str(baseline), "--json")
    assert (code, json.loads(out)["tool_accuracy"]) == (1, pytest.approx(2 / 3, abs=0.001))
    assert "REGRESSION tool_accuracy fell 33.3 points: 100.0 % → 66.7 % (lowest allowed 99.0 %)" in flat(err)


@pytest.mark.slow
def test_tune_writes_thresholds_to_a_copied_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every tenth row of the dev split: enough for a proposal per risk, at a tenth of the cost.
    dev = (
        (Path(__file__).parents[2] / "evals" / "datasets" / "switchboard" / "dev.jsonl")
        .read_text()
        .splitlines()
    )
    sample = tmp_path / "sample.jsonl"
    sample.write_text("\n".join(dev[::10]) + "\n", encoding="utf-8")
    monkeypatch.setattr("evals.commands.default_paths", lambda _split: [sample])
    copy = tmp_path / "mine.yaml"
    shutil.copy(DEFAULT_CONFIG, copy)
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(copy))
    code, out, err = invoke("--tune", "--write", "--json", "--target-precision", "0.95")
    assert code == 0, err
    outcome = json.loads(out)
    assert outcome["config_file"] == str(copy)
    assert outcome["written_version"] == "2026.11-2"
    assert [p["risk"] for p in outcome["proposals"]] == ["read", "write", "external"]
    written = copy.read_text(encoding="utf-8")
    assert 'version: "2026.11-2"' in written
    assert [p["proposed"] is not None for p in outcome["proposals"]].count(True) >= 2, outcome["proposals"]
    for proposal in outcome["proposals"]:
        if proposal["proposed"] is not None:
            assert proposal["precision"] >= 0.95
            assert f"{proposal['threshold']}: {proposal['proposed']}" in written


INTENTS = {
    "weather": [
        "what's the weather in {}",
        "will it rain in {} tomorrow",
        "forecast for {}",
        "is it cold in {}",
        "how hot is it in {} today",
        "temperature in {} this weekend",
    ],
    "music": [
        "play some jazz by {}",
        "put on the latest album of {}",
        "play songs by {}",
        "shuffle {} tracks",
        "I want to hear {}",
        "start the {} playlist",
    ],
    "restaurant": [
        "book a table at {}",
        "reserve dinner for two at {}",
        "get me a table at {} tonight",
        "make a lunch reservation at {}",
        "book {} for four people",
        "table for six at {} please",
    ],
}
NAMES = ["Paris", "Rome", "Oslo", "Lima"]


def write_intents(directory: Path) -> Path:
    directory.mkdir()
    train = [{"text": t.format(n), "intent": i} for i, ts in INTENTS.items() for t in ts for n in NAMES[:3]]
    test = [{"text": t.format(NAMES[3]), "intent": i} for i, ts in INTENTS.items() for t in ts[:2]]
    test.append({"text": "what is the meaning of life", "intent": "oos"})
    for name, rows in (("train", train), ("test", test)):
        (directory / f"{name}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
        )
    return directory


def test_intent_benchmark_on_any_folder(tmp_path: Path) -> None:
    code, out, err = invoke("--intent-benchmark", str(write_intents(tmp_path / "mine")), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["name"], result["n_train"], result["n_test"], result["n_test_oos"]) == ("mine", 54, 7, 1)
    assert result["calibrated_on"] == "out-of-fold train"
    for key in ("in_scope_accuracy", "macro_f1", "oos_recall", "threshold"):
        assert key in result


def test_intent_benchmark_bad_line(tmp_path: Path) -> None:
    directory = write_intents(tmp_path / "mine")
    with (directory / "test.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"text": "hello"}\n')
    code, _, err = invoke("--intent-benchmark", str(directory))
    assert code == 2
    assert flat(err).startswith(f"Error: {directory / 'test.jsonl'}:8: expected")


def test_unknown_benchmark(tmp_path: Path) -> None:
    code, _, err = invoke("--benchmark", "glue", "--datasets-dir", str(tmp_path))
    assert (code, flat(err)) == (2, "Error: --benchmark 'glue': use clinc150, snips or bfcl")


def test_with_db_resolves_names_that_the_database_free_mode_cannot(tmp_path: Path) -> None:
    """ "Vertex Components" is a demo customer (seed 7): only ``--with-db`` can fill its id, as the runtime would."""
    from sqlmodel import Session, select

    from core.store.db import make_engine
    from core.store.models import Customer
    from core.store.schema import init_db
    from evals.dataset import REFERENCE_DATE
    from flows.demo.data import load_demo
    from switchboard.settings import load_settings

    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    init_db(engine)
    load_demo(engine=engine, settings=load_settings(var_dir=tmp_path / "v"), today=REFERENCE_DATE)
    with Session(engine) as session:
        client = session.exec(select(Customer.id).where(Customer.name == "Vertex Components")).one()
    engine.dispose()
    path = tmp_path / "named.jsonl"
    row = {
        "text": "what would Vertex Components pay for 250 hex bolts m8",
        "tool": "quote_price",
        "args": {"client_id": client, "product": "A100X", "quantity": 250},
    }
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    results = {}
    for mode in ([], ["--with-db"]):
        code, out, err = invoke("--dataset", str(path), "--json", *mode)
        assert code == 0, err
        results[bool(mode)] = Summary.model_validate_json(out).args_exact_match
    assert results == {False: 0.0, True: 1.0}
