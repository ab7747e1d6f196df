"""Webhook forgery and replay: the signed ingest webhook and the Telegram webhook's secret header.

The ingest signature covers timestamp, method, path, query and body (``console.webhook_signature``); each row
changes one thing an attacker controls after seeing (or guessing) a signed request, and names the status the
console must answer. Nothing may be ingested by a refused request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.webhook import SECRET_HEADER, WEBHOOK_PATH, lazy_webhook_router
from console.app import create_app
from console.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_request
from tests.security.bounds import check_error_body
from tests.security.world import WEBHOOK_SECRET, World, open_world

TELEGRAM_SECRET = "telegram-secret-for-the-security-suite"
PATH = "/api/ingest/customers"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_world(tmp_path_factory.mktemp("webhooks")) as w:
        yield w


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with TestClient(world.app) as test_client:
        yield test_client


_serial = iter(range(1000, 100_000))


def records() -> bytes:
    """A body with one new customer (a fresh id each time, so an accepted request always adds a row)."""
    n = next(_serial)
    return json.dumps(
        [{"id": n, "name": f"Customer {n}", "email": f"c{n}@example.com", "region": "emea"}]
    ).encode()


def signed(
    body: bytes,
    *,
    secret: str = WEBHOOK_SECRET,
    stamp: int | None = None,
    method: str = "POST",
    path: str = PATH,
    query: str = "",
) -> dict[str, str]:
    stamp = int(time.time()) if stamp is None else stamp
    signature = sign_request(secret, timestamp=stamp, method=method, path=path, query=query, body=body)
    return {SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: str(stamp), "Content-Type": "application/json"}


def forge(case: str) -> tuple[str, str, bytes, dict[str, str]]:
    """(method, url, body, headers) of one forged or altered request."""
    body = records()
    now = int(time.time())
    if case == "no signature":
        return "POST", PATH, body, {"Content-Type": "application/json"}
    if case == "no timestamp":
        headers = signed(body)
        del headers[TIMESTAMP_HEADER]
        return "POST", PATH, body, headers
    if case == "wrong secret":
        return "POST", PATH, body, signed(body, secret="guessed-secret")
    if case == "empty secret":
        return "POST", PATH, body, signed(body, secret="")
    if case == "legacy body-only sha256":
        digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return "POST", PATH, body, {SIGNATURE_HEADER: f"sha256={digest}", TIMESTAMP_HEADER: str(now)}
    if case == "body altered":
        headers = signed(body)
        return "POST", PATH, body.replace(b"emea", b"apac"), headers
    if case == "query added (?mode=replace)":
        return "POST", PATH + "?mode=replace", body, signed(body)
    if case == "query altered":
        return "POST", PATH + "?mode=replace", body, signed(body, query="mode=append")
    if case == "path altered (other dataset)":
        return "POST", "/api/ingest/orders", body, signed(body)
    if case == "timestamp altered":
        headers = signed(body, stamp=now - 10)
        headers[TIMESTAMP_HEADER] = str(now)
        return "POST", PATH, body, headers
    if case == "signed an hour ago":
        return "POST", PATH, body, signed(body, stamp=now - 3600)
    if case == "signed just outside the window":
        return "POST", PATH, body, signed(body, stamp=now - 320)
    if case == "signed in the future":
        return "POST", PATH, body, signed(body, stamp=now + 900)
    if case == "timestamp not a number":
        headers = signed(body)
        headers[TIMESTAMP_HEADER] = "yesterday"
        return "POST", PATH, body, headers
    if case == "negative timestamp":
        headers = signed(body, stamp=now)
        headers[TIMESTAMP_HEADER] = "-1"
        return "POST", PATH, body, headers
    if case == "signature of another scheme":
        headers = signed(body)
        headers[SIGNATURE_HEADER] = headers[SIGNATURE_HEADER].replace("v1=", "v2=")
        return "POST", PATH, body, headers
    if case == "truncated signature":
        headers = signed(body)
        headers[SIGNATURE_HEADER] = headers[SIGNATURE_HEADER][:-8]
        return "POST", PATH, body, headers
    if case == "huge signature header":
        headers = signed(body)
        headers[SIGNATURE_HEADER] = "v1=" + "a" * 6000
        return "POST", PATH, body, headers
    if case == "uppercase hex signature":
        headers = signed(body)
        headers[SIGNATURE_HEADER] = headers[SIGNATURE_HEADER].upper().replace("V1=", "v1=")
        return "POST", PATH, body, headers
    raise AssertionError(case)


FORGED = [
    ("no signature", 401),
    ("no timestamp", 401),
    ("wrong secret", 401),
    ("empty secret", 401),
    ("legacy body-only sha256", 401),
    ("body altered", 401),
    ("query added (?mode=replace)", 401),
    ("query altered", 401),
    ("path altered (other dataset)", 401),
    ("timestamp altered", 401),
    ("signed an hour ago", 401),
    ("signed just outside the window", 401),
    ("signed in the future", 401),
    ("timestamp not a number", 401),
    ("negative timestamp", 401),
    ("signature of another scheme", 401),
    ("truncated signature", 401),
    ("huge signature header", 401),
    ("uppercase hex signature", 401),
]


@pytest.mark.parametrize(("case", "status"), FORGED, ids=[c for c, _ in FORGED])
def test_a_forged_or_altered_ingest_request_is_refused(
    client: TestClient, world: World, case: str, status: int
) -> None:
    before = world.counts("customers", "orders", "runs", "approvals")
    method, url, body, headers = forge(case)
    response = client.request(method, url, content=body, headers=headers)
    assert response.status_code == status, response.text
    check_error_body(response.content)
    assert world.counts("customers", "orders", "runs", "approvals") == before


REPLAYS = [
    ("exact replay", 409),
    ("replay with ?mode=replace", 401),
    ("replay with a fresh timestamp header", 401),
    ("replay to another dataset", 401),
    ("replay as PUT", 405),
]


@pytest.mark.parametrize(("case", "status"), REPLAYS, ids=[c for c, _ in REPLAYS])
def test_a_replayed_ingest_request_is_refused(
    client: TestClient, world: World, case: str, status: int
) -> None:
    body = records()
    headers = signed(body)
    first = client.post(PATH, content=body, headers=headers)
    assert first.status_code == 200, first.text
    before = world.counts("customers", "orders", "runs", "approvals")
    url, method = PATH, "POST"
    if case == "replay with ?mode=replace":
        url = PATH + "?mode=replace"
    elif case == "replay with a fresh timestamp header":
        headers = {**headers, TIMESTAMP_HEADER: str(int(time.time()) + 1)}
    elif case == "replay to another dataset":
        url = "/api/ingest/products"
    elif case == "replay as PUT":
        method = "PUT"
    response = client.request(method, url, content=body, headers=headers)
    assert response.status_code == status, response.text
    check_error_body(response.content)
    assert world.counts("customers", "orders", "runs", "approvals") == before


def test_a_freshly_signed_request_is_accepted_once(client: TestClient, world: World) -> None:
    before = world.counts("customers")["customers"]
    body = records()
    assert client.post(PATH, content=body, headers=signed(body)).status_code == 200
    assert world.counts("customers")["customers"] == before + 1


@pytest.fixture(scope="module")
def telegram(world: World) -> Iterator[TestClient]:
    """The console with the Telegram webhook mounted; no bot is running, so an accepted update answers 503."""
    settings = world.settings.model_copy(update={"telegram_webhook_secret": SecretStr(TELEGRAM_SECRET)})
    app = create_app(
        settings, switchboard=world.sb, extra_routers=[lazy_webhook_router(lambda: None, settings)]
    )
    with TestClient(app) as test_client:
        yield test_client


def update(text: str = "list runs") -> dict[str, Any]:
    return {
        "update_id": 7,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": 1001, "type": "private"},
            "from": {"id": 1001, "is_bot": False, "first_name": "Olive"},
            "text": text,
        },
    }


TELEGRAM = [
    ("no secret header", None, 403),
    ("wrong secret", "guess", 403),
    ("secret with a suffix", TELEGRAM_SECRET + "x", 403),
    ("secret prefix only", TELEGRAM_SECRET[:-1], 403),
    ("secret in upper case", TELEGRAM_SECRET.upper(), 403),
    ("empty secret", "", 403),
    ("huge secret header", "s" * 6000, 403),
    ("the ingest secret", WEBHOOK_SECRET, 403),
    ("right secret", TELEGRAM_SECRET, 503),  # accepted: the bot is not running in this app
]


@pytest.mark.parametrize(("case", "secret", "status"), TELEGRAM, ids=[c for c, _, _ in TELEGRAM])
def test_the_telegram_webhook_checks_its_secret(
    telegram: TestClient, world: World, case: str, secret: str | None, status: int
) -> None:
    before = world.counts("runs", "approvals", "messages")
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    response = telegram.post(WEBHOOK_PATH, json=update(), headers=headers)
    assert response.status_code == status, f"{case}: {response.text}"
    check_error_body(response.content)
    assert world.counts("runs", "approvals", "messages") == before
