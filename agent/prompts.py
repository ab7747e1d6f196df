"""Loads the prompt and reply templates from prompts/ and computes the hash recorded with each decision."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Prompts:
    """Reply templates plus the system prompt for LLM backends, with a combined content hash."""

    templates: dict[str, str]
    system: str
    version: str
    hash: str

    def render(self, name: str, **values: Any) -> str:
        """Fill a template; unknown placeholders stay visible rather than raising."""
        return self.templates[name].format_map(_Missing(values))


def load_prompts(folder: Path = PROMPTS_DIR) -> Prompts:
    """Read replies.yaml and system.md; hash both so any change shows in the audit log."""
    replies_raw = (folder / "replies.yaml").read_bytes()
    system_path = folder / "system.md"
    system_raw = system_path.read_bytes() if system_path.exists() else b""
    data = yaml.safe_load(replies_raw)
    digest = hashlib.sha256(replies_raw + b"\0" + system_raw).hexdigest()[:16]
    return Prompts(
        templates={str(k): str(v) for k, v in data["templates"].items()},
        system=system_raw.decode("utf-8"),
        version=str(data.get("version", "0")),
        hash=digest,
    )
