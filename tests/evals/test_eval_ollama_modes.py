"""``switchboard eval --backend ollama --ollama-mode …``: the eval picks the mode, so the two can be compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.summary import Summary
from tests.evals.test_eval_cli import SMALL, config_with, flat, invoke
from tests.utils.servers.ollama_api import OllamaApi, decision, tool_call


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_CONFIG", raising=False)
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'sb.db'}")
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "1000")


@pytest.mark.parametrize("mode", ["structured", "tools"])
def test_the_eval_runs_the_chosen_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ollama_api: OllamaApi, mode: str
) -> None:
    monkeypatch.setenv(
        "SWITCHBOARD_CONFIG", str(config_with(tmp_path, f"agent:\n  ollama_host: {ollama_api.url}\n"))
    )
    ollama_api.default = (
        decision("list_runs", {}, choices=[{"list": 0.45, "run": 0.40}, {"_runs": 0.9}])
        if mode == "structured"
        else tool_call("list_runs")
    )
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in SMALL), encoding="utf-8")
    code, out, err = invoke("--dataset", str(path), "--json", "--backend", "ollama", "--ollama-mode", mode)
    assert code == 0, err
    summary = Summary.model_validate_json(out)
    assert (summary.backend, summary.n) == ("ollama", 4)
    sent = ollama_api.chat_requests
    assert len(sent) == 4
    if mode == "structured":
        assert all(
            r["logprobs"] is True and r["format"]["properties"]["tool"]["enum"][-1] == "none" for r in sent
        )
        assert not any(r.get("tools") for r in sent)
    else:
        assert all(r["tools"] and "format" not in r and "logprobs" not in r for r in sent)


def test_an_unknown_mode_is_refused() -> None:
    code, _, err = invoke("--backend", "ollama", "--ollama-mode", "json")
    assert code == 2
    assert "--ollama-mode 'json': use tools or structured" in flat(err)
