"""The customer a thread is about, for a pronoun that points at them ("what would they pay for 200 B300")."""

from __future__ import annotations

import re
from collections.abc import Callable

from agent.backends.base import Turn
from agent.backends.embedded.entities import EntityIndex

# A person pronoun in a thread points at the customer of the previous calls ("what would they pay for 200 B300").
PERSON = re.compile(
    r"\b(him|her|them|they|their|he|she|his|(this|that|the\s+same|same)\s+(client|customer|account))\b|"
    r"(?<![\w'])'?em\b",
    re.I,
)

# "And what about Wingtip Foods? They owe me a call": a new name asked about, whatever pronoun follows it.
ANOTHER_NAME = re.compile(r"\b(?:what|how)\s+about\s+(?-i:[A-Z0-9])", re.I)


def thread_customer(context: list[Turn], *, by_name: Callable[[str], int | None]) -> int | None:
    """The customer the thread's latest calls were about: a client id, or the one a lookup found."""
    for turn in reversed(context):
        if turn.role != "assistant" or not turn.tool:
            continue
        client = turn.args.get("client_id")
        if isinstance(client, int) and not isinstance(client, bool):
            return client
        query = turn.args.get("query")
        if turn.tool == "lookup_customer" and isinstance(query, str):
            return int(query.strip().lstrip("#")) if query.strip().lstrip("#").isdigit() else by_name(query)
    return None


def pronoun_customer(text: str, context: list[Turn], *, index: EntityIndex | None) -> int | None:
    """The thread's customer when ``text`` refers to them by a pronoun ("what would they pay for 200 B300")."""
    if not PERSON.search(text):
        return None

    def by_name(name: str) -> int | None:
        found = index.tag(name).resolved("customer") if index is not None else None
        return int(found[0]) if found is not None and len(found) == 1 else None

    return thread_customer(context, by_name=by_name)
