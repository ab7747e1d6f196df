"""The ingest webhook: another system posts a JSON list of records, signed with HMAC-SHA256 of the raw body.

The signature (header ``X-Switchboard-Signature: sha256=<hex>``, keyed with
``settings.ingest_webhook_secret``) is the credential, so the route needs no user; it is checked in constant
time before the body is parsed. Re-posting the same body is a no-op (the ingest flow recognises its checksum).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from console.deps import State
from console.errors import Unauthorized, Unavailable
from core.errors import BadInput, SwitchboardError
from core.vocabulary import Dataset
from flows.ingest.pipeline import IngestReport, ingest_records

router = APIRouter(tags=["ingest"])
SIGNATURE_HEADER = "X-Switchboard-Signature"
_BODY_SCHEMA: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "description": 'The records, one JSON object per row (or {"records": [...]}).',
                "oneOf": [
                    {"type": "array", "items": {"type": "object"}},
                    {
                        "type": "object",
                        "properties": {"records": {"type": "array", "items": {"type": "object"}}},
                        "required": ["records"],
                    },
                ],
            }
        }
    },
}


def sign(secret: str, body: bytes) -> str:
    """The header value for ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _records(raw: bytes) -> list[Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadInput("the body is not valid JSON") from None
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data = data["records"]
    if not isinstance(data, list):
        raise BadInput('the body must be a JSON list of records, or {"records": [...]}')
    return data


@router.post(
    "/api/ingest/{dataset}",
    response_model=IngestReport,
    openapi_extra={"requestBody": _BODY_SCHEMA},
    responses={
        401: {"description": "Missing or wrong signature."},
        503: {"description": "Webhook not configured."},
    },
)
async def ingest_webhook(
    dataset: Dataset,
    request: Request,
    state: State,
    mode: Literal["append", "replace"] = "append",
    signature: Annotated[
        str | None, Header(alias=SIGNATURE_HEADER, description="sha256=<hex HMAC of the body>")
    ] = None,
    source: Annotated[str, Query(max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")] = "webhook",
) -> IngestReport:
    """Load posted records into customers, products or orders (invalid rows are quarantined)."""
    secret = state.settings.ingest_webhook_secret
    if secret is None or not secret.get_secret_value():
        raise Unavailable("the ingest webhook is off: set SWITCHBOARD_INGEST_WEBHOOK_SECRET to turn it on")
    state.limit("webhook:ingest")
    raw = await request.body()
    expected = sign(secret.get_secret_value(), raw)
    if not signature or not hmac.compare_digest(
        expected.encode(), signature.strip().encode("utf-8", "replace")
    ):
        state.metrics.ingests.labels(dataset, "bad_signature").inc()
        raise Unauthorized(
            f"missing or wrong {SIGNATURE_HEADER} header (expected sha256=<HMAC-SHA256 of the body>)"
        )
    records = _records(raw)
    try:
        report = await run_in_threadpool(
            lambda: ingest_records(
                engine=state.sb.engine,
                records=records,
                dataset=dataset,
                mode=mode,
                source=source,
                actor="webhook",
            )
        )
    except SwitchboardError as exc:
        state.metrics.ingests.labels(dataset, exc.code).inc()
        raise
    state.metrics.ingests.labels(dataset, "ok").inc()
    return report
