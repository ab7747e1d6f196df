"""Telegram Bot API objects as plain dicts, plus the fake's error and file types.

Shapes follow https://core.telegram.org/bots/api. Entity offsets are counted in
UTF-16 code units, as Telegram does, so PTB's ``CommandHandler`` and mention
filters see exactly what real Telegram would send.
"""

from __future__ import annotations

import re
import time
import zlib
from dataclasses import dataclass
from typing import Any

BOT_FIRST_NAME = "Switchboard Test Bot"
BOT_USERNAME = "switchboard_test_bot"
SUPERGROUP_BELOW = -1_000_000_000_000

_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{5,32})?")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}")


def now() -> int:
    """Unix time in whole seconds, the unit of every Bot API ``date``."""
    return int(time.time())


def bot_user(token: str) -> dict[str, Any]:
    """The bot's own User, as getMe returns it; the id is the token's numeric prefix."""
    return {
        "id": int(token.split(":", 1)[0]),
        "is_bot": True,
        "first_name": BOT_FIRST_NAME,
        "username": BOT_USERNAME,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def user(user_id: int, *, first_name: str | None = None, username: str | None = None) -> dict[str, Any]:
    """A human User."""
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
    if username:
        out["username"] = username
    out["language_code"] = "en"
    return out


def chat(chat_id: int | str, *, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Chat for ``chat_id``: private when positive, group/supergroup when negative, channel for '@name'."""
    if isinstance(chat_id, str) and not chat_id.lstrip("-").isdigit():
        numeric = SUPERGROUP_BELOW - zlib.crc32(chat_id.encode()) % 1_000_000
        return {
            "id": numeric,
            "type": "channel",
            "title": chat_id.lstrip("@"),
            "username": chat_id.lstrip("@"),
        }
    cid = int(chat_id)
    if cid > 0:
        out: dict[str, Any] = {"id": cid, "type": "private", "first_name": f"User{cid}"}
        if owner is not None:
            out["first_name"] = owner.get("first_name", out["first_name"])
            if "username" in owner:
                out["username"] = owner["username"]
        return out
    kind = "supergroup" if cid <= SUPERGROUP_BELOW else "group"
    return {"id": cid, "type": kind, "title": f"Test {kind} {abs(cid)}"}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_for(text: str) -> list[dict[str, Any]]:
    """Entities Telegram would attach: a leading ``bot_command`` and ``@mentions``."""
    out: list[dict[str, Any]] = []
    match = _COMMAND.match(text)
    if match:
        out.append({"type": "bot_command", "offset": 0, "length": _utf16_len(match.group(0))})
    for m in _MENTION.finditer(text):
        if match and m.start() < match.end():
            continue
        out.append(
            {"type": "mention", "offset": _utf16_len(text[: m.start()]), "length": _utf16_len(m.group(0))}
        )
    return out


def message(
    *, message_id: int, chat: dict[str, Any], sender: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    """A Message; ``fields`` adds text, caption, document, photo, reply_markup and so on."""
    out: dict[str, Any] = {"message_id": message_id, "from": sender, "chat": chat, "date": now()}
    out.update({k: v for k, v in fields.items() if v is not None})
    return out


def callback_query(
    *, query_id: str, sender: dict[str, Any], data: str, on_message: dict[str, Any]
) -> dict[str, Any]:
    """A CallbackQuery from an inline button on ``on_message``."""
    instance = str(zlib.crc32(str(on_message["chat"]["id"]).encode()))
    return {"id": query_id, "from": sender, "message": on_message, "chat_instance": instance, "data": data}


def document(
    *, file_id: str, file_unique_id: str, file_name: str, mime_type: str, size: int
) -> dict[str, Any]:
    """A Document object."""
    return {
        "file_id": file_id,
        "file_unique_id": file_unique_id,
        "file_name": file_name,
        "mime_type": mime_type,
        "file_size": size,
    }


def photo_sizes(*, file_id: str, file_unique_id: str, content: bytes) -> list[dict[str, Any]]:
    """A one-element PhotoSize list; PNG dimensions are read from the header when present."""
    width = height = 1
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        width = int.from_bytes(content[16:20], "big")
        height = int.from_bytes(content[20:24], "big")
    return [
        {
            "file_id": file_id,
            "file_unique_id": file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(content),
        }
    ]


def callback_data_too_long(reply_markup: Any) -> bool:
    """Tell whether any inline button carries callback_data over Telegram's 64-byte limit."""
    if not isinstance(reply_markup, dict):
        return False
    for row in reply_markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if isinstance(data, str) and not 1 <= len(data.encode()) <= 64:
                return True
    return False


class ApiError(Exception):
    """A Bot API error reply: ``{"ok": false, "error_code", "description", "parameters"}``."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        out: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            out["parameters"] = {"retry_after": self.retry_after}
        return out


def bad_request(detail: str) -> ApiError:
    """A 400 with Telegram's "Bad Request: ..." prefix."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part received by the fake (e.g. ``params["document"]``)."""

    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class StoredFile:
    """A file the fake can serve through getFile and /file/bot<TOKEN>/<path>."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    mime_type: str
    content: bytes
