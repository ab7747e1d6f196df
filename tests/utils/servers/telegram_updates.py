"""Builders of incoming Telegram updates (text, command, document, callback) for tests.

Mixed into ``TelegramApi`` so tests write ``api.push_update(api.text_update(42, "hi"))``.
Builders allocate update and message ids from the fake's state and register
files and callback query ids, so what PTB later asks about (getFile,
answerCallbackQuery) is known to the fake. The returned dicts also feed PTB's
offline ``Update.de_json`` for handler unit tests.
"""

from __future__ import annotations

from typing import Any

from tests.utils.servers import telegram_objects as obj
from tests.utils.servers.telegram_objects import StoredFile
from tests.utils.servers.telegram_state import BotState


class UpdateBuilders:
    """Update builders over a ``BotState``; the host class provides ``state``."""

    state: BotState

    @property
    def bot(self) -> dict[str, Any]:
        """The bot's User object as getMe returns it."""
        return dict(self.state.me)

    def add_file(self, content: bytes, *, file_name: str, mime_type: str | None = None) -> StoredFile:
        """Store a file that getFile and the download route will serve."""
        return self.state.add_file(content, file_name=file_name, mime_type=mime_type)

    def message_update(
        self, user_id: int, *, chat_id: int | None = None, kind: str = "message", **fields: Any
    ) -> dict[str, Any]:
        """Build (not push) an update carrying a Message from ``user_id``; ``fields`` are Message fields."""
        sender = obj.user(user_id)
        chat = obj.chat(chat_id if chat_id is not None else user_id, owner=sender)
        msg = obj.message(message_id=self.state.next_message_id(), chat=chat, sender=sender, **fields)
        if kind == "edited_message":
            msg["edit_date"] = msg["date"]
        with self.state.lock:
            self.state.messages[(chat["id"], msg["message_id"])] = msg
        return {"update_id": self.state.next_update_id(), kind: msg}

    def text_update(
        self, user_id: int, text: str, *, chat_id: int | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Build a text message update; commands and @mentions get their entities."""
        entities = obj.entities_for(text) or None
        return self.message_update(user_id, chat_id=chat_id, text=text, entities=entities, **fields)

    def document_update(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        *,
        mime_type: str | None = None,
        chat_id: int | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Build a document message update; the file is downloadable through getFile."""
        f = self.add_file(content, file_name=file_name, mime_type=mime_type)
        doc = obj.document(
            file_id=f.file_id,
            file_unique_id=f.file_unique_id,
            file_name=file_name,
            mime_type=f.mime_type,
            size=len(content),
        )
        return self.message_update(user_id, chat_id=chat_id, document=doc, caption=caption)

    def callback_update(
        self, user_id: int, data: str, *, message_id: int | None = None, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Build a callback_query update for a button on a bot message (the latest in the chat by default)."""
        cid = chat_id if chat_id is not None else user_id
        with self.state.lock:
            mine = [
                m
                for (c, _), m in self.state.messages.items()
                if c == cid and m["from"]["id"] == self.bot["id"]
            ]
            chosen = [m for m in mine if message_id is None or m["message_id"] == message_id]
        on_message = dict(chosen[-1]) if chosen else None
        if on_message is None:
            mid = message_id or self.state.next_message_id()
            on_message = obj.message(message_id=mid, chat=obj.chat(cid), sender=self.bot, text="(buttons)")
        update_id = self.state.next_update_id()
        query = obj.callback_query(
            query_id=f"{update_id}{user_id}", sender=obj.user(user_id), data=data, on_message=on_message
        )
        with self.state.lock:
            self.state.pending_callbacks.add(query["id"])
        return {"update_id": update_id, "callback_query": query}
