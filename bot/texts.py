"""Every user-facing string the bot sends, in one place (the agent's own replies come from prompts/).

Placeholders use ``str.format``; values are HTML-escaped by the caller because the bot sends HTML.
"""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, str]] = {
    # access
    "refuse_unknown": (
        "Hello! I'm Switchboard, a private assistant for this team's automation flows. I don't know your "
        "Telegram account, so I can't help here. Ask an admin to link it with "
        "<code>switchboard users link-telegram NAME {telegram_user_id}</code>."
    ),
    "refuse_chat": "Sorry, I'm not allowed to work in this chat. Ask an admin to add it to the allowlist.",
    # commands
    "start": "{greeting}\n\nYou are signed in as <b>{user}</b> ({role}). Commands: {commands}.",
    "no_runs": "No runs yet.",
    "runs_not_allowed": "Sorry, the {role} role may not list runs.",
    "no_pending": "Nothing is waiting for approval.",
    "no_pending_mine": "You have no requests waiting for approval.",
    "pending_mine_header": "Your requests waiting for approval:",
    "pending_more": "There are more waiting; the console shows them all: {url}",
    "cancel_nothing": "There is nothing to cancel.",
    "cancel_reason": "OK, I won't reject {approval_id}.",
    "unknown_command": "I don't know /{command}. Try /help.",
    # other message kinds
    "edited": (
        "I only act on new messages, so I ignored that edit. Please send the corrected text as a new message."
    ),
    "unsupported": (
        "I can read text messages and CSV, XLSX or JSON files, but not {what}. Type /help to see what I do."
    ),
    "bad_file_type": "I can only load CSV, XLSX or JSON files; {name} is none of those.",
    "file_too_large": "{name} is {size} MB; the most I accept is {limit} MB.",
    "file_saved": "Saved {name} in the inbox.",
    # approvals
    "approval_title": "🔔 <b>Approval needed</b> · <code>{approval_id}</code>",
    "approval_reminder": "⏰ <b>Reminder</b>: this request expires at {expires}.",
    "approval_edit_link": "Edit in the console: {url}",
    "approval_approved": "✅ Approved by {by}{tail}",
    "approval_rejected": "❌ Rejected by {by}: {reason}",
    "approval_expired": "⌛ Expired before anyone decided; it did not run.",
    "approval_superseded": "✏️ Edited by {by}; replaced by a new request.",
    "approval_failed": "⚠️ Approved by {by}, but it failed.",
    "approval_voted": "👍 You approved; {more} more approval(s) needed.",
    "approval_outcome": "Request {approval_id} ({call}) is now {status}{by}.",
    "ask_reason": "Why are you rejecting {approval_id}? Reply with the reason, or send /cancel.",
    "rejected_ack": "Rejected {approval_id}. I told the requester.",
    # callback answers (short: Telegram shows them as a toast)
    "cb_invalid": "This button is no longer valid.",
    "cb_not_yours": "This button belongs to another approver.",
    "cb_only_approvers": "Only approvers can decide",
    "cb_four_eyes": "You can't approve your own request (four-eyes)",
    "cb_already_voted": "You already approved this; {more} more approval(s) needed from others.",
    "cb_inactive": "Your account is deactivated.",
    "cb_decided": "Already decided by {by}",
    "cb_expired": "This request has expired.",
    "cb_superseded": "This request was edited; decide the new one.",
    "cb_gone": "This request no longer exists.",
    "cb_approved": "Approved.",
    "cb_running": "Approved; it is running now.",
    "cb_reason": "Send the reason in the chat.",
    "cb_answered": "OK",
    "cb_unknown_user": "I don't know your Telegram account.",
    # errors
    "failed": "That didn't work: {error}",
    "internal_error": (
        "Sorry, something went wrong on my side. The team can find the details in the server log."
    ),
}


def text(template: str, /, **values: object) -> str:
    """Render the named template with ``values`` (already escaped for HTML where needed)."""
    return TEXTS[template].format(**values)
