"""Argument types the args models share, so a value that cannot execute is refused by validation.

A ``ValidationError`` happens before any approval request, run or audit record exists, so every bound an
execution depends on belongs here rather than in a flow: ids fit the database's INTEGER columns, quantities are
business-sized, and text carries no control characters (NUL, ESC, ...). Each str field also sets a
``max_length``. The bounds are listed in the README ("Input limits").
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from core.store.models import MAX_INTEGER
from core.text import control_message, find_control

MAX_QUANTITY = 1_000_000


def _one_line(value: str) -> str:
    code = find_control(value, single_line=True)
    if code is not None:
        raise ValueError(control_message(code))
    return value


def _free_text(value: str) -> str:
    code = find_control(value)
    if code is not None:
        raise ValueError(control_message(code))
    return value


RecordId = Annotated[int, Field(ge=1, le=MAX_INTEGER)]
"""A database id (customer, run, artifact): 1 to 2,147,483,647."""
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
"""A number of units on one order line: 1 to 1,000,000."""
OneLine = Annotated[str, AfterValidator(_one_line)]
"""Text on one line (a name, a query, a SKU, an address): no control characters, line breaks included."""
FreeText = Annotated[str, AfterValidator(_free_text)]
"""Free text (a message): line breaks and tabs allowed, other control characters not."""

__all__ = ["MAX_QUANTITY", "FreeText", "OneLine", "Quantity", "RecordId"]
