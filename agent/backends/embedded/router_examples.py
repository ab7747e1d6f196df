"""Loading the router's training utterances from prompts/examples/*.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "prompts" / "examples"
OOS_FILE = "out_of_scope.yaml"
#: Router label of the out-of-scope class; not a tool name, and never returned as a prediction's label.
OOS_LABEL = "__out_of_scope__"


class ExampleFile(BaseModel):
    """One YAML file: a tool (None for out-of-scope negatives) and its utterances."""

    model_config = ConfigDict(extra="forbid")

    tool: str | None
    examples: list[str]


class ExampleFileError(ValueError):
    """An examples file is unreadable or malformed."""


def read_example_file(path: Path) -> ExampleFile:
    """Parse and validate one examples file.

    Raises:
        ExampleFileError: Invalid YAML or shape, or a file name that does not match its tool.
    """
    try:
        parsed = ExampleFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ExampleFileError(f"{path}: {exc}") from None
    expected = None if path.name == OOS_FILE else path.stem
    if parsed.tool != expected:
        raise ExampleFileError(f"{path}: tool is {parsed.tool!r}, expected {expected!r}")
    return parsed


def load_training_examples(
    directory: Path = EXAMPLES_DIR, *, tools: set[str] | None = None
) -> tuple[list[str], list[str]]:
    """Read every ``*.yaml`` in ``directory`` as router training data.

    Args:
        directory: Folder of example files.
        tools: Keep only these tools (plus the out-of-scope negatives); all when None.

    Returns:
        ``(texts, labels)``; out-of-scope negatives carry :data:`OOS_LABEL`. Duplicate texts are kept once.

    Raises:
        ExampleFileError: A malformed file, or one utterance listed under two different labels.
    """
    seen: dict[str, tuple[str, str]] = {}
    for path in sorted(directory.glob("*.yaml")):
        parsed = read_example_file(path)
        if tools is not None and parsed.tool is not None and parsed.tool not in tools:
            continue
        label = parsed.tool or OOS_LABEL
        for text in parsed.examples:
            key = " ".join(text.casefold().split())
            first = seen.setdefault(key, (text, label))
            if first[1] != label:
                raise ExampleFileError(f"{text!r} is listed under both {first[1]!r} and {label!r}")
    return [text for text, _ in seen.values()], [label for _, label in seen.values()]
