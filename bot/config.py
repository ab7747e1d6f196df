"""The Telegram bot's settings: the webhook secret and the chats it answers (the token is the flows')."""

from __future__ import annotations

from pydantic import Field, SecretStr

from agent.config import AgentSettings


class BotSettings(AgentSettings):
    """Agent settings plus the bot's."""

    telegram_webhook_secret: SecretStr | None = None
    telegram_allowed_chats: list[int] = Field(default_factory=list)
