"""The one secret rule: every secret-looking key hides its value, whatever the value's type, at any depth."""

from __future__ import annotations

import pytest

from core.redaction import REDACTED, redact, scrub

SECRET_KEYS = [
    "password",
    "pass",
    "db_password",
    "secret",
    "client_secret",
    "token",
    "api_token",
    "Token",
    "api_key",
    "api-key",
    "apikey",
    "authorization",
    "Authorization",
    "private_key",
    "private-key",
    "cookie",
    "set_cookie",
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_a_plain_string_under_a_secret_key_is_redacted(key: str) -> None:
    assert redact({key: "plain-value", "note": "fine"}) == {key: REDACTED, "note": "fine"}


@pytest.mark.parametrize("key", ["token", "password"])
def test_any_value_under_a_secret_key_is_redacted_at_any_depth(key: str) -> None:
    data = {"a": [{"b": {key: 12345}}, {key: ["x", "y"]}, {key: None}]}
    assert redact(data) == {"a": [{"b": {key: REDACTED}}, {key: REDACTED}, {key: REDACTED}]}


@pytest.mark.parametrize("key", ["note", "user", "amount"])
def test_ordinary_keys_keep_their_values(key: str) -> None:
    assert redact({key: "kept"}) == {key: "kept"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abcdefgh12345678", f"Authorization: Bearer {REDACTED}"),
        ("token sb_abcdefghijklmnop1234 used", f"token {REDACTED} used"),
        ("GET /bot123456:AAE-secret_part/getMe", f"GET /bot{REDACTED}/getMe"),
    ],
)
def test_credentials_in_free_text_are_masked(text: str, expected: str) -> None:
    assert scrub(text) == expected
