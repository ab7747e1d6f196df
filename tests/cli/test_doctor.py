"""``switchboard doctor`` against the fake Ollama: each start-up problem is named with the command that fixes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from switchboard.cli import app
from tests.utils.servers.ollama_api import OllamaApi
from tests.utils.servers.ports import free_port


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'switchboard.db'}")
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def _doctor(
    cli: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    host: str,
    model: str = "qwen2.5:7b-instruct",
) -> tuple[int, list[str]]:
    config = tmp_path / "switchboard.yaml"
    config.write_text(f"agent:\n  backend: ollama\n  ollama_host: {host}\n  ollama_model: {model}\n")
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config))
    result = cli.invoke(app, ["doctor"])
    return result.exit_code, [line.rstrip() for line in result.output.splitlines()]


def test_doctor_passes_when_everything_is_in_place(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ollama_api: OllamaApi
) -> None:
    code, lines = _doctor(cli, tmp_path, monkeypatch, ollama_api.url)
    assert (code, lines) == (
        0,
        [
            f"Ollama at {ollama_api.url}, model qwen2.5:7b-instruct:",
            f"  ok    server   Ollama answers at {ollama_api.url} (3 models)",
            "  ok    model    qwen2.5:7b-instruct is on the server",
            "  ok    tools    qwen2.5:7b-instruct's template supports tools",
            "  ok    context  the prompt needs 8,192 tokens of context; qwen2.5:7b-instruct holds 32,768",
        ],
    )
    assert [r.path for r in ollama_api.requests] == ["/api/tags", "/api/show"]


def test_doctor_names_a_server_that_does_not_answer(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = f"http://127.0.0.1:{free_port()}"
    code, lines = _doctor(cli, tmp_path, monkeypatch, host)
    assert (code, lines[1:]) == (
        1,
        [
            f"  FAIL  server   no Ollama server answered at {host}; start one with `ollama serve`, or set "
            "agent.ollama_host",
            "  --    model    not checked",
            "  --    tools    not checked",
            "  --    context  not checked",
        ],
    )


def test_doctor_names_a_missing_model_and_how_to_pull_it(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ollama_api: OllamaApi
) -> None:
    code, lines = _doctor(cli, tmp_path, monkeypatch, ollama_api.url, model="llama3.2:3b")
    assert (code, lines[2:]) == (
        1,
        [
            "  FAIL  model    the model llama3.2:3b is not on the server; run `ollama pull llama3.2:3b`",
            "  --    tools    not checked",
            "  --    context  not checked",
        ],
    )


def test_doctor_names_a_model_without_tool_support(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ollama_api: OllamaApi
) -> None:
    code, lines = _doctor(cli, tmp_path, monkeypatch, ollama_api.url, model="gemma:2b")
    assert (code, lines[3]) == (
        1,
        "  FAIL  tools    gemma:2b's template does not support tools (capabilities: completion); pick a "
        "tool-calling model: run `ollama pull qwen2.5:7b-instruct` and set agent.ollama_model",
    )


def test_doctor_reads_the_template_when_the_server_states_no_capabilities(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ollama_api: OllamaApi
) -> None:
    ollama_api.states_capabilities = False
    code, lines = _doctor(cli, tmp_path, monkeypatch, ollama_api.url, model="gemma:2b")
    assert (code, lines[3]) == (
        1,
        "  FAIL  tools    gemma:2b's template does not support tools; pick a tool-calling model: run "
        "`ollama pull qwen2.5:7b-instruct` and set agent.ollama_model",
    )
    code, lines = _doctor(cli, tmp_path, monkeypatch, ollama_api.url)
    assert (code, lines[3]) == (0, "  ok    tools    qwen2.5:7b-instruct's template supports tools")


def test_doctor_names_a_context_too_small_for_the_prompt(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ollama_api: OllamaApi
) -> None:
    ollama_api.context_lengths["qwen2.5:7b-instruct"] = 4_096
    code, lines = _doctor(cli, tmp_path, monkeypatch, ollama_api.url)
    assert (code, lines[4]) == (
        1,
        "  FAIL  context  the prompt needs about 8,192 tokens of context but qwen2.5:7b-instruct holds 4,096; "
        "pick a model with a longer context (`ollama show MODEL` prints it) and set agent.ollama_model",
    )


def test_doctor_with_the_embedded_backend_has_nothing_to_check(cli: CliRunner) -> None:
    result = cli.invoke(app, ["doctor"])
    assert (result.exit_code, result.output) == (
        0,
        "Backend: embedded (offline); there is no server to check. 'switchboard doctor --backend ollama' checks "
        "an Ollama server.\n",
    )
