"""Find customers by id, by e-mail, or by a fuzzy match on the company name (rapidfuzz).

Ids and e-mails match exactly (e-mails trimmed and case-folded, so unnormalised rows are still found);
anything else is compared with every customer name and the best matches come back with their score.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz, process, utils
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core.errors import BadInput, NotFound
from core.store.models import MAX_INTEGER, Customer

_c = Customer.__table__  # type: ignore[attr-defined]
_COLUMNS = (_c.c.id, _c.c.name, _c.c.email, _c.c.region, _c.c.tier, _c.c.credit_hold)
MIN_SCORE = 60.0


class CustomerMatch(BaseModel):
    """A customer found by a lookup, with how well it matched (100 = exact)."""

    model_config = ConfigDict(extra="forbid")

    id: int
    name: str
    email: str
    region: str
    tier: str | None
    credit_hold: bool
    score: float


def lookup_customers(*, engine: Engine, query: str, limit: int = 5) -> list[CustomerMatch]:
    """Customers matching ``query``: an id (digits), an e-mail (contains @) or part of a name.

    Raises:
        BadInput: The query is empty.
        NotFound: Nothing matches, naming the query.
    """
    text = query.strip()
    if not text:
        raise BadInput("say which customer: a name, an e-mail address or a customer id", field="query")
    with engine.connect() as conn:
        if text.lstrip("#").isascii() and text.lstrip("#").isdigit():
            wanted = int(text.lstrip("#"))
            # An id beyond an INTEGER column matches nothing (and must not reach the query).
            rows = (
                conn.execute(select(*_COLUMNS).where(_c.c.id == wanted)).all()
                if wanted <= MAX_INTEGER
                else []
            )
            scores = [100.0] * len(rows)
            missing = f"customer {text.lstrip('#')} does not exist"
        elif "@" in text:
            clean = func.lower(func.trim(_c.c.email))
            rows = conn.execute(select(*_COLUMNS).where(clean == text.casefold()).order_by(_c.c.id)).all()
            scores = [100.0] * len(rows)
            missing = f"no customer has the e-mail address {text!r}"
        else:
            names = {int(row[0]): str(row[1]) for row in conn.execute(select(_c.c.id, _c.c.name))}
            best = process.extract(
                text,
                names,
                scorer=fuzz.WRatio,
                processor=utils.default_process,
                limit=limit,
                score_cutoff=MIN_SCORE,
            )
            ranked = sorted(best, key=lambda item: (-item[1], item[2]))
            ids = [int(item[2]) for item in ranked]
            found = {row[0]: row for row in conn.execute(select(*_COLUMNS).where(_c.c.id.in_(ids)))}
            rows = [found[i] for i in ids]
            scores = [round(float(item[1]), 1) for item in ranked]
            missing = f"no customer name is close to {text!r}"
    if not rows:
        raise NotFound(missing, query=text)
    return [
        CustomerMatch(id=r[0], name=r[1], email=r[2], region=r[3], tier=r[4], credit_hold=bool(r[5]), score=s)
        for r, s in zip(rows, scores, strict=True)
    ]
