"""Fill a tool's arguments from the operator's text, driven by the tool's args JSON schema.

Each property is routed to an extractor by its name (``period``, ``cron``, ``client_id``...) or, for enums, by
its allowed values plus the synonym table for that name. For tools with a ``message``, quoted text and the
message are blanked out before the other extractors run, and so are file names for tools with a ``path`` or
``file``: a word inside them ("the bank file failed", "customers_2025.csv") cannot fill another argument.
Values not found are left out so the args model's defaults apply.

Two values are read off others: a customer given as a bare number ("quote 1150 for 220 gauges", a known id or a
number after "for" that ends the request) when no id or name says it, and the channel a recipient's address
implies (a URL is a webhook, an e-mail address is e-mail, an "@handle" is Telegram) when the text names none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType

from agent.backends.embedded.extract.booleans import extract_dry_run
from agent.backends.embedded.extract.cron import extract_cron, revise_cron
from agent.backends.embedded.extract.enums import enum_candidates
from agent.backends.embedded.extract.freetext import (
    address_spans,
    channel_of,
    extract_recipient,
    find_message,
    quoted_spans,
)
from agent.backends.embedded.extract.ids import (
    extract_client_id,
    extract_limit,
    extract_quantity,
    extract_run_id,
    extract_sku,
    find_client_number,
)
from agent.backends.embedded.extract.labelled import labelled_values
from agent.backends.embedded.extract.names import find_names_by_word, find_names_in_text, pick_name
from agent.backends.embedded.extract.numbers import parse_number
from agent.backends.embedded.extract.paths import find_path
from agent.backends.embedded.extract.periods import extract_period
from agent.backends.embedded.extract.queries import extract_artifact, extract_query
from agent.backends.embedded.extract.schema import JsonSchema, PropertySpec, describe_schema
from agent.backends.embedded.extract.synonyms import synonyms_for
from agent.backends.embedded.extract.text import mask

ArgValue = str | int | bool


@dataclass(frozen=True)
class KnownEntities:
    """Entities loaded by the caller (from the database) that extraction may match against.

    Attributes:
        skus: Catalogue SKUs, e.g. ``("A100X", "B200", "C-55")``.
        customers: Customer id to name, e.g. ``{1042: "Acme Logistics"}``.
        products: SKU to product name, e.g. ``{"A100X": "Hex Bolt M8"}``.
    """

    skus: tuple[str, ...] = ()
    customers: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    products: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ExtractedArgs:
    """Arguments found in a message.

    Attributes:
        values: Property name to extracted value (only what was found).
        missing: Required properties with no value and no ambiguity, in schema order.
        ambiguous: Property name to the equally good options (e.g. two regions, two customers "Acme Foods
            (1077)"), for a "which one?" question; these properties are not in ``values``.
    """

    values: Mapping[str, ArgValue]
    missing: tuple[str, ...]
    ambiguous: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class _Context:
    text: str
    visible: str
    today: date
    known: KnownEntities
    path: str | None


Found = ArgValue | tuple[str, ...] | None


def _client_id(ctx: _Context) -> Found:
    found = extract_client_id(ctx.visible)
    if found is not None or not ctx.known.customers:
        return found
    matches = find_names_in_text(ctx.visible, candidates=ctx.known.customers)
    matches = matches or find_names_by_word(ctx.visible, candidates=ctx.known.customers)
    if not matches:
        return None
    winner = matches[0] if len(matches) == 1 else pick_name(matches, min_score=80.0, margin=3.0)
    if winner is not None:
        return winner.id
    return tuple(f"{m.name} ({m.id})" for m in matches if m.score >= matches[0].score - 3.0)


def _bare_client(
    ctx: _Context, specs: list[PropertySpec], values: dict[str, ArgValue]
) -> tuple[int | None, _Context]:
    """A customer given by a bare number ("quote 1150 for 220 gauges") when nothing else names one.

    Returns the id and the context with that number blanked out, so it is not also read as the order's count
    (a count read before it is read again).
    """
    if extract_client_id(ctx.visible) is not None:
        return None, ctx
    found = find_client_number(
        ctx.visible,
        known_ids=ctx.known.customers.keys(),
        known=ctx.known.skus or None,
        products=tuple(ctx.known.products.values()),
    )
    if found is None:
        return None, ctx
    masked = replace(ctx, visible=mask(ctx.visible, [found.span]))
    if "quantity" in values and any(s.name == "quantity" for s in specs):
        del values["quantity"]
        quantity = _quantity(masked)
        if quantity is not None:
            values["quantity"] = quantity
    return found.value, masked


_ID_WRITTEN = re.compile(r"\bid\s*[:#]?\s*(\d{3,9})\b", re.I)


def _unless_contradicted(ctx: _Context, found: Found) -> Found:
    """Both choices when "id 1321" is written beside a name that resolves to another customer: never guessed."""
    written = _ID_WRITTEN.search(ctx.visible)
    if written is None:
        return found
    stated = int(written.group(1))
    if found is None:
        return stated
    return found if found == stated else _both(ctx, found, stated)


def _both(ctx: _Context, first: Found, second: int) -> Found:
    if not isinstance(first, int):
        return first  # already a choice
    return tuple(f"{ctx.known.customers.get(c, 'customer')} ({c})" for c in (first, second))


def _implied_channel(
    specs: list[PropertySpec], values: Mapping[str, ArgValue], ambiguous: Mapping[str, tuple[str, ...]]
) -> str | None:
    """The channel an address names when the text names none ("send 'done' to jane@acme.com" is e-mail)."""
    channel = next((s for s in specs if s.name == "channel"), None)
    recipient = values.get("recipient")
    if channel is None or "channel" in values or "channel" in ambiguous or not isinstance(recipient, str):
        return None
    implied = channel_of(recipient)
    return implied if implied is not None and (not channel.enum or implied in channel.enum) else None


def _quantity(ctx: _Context) -> int | None:
    return extract_quantity(
        ctx.visible, known=ctx.known.skus or None, products=tuple(ctx.known.products.values()) or None
    )


def _enum(ctx: _Context, spec: PropertySpec, all_specs: list[PropertySpec]) -> Found:
    synonyms = synonyms_for(spec.name, spec.enum_name)
    visible = _IN_ORDER.sub(" ", ctx.visible) if spec.name == "dataset" else ctx.visible
    found = enum_candidates(visible, values=spec.enum, synonyms=synonyms)
    loads = ctx.path and spec.name == "dataset" and any(s.name == "path" for s in all_specs)
    stem = (
        re.sub(r"[_\-.]+", " ", ctx.path.replace("\\", "/").rsplit("/", 1)[-1]) if loads and ctx.path else ""
    )
    if not found and stem:
        found = enum_candidates(stem, values=spec.enum, synonyms=synonyms)  # "load orders_today.csv"
    if len(found) > 1 and spec.name == "dataset":
        # "load products.json into the products, customers keep asking": where it goes, or the file's name, says.
        target = _INTO.search(ctx.visible)
        verb = _VERB_OBJECT.search(ctx.visible)  # "export all orders …, our accounts team needs it"
        for clue in (target.group(1) if target else "", stem, verb.group(1) if verb else ""):
            narrowed = [v for v in enum_candidates(clue, values=spec.enum, synonyms=synonyms) if v in found]
            if clue and len(narrowed) == 1:
                return narrowed[0]
    if len(found) == 1:
        return found[0]
    return found or None


# "put the customer records in order" names no orders.
_IN_ORDER = re.compile(
    r"\bin\s+(?:good\s+|proper\s+|better\s+)?order\b(?!s|\s+(?:table|data|file|list|lines?)\b)", re.I
)
_INTO = re.compile(r"\b(?:into|in\s+to|onto)\s+((?:the\s+|our\s+)?[\w-]+(?:\s+[\w-]+)?)", re.I)
# The dataset an export, load or clean acts on is the word right after its verb.
_VERB_OBJECT = re.compile(
    r"^\W*(?:please\s+)?(?:export|extract|dump|download|load|import|ingest|clean|normali[sz]e|tidy(?:\s+up)?|dedupe)\s+"
    r"(?:(?:all|the|our|every|of|whole|entire)\s+)*([\w-]+)",
    re.I,
)


def _prefer_stated(ctx: _Context, name: str, found: Found, by_name: Found) -> Found:
    """A stated id ("customer 1042") over a name; for a customer, the database's name match over a guess."""
    if name == "client_id" and extract_client_id(ctx.visible) is not None:
        return found
    return by_name


_BY_NAME: Mapping[str, Callable[[_Context], Found]] = MappingProxyType(
    {
        "period": lambda c: extract_period(c.visible, today=c.today),
        "cron": lambda c: extract_cron(c.text),
        "dry_run": lambda c: extract_dry_run(c.visible),
        "path": lambda c: c.path,
        "file": lambda c: c.path or extract_artifact(c.visible),
        "query": lambda c: extract_query(c.text),
        "message": lambda c: m[0] if (m := find_message(c.text)) else None,
        "recipient": lambda c: extract_recipient(c.text),
        "client_id": _client_id,
        "run_id": lambda c: extract_run_id(c.visible),
        "quantity": _quantity,
        "limit": lambda c: extract_limit(c.visible),
        "product": lambda c: extract_sku(c.visible, known=c.known.skus or None),
        "sku": lambda c: extract_sku(c.visible, known=c.known.skus or None),
    }
)


# Arguments whose follow-up value is merged with the earlier one instead of replacing it.
_REVISE: Mapping[str, Callable[[str, str], str | None]] = MappingProxyType({"cron": revise_cron})


# Words that do ask for the regional breakdown, beside a region named in a follow-up.
_SAME_REGION = re.compile(r"\b(?:same|that|this)\s+region\b", re.I)
_REGION_ONLY = re.compile(r"\b(?:by|per|each|every|across)\s+regions?\b|\bsales\b|\bregional\b", re.I)


def revise_args(
    previous: Mapping[str, object], changed: Mapping[str, ArgValue], text: str
) -> dict[str, ArgValue]:
    """Values a follow-up message sets on an earlier call.

    Most values replace the earlier ones; a schedule that names only days or only a time is merged into the
    earlier cron ("only on weekdays" keeps 9:30).

    Args:
        previous: Arguments of the call being changed.
        changed: Values extracted from the follow-up message.
        text: The follow-up message.

    Returns:
        ``changed`` with merged values where a merge applies.
    """
    revised = dict(changed)
    # "restrict that to the EMEA region" narrows the report shown; it asks for no other report.
    narrows = "region" in revised and previous.get("report") not in (None, "sales_by_region")
    # "and last month, same region?" keeps the report too: the region named is the one it already had
    same = previous.get("report") not in (None, "sales_by_region") and _SAME_REGION.search(text) is not None
    if (narrows or same) and revised.get("report") == "sales_by_region" and _REGION_ONLY.search(text) is None:
        del revised["report"]
    for name, revise in _REVISE.items():
        before = previous.get(name)
        if name in changed and isinstance(before, str):
            merged = revise(before, text)
            if merged is not None:
                revised[name] = merged
    return revised


def _context(text: str, today: date, known: KnownEntities, names: set[str]) -> _Context:
    # Only blank out what this tool treats as opaque text; elsewhere a quoted "EMEA" is still a region.
    spans: list[tuple[int, int]] = []
    if "message" in names:
        spans.extend(quoted_spans(text))
        message = find_message(text)
        if message is not None:
            spans.append(message[1])
    if "recipient" in names:
        spans.extend(address_spans(text))
    path = find_path(text) if names & {"path", "file"} else None
    if path is not None:
        spans.append(path[1])
    return _Context(text, mask(text, spans), today, known, path[0] if path else None)


def extract_args(
    text: str,
    *,
    schema: JsonSchema,
    today: date,
    known: KnownEntities | None = None,
    named: Mapping[str, Found] | None = None,
) -> ExtractedArgs:
    """Extract every argument a tool's schema asks for from the operator's message.

    Args:
        text: The operator's message.
        schema: The args model's ``model_json_schema()``.
        today: Reference date for periods.
        known: Catalogue SKUs and customer names to resolve against, if loaded.
        named: Values the message gives by name, already resolved against the database (``client_id`` of
            "Cobalt Foods", ``product`` of "torque wrenches"); a stated id or SKU wins over them.

    Returns:
        The values found, the required properties still missing, and the ambiguous ones with their options.
    """
    specs = describe_schema(schema)
    ctx = _context(text, today, known or KnownEntities(), {s.name for s in specs})
    values: dict[str, ArgValue] = {}
    ambiguous: dict[str, tuple[str, ...]] = {}
    for spec in specs:
        handler = _BY_NAME.get(spec.name)
        if handler is not None:
            found = handler(ctx)
            if named and spec.name in named and (found is None or spec.name == "client_id"):
                found = _prefer_stated(ctx, spec.name, found, named[spec.name])
        elif spec.enum:
            found = _enum(ctx, spec, specs)
        else:
            found = None
        if spec.name == "client_id" and not isinstance(found, tuple):
            # A customer's id written out ("they're 1290") fills the call; beside a name that means another
            # customer it is a contradiction, and both are offered rather than one guessed.
            bare, written = _bare_client(ctx, specs, values)
            if bare is not None:
                found, ctx = (bare if found in (None, bare) else _both(ctx, found, bare)), written
            found = _unless_contradicted(ctx, found)
        if isinstance(found, tuple):
            ambiguous[spec.name] = found
        elif found is not None:
            values[spec.name] = found
    for name, value in labelled_values(text, specs).items():  # "limit=1": a label says it outright
        values[name] = value
        ambiguous.pop(name, None)
    if (channel := _implied_channel(specs, values, ambiguous)) is not None:
        values["channel"] = channel
    bare = parse_number(text.strip().lstrip("#"))
    if bare is not None:
        # A reply that is only a number ("1042", "twelve") answers the integer question that was asked.
        for spec in specs:
            if spec.type == "integer" and spec.name not in values and spec.name not in ambiguous:
                values[spec.name] = bare
    missing = tuple(s.name for s in specs if s.required and s.name not in values and s.name not in ambiguous)
    return ExtractedArgs(values=values, missing=missing, ambiguous=ambiguous)
