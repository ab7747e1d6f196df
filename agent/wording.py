"""How calls and tool-less answers read to a person, from the ``tools``, ``talk`` and ``refusals`` of replies.yaml.

- ``Wording.phrase``: a call as words ("export orders for last month as CSV"), never as code.
- ``Wording.title``: a tool's human name ("Export a dataset"), for buttons and help.
- ``Wording.without_tool``: the answer to a message that asks for no tool — small talk, a request no tool performs
  (with the reason and the nearest thing that can be done), or, failing both, None (the caller's out-of-scope
  reply).

The rules are data, so wording changes need no code, and each change shows in the prompt hash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.periods import period_words

# {name} or {name?words}; a [bracketed part] drops out when an argument in it has no value, and [a|b] takes the
# first alternative whose arguments all have values.
_FIELD = re.compile(r"\{(\w+)(\?[^}]*)?\}")
_OPTIONAL = re.compile(r"\[([^\]]*)\]")


class ToolWording(BaseModel):
    """A tool's title and the phrase its calls read as."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    phrase: str
    values: dict[str, dict[str, str]] = Field(default_factory=dict)


class TalkRule(BaseModel):
    """Small talk: a whole message that matches gets this answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    match: str
    text: str
    try_: list[str] = Field(default_factory=list, alias="try")

    @field_validator("match")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        re.compile(pattern)
        return pattern


class RefusalRule(BaseModel):
    """A request no tool performs: matched by a verb (and what it is about), answered with a reason."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    verbs: str
    about: str | None = None
    text: str
    try_: list[str] = Field(default_factory=list, alias="try")

    @field_validator("verbs", "about")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            re.compile(pattern)
        return pattern


class Spoken(BaseModel):
    """An answer to a message that asks for no tool: its words and the requests offered as buttons."""

    model_config = ConfigDict(frozen=True)

    rule: str
    text: str
    buttons: list[str] = Field(default_factory=list)


class Wording(BaseModel):
    """The wording sections of replies.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tools: dict[str, ToolWording] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    talk: list[TalkRule] = Field(default_factory=list)
    starters: list[str] = Field(default_factory=list)
    refusals: list[RefusalRule] = Field(default_factory=list)

    def title(self, tool: str) -> str:
        """'Export a dataset'; a tool with no wording shows its name with spaces."""
        wording = self.tools.get(tool)
        return wording.title if wording is not None else tool.replace("_", " ")

    def phrase(self, tool: str, args: Mapping[str, Any]) -> str:
        """The call in words, lower-case, to follow "Shall I …" or "Did you mean: …"."""
        wording = self.tools.get(tool)
        if wording is None:
            shown = ", ".join(
                f"{k.replace('_', ' ')} {self._value(tool, k, v)}" for k, v in args.items() if _has(v)
            )
            return f"{tool.replace('_', ' ')}" + (f" ({shown})" if shown else "")

        def optional(match: re.Match[str]) -> str:
            # [a|b|c]: the first alternative whose arguments all have values.
            for alternative in match.group(1).split("|"):
                if all(_has(args.get(m.group(1))) for m in _FIELD.finditer(alternative)):
                    return alternative
            return ""

        def field(match: re.Match[str]) -> str:
            name, flag = match.group(1), match.group(2)
            value = args.get(name)
            if flag is not None:  # {dry_run? as a dry run}
                return flag[1:] if value is True else ""
            return self._value(tool, name, value) if _has(value) else ""

        text = _FIELD.sub(field, _OPTIONAL.sub(optional, wording.phrase))
        return re.sub(r"\s{2,}", " ", text).strip()

    def value_words(self, tool: str, name: str, value: Any) -> str:
        """One argument value as it reads ("credit hold", "the last 7 days", "CSV")."""
        return self._value(tool, name, value)

    def phrase_stem(self, tool: str) -> str:
        """The call's phrase with no arguments, for "What file should I use to send?"."""
        return self.title(tool)[0].lower() + self.title(tool)[1:]

    def _value(self, tool: str, name: str, value: Any) -> str:
        wording = self.tools.get(tool)
        words = (wording.values.get(name) if wording is not None else None) or self.values.get(name) or {}
        if isinstance(value, str) and value in words:
            return words[value]
        if name == "period" and isinstance(value, str):
            return period_words(value)  # every tool's period reads the same: "the last 7 days"
        if name == "file" and isinstance(value, str) and value.isdigit():
            return f"artifact {value}"  # an approved file is pinned to the artifact the approver saw
        if isinstance(value, str) and "." not in value and "/" not in value:
            return value.replace("_", " ")  # enum values and periods; file names keep theirs
        return str(value)

    def without_tool(self, text: str, *, user: str) -> Spoken | None:
        """Small talk's answer, or a refusal's reason; None when the message is neither."""
        folded = " ".join(text.lower().replace("’", "'").split())
        for talk in self.talk:
            if re.fullmatch(talk.match, folded):
                return Spoken(rule=talk.name, text=talk.text.replace("{user}", user), buttons=list(talk.try_))
        for refusal in self.refusals:
            verb = re.search(rf"\b({refusal.verbs})\b", folded)
            if verb is None or (refusal.about is not None and not re.search(rf"\b({refusal.about})", folded)):
                continue
            return Spoken(
                rule=refusal.name,
                text=refusal.text.replace("{verb}", verb.group(1)),
                buttons=list(refusal.try_),
            )
        return None


def _has(value: Any) -> bool:
    return value is not None and value != "" and value is not False
