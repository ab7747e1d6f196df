"""Inline keyboards: approval buttons, quick answers and the reason prompt; every callback_data is a token."""

from __future__ import annotations

from urllib.parse import urlparse

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})


def console_link_allowed(url: str) -> bool:
    """Telegram refuses URL buttons to loopback hosts, which would make the whole message fail."""
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and (parsed.hostname or "") not in LOOPBACK_HOSTS


def approval_keyboard(*, approve_token: str, reject_token: str, edit_url: str | None) -> InlineKeyboardMarkup:
    """Approve and Reject (tokens), and Edit (a console link) when the console is reachable from a phone."""
    row = [
        InlineKeyboardButton("✅ Approve", callback_data=approve_token),
        InlineKeyboardButton("❌ Reject", callback_data=reject_token),
    ]
    if edit_url and console_link_allowed(edit_url):
        row.append(InlineKeyboardButton("✏️ Edit", url=edit_url))
    return InlineKeyboardMarkup([row])


SHORT_ANSWER = 12  # characters: answers this short ("yes", "no") share a row; longer ones get a row each


def answer_keyboard(answers: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """One button per quick answer: (label, token); suggestions too long to share a row stack, as on a phone."""
    buttons = [
        InlineKeyboardButton(label[:1].upper() + label[1:], callback_data=token) for label, token in answers
    ]
    if all(len(label) <= SHORT_ANSWER for label, _ in answers):
        return InlineKeyboardMarkup([buttons])
    return InlineKeyboardMarkup([[button] for button in buttons])


def reason_prompt() -> ForceReply:
    """Opens the reply box for the person asked (in a group: only them), so the reason reaches the bot."""
    return ForceReply(selective=True, input_field_placeholder="Reason for rejecting")
