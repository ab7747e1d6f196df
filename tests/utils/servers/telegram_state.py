"""State and method semantics of the fake Telegram Bot API, with no HTTP in sight.

``BotState`` implements the documented behaviour of each method (results,
validation errors with Telegram's own descriptions) over thread-safe state that
test code and the server loop share. Transport, long polling and fault
injection live in ``telegram_api``.
"""

from __future__ import annotations

import itertools
import json
import mimetypes
import threading
from typing import Any

from tests.utils.servers import telegram_objects as obj
from tests.utils.servers.telegram_objects import ApiError, StoredFile, UploadedFile, bad_request

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_DOWNLOAD = 20 * 1024 * 1024
CHAT_ACTIONS = frozenset(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note".split()
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def _update_kind(update: dict[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")


class BotState:
    """Everything the fake remembers: messages, files, callbacks, commands, webhook, updates."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.me = obj.bot_user(token)
        self.lock = threading.RLock()
        self.updates: list[dict[str, Any]] = []
        self.allowed_updates: list[str] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.files: dict[str, StoredFile] = {}
        self.pending_callbacks: set[str] = set()
        self.answered_callbacks: dict[str, dict[str, Any]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.blocked_chats: set[int] = set()
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._file_seq = itertools.count(1)

    # -- ids, files and updates -------------------------------------------------------------------

    def next_message_id(self) -> int:
        """Allocate a message id (one counter for all chats keeps them unique per chat)."""
        with self.lock:
            return next(self._message_ids)

    def next_update_id(self) -> int:
        """Allocate an increasing update id."""
        with self.lock:
            return next(self._update_ids)

    def add_file(self, content: bytes, *, file_name: str, mime_type: str | None = None) -> StoredFile:
        """Store ``content`` so that getFile and the download route can serve it."""
        with self.lock:
            n = next(self._file_seq)
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        folder = "photos" if mime.startswith("image/") else "documents"
        suffix = "." + file_name.rsplit(".", 1)[1] if "." in file_name else ""
        stored = StoredFile(
            f"FILE{n:06d}", f"U{n:06d}", f"{folder}/file_{n}{suffix}", file_name, mime, content
        )
        with self.lock:
            self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        """Look a stored file up by its ``file_path``."""
        with self.lock:
            return next((f for f in self.files.values() if f.file_path == path), None)

    def enqueue(self, update: dict[str, Any]) -> None:
        """Queue an incoming update and remember any callback query it carries."""
        with self.lock:
            query = update.get("callback_query")
            if isinstance(query, dict) and "id" in query:
                self.pending_callbacks.add(str(query["id"]))
            self.updates.append(update)

    def take_updates(self, offset: int | None, limit: int) -> list[dict[str, Any]]:
        """Apply getUpdates offset semantics and return up to ``limit`` deliverable updates."""
        with self.lock:
            if offset is not None and offset < 0:
                self.updates = self.updates[offset:]
            elif offset is not None:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            allowed = self.allowed_updates
            ready = [u for u in self.updates if not allowed or _update_kind(u) in allowed]
            return ready[:limit]

    def remove_update(self, update_id: int) -> None:
        """Forget an update (after a successful webhook delivery)."""
        with self.lock:
            self.updates = [u for u in self.updates if u["update_id"] != update_id]

    # -- method implementations -------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """Run Bot API ``method`` (lower-cased name) and return its ``result``."""
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            raise ApiError(404, "Not Found")
        with self.lock:
            return handler(params)

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise bad_request("chat_id is empty")
        chat = obj.chat(chat_id)
        if chat["id"] in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _send(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat = self._chat(params)
        markup = params.get("reply_markup")
        if obj.callback_data_too_long(markup):
            raise bad_request("BUTTON_DATA_INVALID")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        msg = obj.message(message_id=self.next_message_id(), chat=chat, sender=self.me, **content)
        self.messages[(chat["id"], msg["message_id"])] = msg
        return msg

    def _upload(self, value: Any, *, default_name: str) -> StoredFile:
        if isinstance(value, UploadedFile):
            return self.add_file(value.content, file_name=value.filename or default_name, mime_type=None)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _caption(self, params: dict[str, Any]) -> str | None:
        caption = params.get("caption")
        if isinstance(caption, str) and len(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return caption

    def _m_getme(self, params: dict[str, Any]) -> Any:
        return self.me

    def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        text = str(params.get("text") or "")
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return self._send(params, text=text)

    def _m_sendphoto(self, params: dict[str, Any]) -> Any:
        caption = self._caption(params)
        stored = self._upload(params.get("photo"), default_name="photo.jpg")
        sizes = obj.photo_sizes(
            file_id=stored.file_id, file_unique_id=stored.file_unique_id, content=stored.content
        )
        return self._send(params, photo=sizes, caption=caption)

    def _m_senddocument(self, params: dict[str, Any]) -> Any:
        caption = self._caption(params)
        f = self._upload(params.get("document"), default_name="document")
        doc = obj.document(
            file_id=f.file_id,
            file_unique_id=f.file_unique_id,
            file_name=f.file_name,
            mime_type=f.mime_type,
            size=len(f.content),
        )
        return self._send(params, document=doc, caption=caption)

    def _editable(self, params: dict[str, Any]) -> dict[str, Any] | None:
        if params.get("inline_message_id"):
            return None
        key = (self._chat(params)["id"], int(params.get("message_id") or 0))
        msg = self.messages.get(key)
        if msg is None:
            raise bad_request("message to edit not found")
        if msg["from"]["id"] != self.me["id"]:
            raise bad_request("message can't be edited")
        return msg

    def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        msg = self._editable(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise bad_request("message text is empty")
        if msg is None:
            return True
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit")
        markup = params.get("reply_markup")
        if obj.callback_data_too_long(markup):
            raise bad_request("BUTTON_DATA_INVALID")
        if text == msg["text"] and markup == msg.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        msg.update(text=text, edit_date=obj.now())
        msg.pop("reply_markup", None)
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        return dict(msg)

    def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        msg = self._editable(params)
        if msg is None:
            return True
        markup = params.get("reply_markup")
        if markup == msg.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        msg.pop("reply_markup", None)
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            msg["reply_markup"] = markup
        msg["edit_date"] = obj.now()
        return dict(msg)

    def _m_deletemessage(self, params: dict[str, Any]) -> Any:
        key = (self._chat(params)["id"], int(params.get("message_id") or 0))
        if self.messages.pop(key, None) is None:
            raise bad_request("message to delete not found")
        return True

    def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self.pending_callbacks:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        self.pending_callbacks.discard(query_id)
        self.answered_callbacks[query_id] = dict(params)
        return True

    def _m_sendchataction(self, params: dict[str, Any]) -> Any:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _m_getfile(self, params: dict[str, Any]) -> Any:
        stored = self.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = None if not url else {k: v for k, v in params.items() if k != "certificate"}
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"] or [])
        return True

    def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = None
        return True

    def _m_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        hook = self.webhook or {}
        info: dict[str, Any] = {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if hook:
            info["max_connections"] = int(hook.get("max_connections") or 40)
            if self.allowed_updates:
                info["allowed_updates"] = list(self.allowed_updates)
        return info

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def _m_setmycommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("commands must be an array")
        for c in commands:
            name = str(c.get("command", "")) if isinstance(c, dict) else ""
            ok_name = 1 <= len(name) <= 32 and all(ch.islower() or ch.isdigit() or ch == "_" for ch in name)
            if not ok_name or not 1 <= len(str(c.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_INVALID")
        self.commands[self._scope_key(params)] = commands
        return True

    def _m_getmycommands(self, params: dict[str, Any]) -> Any:
        return self.commands.get(self._scope_key(params), [])

    def _m_deletemycommands(self, params: dict[str, Any]) -> Any:
        self.commands.pop(self._scope_key(params), None)
        return True

    def _m_close(self, params: dict[str, Any]) -> Any:
        return True

    def _m_logout(self, params: dict[str, Any]) -> Any:
        return True
