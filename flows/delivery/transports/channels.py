"""Notification channels: Telegram (Bot API sendMessage), e-mail over SMTP, a JSON webhook; one attempt each.

Like the delivery transports they raise ``TransientError`` (retry) or ``PermanentError`` (stop) with user-safe
messages. The bot token is part of the Bot API URL, so no URL of that API ever appears in a message.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import httpx

from flows.config import SmtpConfig
from flows.delivery.retry import PermanentError, TransientError
from flows.delivery.transports.base import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, safe_url, sign
from flows.delivery.transports.webhook import classify_status, transport_error

TELEGRAM_MAX_TEXT = 4096
TelegramPost = Callable[[str, Mapping[str, Any], float], httpx.Response]
"""Posts a JSON payload to a Bot API method URL with a timeout; injectable so callers can reuse a client."""


def default_telegram_post(url: str, payload: Mapping[str, Any], timeout: float) -> httpx.Response:
    """POST with a short-lived httpx client that ignores proxy variables."""
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        return client.post(url, json=dict(payload))


def telegram_chat(address: str) -> int | str:
    """A chat id as the Bot API wants it: an int for numeric ids, the @username string otherwise."""
    return int(address) if address.lstrip("-").isdigit() else address


def send_telegram(
    *, api_url: str, token: str, chat: str, text: str, post: TelegramPost | None, timeout: float = 10.0
) -> None:
    """Send one Telegram message.

    Raises:
        TransientError: unreachable API, 5xx, or 429 (with the server's ``retry_after``).
        PermanentError: any other refusal (unknown chat, bot blocked, bad request).
    """
    payload = {"chat_id": telegram_chat(chat), "text": text[:TELEGRAM_MAX_TEXT]}
    where = "the Telegram Bot API"
    try:
        response = (post or default_telegram_post)(f"{api_url}{token}/sendMessage", payload, timeout)
    except httpx.HTTPError as exc:
        # The exception text may quote the URL, which holds the token: describe it by host and port only.
        raise transport_error(exc, name=where, url=api_url) from None
    try:
        body: Any = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if 200 <= response.status_code < 300 and body.get("ok", True):
        return
    code = int(body.get("error_code") or response.status_code)
    description = str(body.get("description") or response.reason_phrase or "no description")
    if code == 401:
        description = "Unauthorized (check the bot token)"
    if code == 429:
        params = body.get("parameters")
        wait = params.get("retry_after") if isinstance(params, dict) else None
        raise TransientError(f"{where} asked to slow down (429)", retry_after=float(wait) if wait else None)
    if code >= 500:
        raise TransientError(f"{where} answered {code}: {description}")
    raise PermanentError(f"{where} refused the message to chat {chat}: {description}")


def email_subject(message: str) -> str:
    """``Switchboard: <first line>``, shortened to fit a subject line."""
    first = next((line.strip() for line in message.splitlines() if line.strip()), "notification")
    return f"Switchboard: {first if len(first) <= 100 else first[:99] + '…'}"


def send_email(*, smtp: SmtpConfig, password: str | None, to: str, message: str, message_id: str) -> None:
    """Send one plain-text e-mail.

    Raises:
        TransientError: the server is unreachable, dropped the connection, or answered 4xx.
        PermanentError: the login or the recipient was refused, or the server answered 5xx.
    """
    mail = EmailMessage()
    mail["Subject"] = email_subject(message)
    mail["From"] = smtp.sender
    mail["To"] = to
    mail["Date"] = formatdate(localtime=False)
    # A stable Message-ID per outbox row lets mail systems drop a duplicate if a retry follows a lost reply.
    mail["Message-ID"] = message_id
    mail.set_content(message)
    where = f"the mail server at {smtp.host}:{smtp.port}"
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, password or "")
            client.send_message(mail, from_addr=smtp.sender, to_addrs=[to])
    except smtplib.SMTPAuthenticationError:
        raise PermanentError(f"{where} refused the login for user {smtp.username!r}") from None
    except smtplib.SMTPRecipientsRefused:
        raise PermanentError(f"{where} refused the recipient {to}") from None
    except smtplib.SMTPResponseException as exc:
        reply = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        text = f"{where} answered {exc.smtp_code} {reply}".strip()
        if 400 <= exc.smtp_code < 500:
            raise TransientError(text) from None
        raise PermanentError(text) from None
    except smtplib.SMTPException as exc:
        raise TransientError(f"lost the connection to {where}: {type(exc).__name__}") from None
    except ConnectionRefusedError:
        raise TransientError(f"could not reach {where}: connection refused") from None
    except TimeoutError:
        raise TransientError(f"could not reach {where}: timed out after {smtp.timeout_s:g}s") from None
    except OSError as exc:
        raise TransientError(f"could not reach {where}: {exc.strerror or type(exc).__name__}") from None


def send_webhook(
    *,
    url: str,
    payload: Mapping[str, Any],
    secret: str | None,
    timeout: float = 10.0,
    message_id: str | None = None,
) -> None:
    """POST a JSON notification, HMAC-signed when a secret is given.

    Raises:
        TransientError: unreachable, timed out, 408/425/429 or 5xx.
        PermanentError: any other non-2xx answer.
    """
    body = json.dumps(dict(payload), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(int(time.time()))}
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    if message_id is not None:
        headers[DELIVERY_HEADER] = message_id
    what = f"webhook {safe_url(url)}"
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise transport_error(exc, name="webhook", url=url) from None
    classify_status(response, what=what)


__all__ = [
    "TELEGRAM_MAX_TEXT",
    "TelegramPost",
    "default_telegram_post",
    "email_subject",
    "send_email",
    "send_telegram",
    "send_webhook",
    "telegram_chat",
]
