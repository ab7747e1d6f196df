"""The console's settings: where it listens, how many workers serve it, and its limits and credentials."""

from __future__ import annotations

from pydantic import Field, SecretStr

from agent.config import AgentSettings


class ConsoleSettings(AgentSettings):
    """Agent settings plus the web console's."""

    console_host: str = "127.0.0.1"
    console_port: int = 8000
    console_workers: int = Field(
        default=1,
        ge=1,
        le=32,
        description="uvicorn worker processes for 'switchboard serve' (one per core is a good start).",
    )
    console_slot: int = Field(
        default=0,
        ge=0,
        description="Set by 'serve --workers N' in each worker (0..N-1): the worker's place, kept across restarts.",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests per user per minute (0: no limit), shared by the workers."
    )
    session_secret: SecretStr | None = None
    ingest_webhook_secret: SecretStr | None = None
    ingest_webhook_window_s: int = Field(
        default=300,
        ge=1,
        le=3600,
        description="How far a signed ingest request's timestamp may be from the server's clock (the replay window).",
    )
