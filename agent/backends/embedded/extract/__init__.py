"""Typed argument extractors of the embedded backend: pure, deterministic functions from free text to values.

Each extractor returns a canonical value (see the tool contract) or None when the text does not say; none of
them raises on odd input. ``extract_args`` drives them from a tool's args JSON schema.
"""

from agent.backends.embedded.extract.booleans import extract_dry_run
from agent.backends.embedded.extract.cron import extract_cron, revise_cron, validate_cron
from agent.backends.embedded.extract.dates import PERIOD_KEYWORDS, resolve_period
from agent.backends.embedded.extract.enums import enum_candidates, match_enum
from agent.backends.embedded.extract.freetext import extract_message, extract_quoted, extract_recipient
from agent.backends.embedded.extract.ids import (
    extract_client_id,
    extract_limit,
    extract_quantity,
    extract_run_id,
    extract_sku,
)
from agent.backends.embedded.extract.names import (
    Match,
    find_names_by_word,
    find_names_in_text,
    pick_name,
    resolve_name,
)
from agent.backends.embedded.extract.numbers import ExtractedNumber, extract_numbers, parse_number
from agent.backends.embedded.extract.paths import extract_path
from agent.backends.embedded.extract.periods import extract_period
from agent.backends.embedded.extract.queries import extract_artifact, extract_query
from agent.backends.embedded.extract.slots import ExtractedArgs, KnownEntities, extract_args, revise_args
from agent.backends.embedded.extract.synonyms import SYNONYMS_BY_NAME, synonyms_for

__all__ = [
    "PERIOD_KEYWORDS",
    "SYNONYMS_BY_NAME",
    "ExtractedArgs",
    "ExtractedNumber",
    "KnownEntities",
    "Match",
    "enum_candidates",
    "extract_args",
    "extract_artifact",
    "extract_client_id",
    "extract_cron",
    "extract_dry_run",
    "extract_limit",
    "extract_message",
    "extract_numbers",
    "extract_path",
    "extract_period",
    "extract_quantity",
    "extract_query",
    "extract_quoted",
    "extract_recipient",
    "extract_run_id",
    "extract_sku",
    "find_names_by_word",
    "find_names_in_text",
    "match_enum",
    "parse_number",
    "pick_name",
    "resolve_name",
    "resolve_period",
    "revise_args",
    "revise_cron",
    "synonyms_for",
    "validate_cron",
]
