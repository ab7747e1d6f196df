"""Who a notification goes to: a recipient group from config expands to members; anything else is an address.

A group member has its own channel and address. When the caller names a channel, only the group's members on
that channel are chosen. A recipient that is not a group must look like an address of the channel: an e-mail
address, a Telegram chat id or @username, or an http(s) URL.
"""

from __future__ import annotations

import re

from core.errors import BadInput, ConfigError, NotFound
from core.vocabulary import Channel
from flows.config import FlowSettings, Recipient
from flows.delivery.transports import safe_url

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
TELEGRAM = re.compile(r"^(-?\d+|@[A-Za-z][A-Za-z0-9_]{3,31})$")
WEBHOOK = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_PATTERNS = {"email": EMAIL, "telegram": TELEGRAM, "webhook": WEBHOOK}
_HINTS = {
    "email": "an e-mail address such as ops@example.com",
    "telegram": "a numeric chat id or an @username",
    "webhook": "an http(s) URL",
}


def shown_address(address: str) -> str:
    """An address or recipient fit for messages and the audit log (URLs lose user-info and query)."""
    return safe_url(address) if WEBHOOK.match(address) else address


def find_group(settings: FlowSettings, name: str) -> tuple[str, list[Recipient]] | None:
    """The configured group called ``name`` (case-insensitive) and its members, or None."""
    for group, members in settings.recipient_groups.items():
        if group.casefold() == name.strip().casefold():
            return group, members
    return None


def resolve_recipients(*, settings: FlowSettings, channel: Channel | None, recipient: str) -> list[Recipient]:
    """Expand a group to its members on ``channel``, or check that ``recipient`` is an address for it.

    Raises:
        NotFound: the group has no member on the requested channel.
        BadInput: ``recipient`` is neither a group nor a plausible address for the channel.
    """
    recipient = recipient.strip()
    found = find_group(settings, recipient)
    if found is not None:
        group, members = found
        chosen = [m for m in members if channel is None or m.channel == channel]
        if not chosen:
            have = ", ".join(sorted({m.channel for m in members})) or "none"
            raise NotFound(
                f"recipient group {group} has no {channel} members (its members use: {have})",
                recipient=group,
                channel=channel,
            )
        return list(dict.fromkeys(chosen))
    groups = ", ".join(sorted(settings.recipient_groups)) or "none configured"
    if channel is None:
        raise BadInput(
            f"unknown recipient {recipient!r}: not a recipient group ({groups}); "
            "name a channel to send to an address",
            recipient=recipient,
            field="recipient",
        )
    if not _PATTERNS[channel].match(recipient):
        raise BadInput(
            f"unknown recipient {recipient!r}: not a recipient group ({groups}) and not {_HINTS[channel]}",
            recipient=recipient,
            field="recipient",
        )
    return [Recipient(channel=channel, address=recipient)]


def check_channels(settings: FlowSettings, members: list[Recipient]) -> None:
    """Fail before anything is sent when a channel cannot work at all.

    Raises:
        ConfigError: no Telegram bot token, or the SMTP password secret is unset.
    """
    channels = {m.channel for m in members}
    if "telegram" in channels and settings.telegram_token is None:
        raise ConfigError(
            "telegram notifications need a bot token; set SWITCHBOARD_TELEGRAM_TOKEN",
            setting="telegram_token",
        )
    smtp = settings.smtp
    if "email" in channels and smtp.password_secret and settings.secret(smtp.password_secret) is None:
        raise ConfigError(
            f"e-mail notifications need the secret {smtp.password_secret!r}; set "
            f"SWITCHBOARD_SECRET_{smtp.password_secret.upper()}",
            setting="smtp.password_secret",
        )
