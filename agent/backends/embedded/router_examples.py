"""Loading the router's training utterances: prompts/examples/*.yaml (one tool a file) and voices/*.yaml.

A voice file holds every tool's utterances in one writer's voice (night shift, formal finance, ...). Its customer
and product names are marked up, ``{customer:Globex Industrial}``: each such utterance is learnt twice, once with
the name as written (what the router sees without a database) and once with the entity placeholder the runtime
puts in place of a name it recognised (``customer``, see ``entities.py``).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from agent.backends.embedded.signals import quoted_as_payload
from core.errors import SwitchboardError

EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "prompts" / "examples"
VOICES = "voices"
OOS_FILE = "out_of_scope.yaml"
OOS_KEY = "out_of_scope"
_MARKUP = re.compile(r"\{(customer|product):([^{}]+)\}")
#: Router label of the out-of-scope class; not a tool name, and never returned as a prediction's label.
OOS_LABEL = "__out_of_scope__"
#: Writer of the per-tool files beside the voices (ours).
BASE_WRITER = "base"


class ExampleFile(BaseModel):
    """One YAML file: a tool (None for out-of-scope negatives) and its utterances."""

    model_config = ConfigDict(extra="forbid")

    tool: str | None
    examples: list[str]


class VoiceFile(BaseModel):
    """One writer's voice: every tool's utterances (``out_of_scope`` for the negatives) and how they were made."""

    model_config = ConfigDict(extra="forbid")

    voice: str
    description: str
    how: str
    examples: dict[str, list[str]]


class ExampleFileError(SwitchboardError, ValueError):
    """An examples file is unreadable or malformed (the CLI prints it as one line naming the file or utterance)."""

    code = "example_file"


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


def read_voice_file(path: Path) -> VoiceFile:
    """Parse and validate one voice file.

    Raises:
        ExampleFileError: Invalid YAML or shape, or malformed entity markup.
    """
    try:
        parsed = VoiceFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ExampleFileError(f"{path}: {exc}") from None
    for texts in parsed.examples.values():
        for text in texts:
            if "{" in _MARKUP.sub("", text) or "}" in _MARKUP.sub("", text):
                raise ExampleFileError(f"{path}: unbalanced entity markup in {text!r}")
    return parsed


def expand_markup(text: str) -> list[str]:
    """The utterance with its marked-up names as written, and (if it has any) with their placeholders."""
    plain = _MARKUP.sub(lambda m: m.group(2), text)
    if plain == text:
        return [text]
    return [plain, _MARKUP.sub(lambda m: m.group(1), text)]


def labelled_files(directory: Path = EXAMPLES_DIR) -> list[tuple[Path, str, list[str]]]:
    """Every training file as ``(path, label, utterances)``; a voice file yields one entry per tool."""
    entries: list[tuple[Path, str, list[str]]] = []
    for path in sorted(directory.glob("*.yaml")):
        parsed = read_example_file(path)
        entries.append((path, parsed.tool or OOS_LABEL, parsed.examples))
    for path in sorted((directory / VOICES).glob("*.yaml")):
        voice = read_voice_file(path)
        for key, texts in voice.examples.items():
            entries.append((path, OOS_LABEL if key == OOS_KEY else key, texts))
    return entries


def load_training_examples(
    directory: Path = EXAMPLES_DIR, *, tools: set[str] | None = None, skip: set[Path] | None = None
) -> tuple[list[str], list[str]]:
    """Read every ``*.yaml`` in ``directory`` and ``directory/voices`` as router training data.

    Args:
        directory: Folder of example files.
        tools: Keep only these tools (plus the out-of-scope negatives); all when None.
        skip: Files to leave out (leave-one-voice-out validation).

    Returns:
        ``(texts, labels)``; out-of-scope negatives carry :data:`OOS_LABEL`. Duplicate texts are kept once.

    Raises:
        ExampleFileError: A malformed file, an unknown tool in a voice file, or one utterance listed under two
            different labels.
    """
    texts, labels, _writers = load_training_set(directory, tools=tools, skip=skip)
    return texts, labels


def load_training_set(
    directory: Path = EXAMPLES_DIR, *, tools: set[str] | None = None, skip: set[Path] | None = None
) -> tuple[list[str], list[str], list[str]]:
    """:func:`load_training_examples`, plus each utterance's writer: :data:`BASE_WRITER` or the voice's name.

    The router's out-of-fold calibration holds out whole writers, so that its confidence is what it earns on
    phrasing it has never seen rather than on the same writer's other lines.
    """
    entries = labelled_files(directory)
    known = {label for path, label, _ in entries if path.parent == directory}
    seen: dict[str, tuple[str, str, str]] = {}
    for path, label, texts in entries:
        if label not in known:
            raise ExampleFileError(f"{path}: unknown tool {label!r} (the tools are the files in {directory})")
        if skip and path in skip:
            continue
        if tools is not None and label != OOS_LABEL and label not in tools:
            continue
        writer = BASE_WRITER if path.parent == directory else path.stem
        for raw in texts:
            # The router reads a quoted message as one word at run time (signals.quoted_as_payload): so here.
            for text in map(quoted_as_payload, expand_markup(raw)):
                key = " ".join(text.casefold().split())
                first = seen.setdefault(key, (text, label, writer))
                if first[1] != label:
                    raise ExampleFileError(f"{text!r} is listed under both {first[1]!r} and {label!r}")
    rows = list(seen.values())
    return [t for t, _, _ in rows], [lab for _, lab, _ in rows], [w for _, _, w in rows]
