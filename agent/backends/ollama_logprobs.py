"""Structured decisions and the model's own confidence, read from the log-probabilities of the chosen tool's tokens.

In ``agent.ollama_mode: structured`` the model calls no tool. It answers with one JSON object under Ollama's
``format`` (a JSON schema, so its sampling is held to it): ``{"tool": <one of the allowed tools or "none">,
"args": {...}}``, and the request asks for ``logprobs: true`` and ``top_logprobs: N`` (``agent.ollama_top_logprobs``).
Ollama then returns, for each generated token, its text, its log-probability and the N most likely tokens at that
position (``ChatResponse.logprobs``: ``[{token, logprob, top_logprobs: [{token, logprob}]}]``).

The confidence in the tool choice is computed from those, exactly so:

1. The tokens' texts, joined, are the reply; the tool's value is the text between the quotes after ``"tool":``.
   Each candidate (every enum value, ``none`` included) is matched as its name followed by the closing quote, so
   ``run`` never passes for ``run_report``.
2. The tokens that overlap the value are walked in order. For each: ``prefix`` is the part of the value already
   generated before it; the *live* candidates are those that begin with ``prefix``. Once only the chosen one is
   live, the rest of the value is forced and the walk stops.
3. At each position with two or more live candidates, every alternative in ``top_logprobs`` (the sampled token
   added if missing) is read as ``prefix`` plus its text, after dropping any text the token carries from before
   the value (``␣"list`` → ``list``; an alternative that does not reach the value, or leaves the schema's
   grammar, supports no candidate and is ignored). It supports each live candidate it is consistent with.
   ``step = P(alternatives supporting the chosen value) / P(alternatives supporting any live candidate)``.
4. ``confidence = ∏ step``: the chain-rule probability of the chosen value, given that the value is one of the
   candidates, as far as the top N show them. Mass beyond the top N is unseen, so this is an upper bound.

So a reply whose value token ``list`` has probability 0.45 against ``run`` 0.40 (and 0.05 of other tools) gets
0.45 / 0.90 = 0.5, whatever the later tokens say. Each rival gets the probability of the path up to the position
where it parts from the choice, times its share there of the alternatives consistent with it (``run`` counts for
both ``run_report`` and ``run_flow``, so that is an upper bound; what follows a token not taken is never seen).
They become the decision's ``alternatives``, so a close rival is offered back ("Did you mean …?"). The confidence is not combined with the embedded router: nothing measured here says
that helps (``switchboard eval --backend ollama --ollama-mode structured`` and ``--ollama-mode tools`` compare the
two on a real server).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agent.backends.base import Alternative, Decision
from tools.registry import Registry, describe_validation_error

NONE = "none"
_TOOL_VALUE = re.compile(r'"tool"\s*:\s*"')


@dataclass(frozen=True)
class Token:
    """One generated token: its text, log-probability and the most likely tokens at its position."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ToolChoice:
    """The chosen enum value, its probability against the other candidates, and the rivals' shares."""

    tool: str
    probability: float
    rivals: dict[str, float] = field(default_factory=dict)
    steps: int = 0


def decision_format(tools: Sequence[str]) -> dict[str, Any]:
    """The ``format`` schema: the tool as an enum of ``tools`` plus ``none``, and its arguments as an object."""
    return {
        "type": "object",
        "properties": {
            "tool": {"type": "string", "enum": [*tools, NONE]},
            "args": {"type": "object"},
        },
        "required": ["tool", "args"],
    }


def parse_decision(content: str) -> tuple[str, dict[str, Any]]:
    """``(tool, args)`` from a structured reply; ``ValueError`` when it is not the requested shape."""
    data = json.loads(content)
    if not isinstance(data, dict) or not isinstance(data.get("tool"), str):
        raise ValueError("no 'tool' string in the reply")
    args = data.get("args", {})
    if not isinstance(args, dict):
        raise ValueError("'args' is not an object")
    return data["tool"], args


def tool_confidence(tokens: Sequence[Token], *, chosen: str, candidates: Sequence[str]) -> ToolChoice | None:
    """The probability of ``chosen`` among ``candidates`` from the reply's tokens (None when they don't show it)."""
    content = "".join(t.token for t in tokens)
    match = _TOOL_VALUE.search(content)
    if match is None:
        return None
    v0 = match.end()
    v1 = content.find('"', v0)
    if v1 < 0 or content[v0:v1] != chosen:
        return None
    quoted = {name: f'{name}"' for name in candidates}
    probability, rivals, steps, start = 1.0, {}, 0, 0
    for token in tokens:
        s, e = start, start + len(token.token)
        start = e
        if e <= v0 or s > v1:
            continue
        prefix = content[v0:s] if s > v0 else ""
        lead = content[s:v0] if s < v0 else ""
        live = [name for name in candidates if quoted[name].startswith(prefix)]
        if len(live) <= 1:
            break
        alternatives = dict(token.top)
        alternatives.setdefault(token.token, token.logprob)
        mine = total = 0.0
        reach: dict[str, float] = {}
        for text, logprob in alternatives.items():
            if not text.startswith(lead) or len(text) == len(lead):
                continue
            piece = prefix + text[len(lead) :]
            supported = [n for n in live if quoted[n].startswith(piece) or piece.startswith(quoted[n])]
            if not supported:
                continue
            p = math.exp(logprob)
            total += p
            mine += p if chosen in supported else 0.0
            for name in supported:
                reach[name] = reach.get(name, 0.0) + p
        if total <= 0.0:
            return None
        # A rival still live later (it shared this token) is overwritten there, where it parts from the choice.
        rivals.update({name: probability * p / total for name, p in reach.items() if name != chosen})
        probability *= mine / total
        steps += 1
    return ToolChoice(tool=chosen, probability=probability, rivals=rivals, steps=steps)


def tokens_of(logprobs: Sequence[Any]) -> list[Token]:
    """``Token``s from the client's ``Logprob`` entries (``token``, ``logprob``, ``top_logprobs``)."""
    return [
        Token(
            token=entry.token,
            logprob=entry.logprob,
            top=tuple((alt.token, alt.logprob) for alt in entry.top_logprobs or ()),
        )
        for entry in logprobs
    ]


def structured_decision(
    *,
    content: str,
    tokens: Sequence[Token],
    candidates: Sequence[str],
    registry: Registry,
    allowed: Sequence[str] | None,
    model: str,
) -> Decision:
    """The decision a structured reply states, with the tool choice's probability as its confidence.

    Raises:
        ValueError: The reply is not the requested JSON, names an unknown tool, or has no logprobs for its choice;
            the message says which (safe to show).
    """
    try:
        name, raw = parse_decision(content)
    except ValueError:
        raise ValueError("it returned a malformed response") from None
    tool = None if name == NONE else name
    if tool is not None and (tool not in registry or (allowed is not None and tool not in allowed)):
        raise ValueError(f"it chose a tool that does not exist ({name!r})")
    choice = tool_confidence(tokens, chosen=name, candidates=candidates)
    if choice is None:
        raise ValueError("it returned no log-probabilities for its choice (Ollama 0.12.11 or later has them)")
    probability = round(choice.probability, 4)
    decided = Decision(
        tool=tool,
        confidence=probability,
        tool_probability=probability,
        backend="ollama",
        model=model,
        alternatives=[
            Alternative(tool=None if rival == NONE else rival, probability=round(share, 4))
            for rival, share in sorted(choice.rivals.items(), key=lambda item: -item[1])
        ],
    )
    if tool is None:
        return decided
    try:
        args = registry[tool].args_model.model_validate(raw).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        # The gate's check asks the operator about invalid arguments; the tool choice keeps its probability.
        return decided.model_copy(
            update={"args": raw, "notes": [f"arguments invalid: {describe_validation_error(exc)}"]}
        )
    return decided.model_copy(update={"args": args})
