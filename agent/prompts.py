"""Loads the prompt and reply templates from prompts/ and computes the hash recorded with each decision."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from agent.wording import Wording

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Prompts:
    """Reply templates plus the system prompt and per-turn note for LLM backends, with a combined content hash."""

    templates: dict[str, str]
    system: str
    version: str
    hash: str
    turn: str = "Today is {today}.\n\nExamples of correct calls for similar messages:\n{examples}\n"
    structured: str = (
        'Answer with one JSON object {"tool": ..., "args": {...}}; "none" for no tool.\n{tools}\n'
    )
    wording: Wording = Wording()

    def render(self, name: str, **values: Any) -> str:
        """Fill a template; unknown placeholders stay visible rather than raising."""
        return self.templates[name].format_map(_Missing(values))


def load_prompts(folder: Path = PROMPTS_DIR) -> Prompts:
    """Read replies.yaml, system.md, turn.md and structured.md; hash them so any change shows in the audit log."""
    replies_raw = (folder / "replies.yaml").read_bytes()
    system_raw = _read(folder / "system.md")
    turn_raw = _read(folder / "turn.md")
    structured_raw = _read(folder / "structured.md")
    data = yaml.safe_load(replies_raw)
    digest = hashlib.sha256(
        replies_raw
        + b"\0"
        + system_raw
        + b"\0"
        + turn_raw
        + (b"\0" + structured_raw if structured_raw else b"")
    ).hexdigest()[:16]
    prompts = Prompts(
        templates={str(k): str(v) for k, v in data["templates"].items()},
        system=system_raw.decode("utf-8"),
        version=str(data.get("version", "0")),
        hash=digest,
        wording=Wording.model_validate(
            {k: data[k] for k in ("tools", "values", "talk", "starters", "refusals") if k in data}
        ),
    )
    if turn_raw:
        prompts = replace(prompts, turn=turn_raw.decode("utf-8"))
    return replace(prompts, structured=structured_raw.decode("utf-8")) if structured_raw else prompts


def _read(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""
