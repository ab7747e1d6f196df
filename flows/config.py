"""Settings: one object built from ``SWITCHBOARD_*`` environment variables plus one YAML file.

``SWITCHBOARD_CONFIG`` names the YAML file (default: the demo config shipped beside this module) and
``SWITCHBOARD_DATABASE_URL`` the database. Secrets come only from the environment (``SWITCHBOARD_SECRET_<NAME>``) or
from files in ``secrets_dir``; they are held as ``SecretStr`` and never logged or audited.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from flows.config_models import (
    AlertRule,
    Destination,
    NormalizeRules,
    Pipeline,
    PolicyConfig,
    Recipient,
    RetryPolicy,
    Rulesets,
    SmtpConfig,
)
from flows.errors import ConfigError

DEFAULT_CONFIG = Path(__file__).with_name("defaults.yaml")
_SECRET_PREFIX = "SWITCHBOARD_SECRET_"


class AgentConfig(BaseModel):
    """Which backend maps messages to tool calls, and how to reach Ollama."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["embedded", "ollama"] = "embedded"
    ollama_host: str = "http://127.0.0.1:11434"
    ollama_model: str = "qwen2.5:7b-instruct"
    ollama_timeout_s: float = 30.0
    ollama_keep_alive: str = "10m"
    encoder_threads: int = 1
    # Chat turns that run at once in one process (a console worker, the bot); the others queue. None picks by
    # backend: an embedded turn is pure CPU, so a second one in the same process only trades places with the
    # first on the GIL (measured with 2 workers at 16 concurrent clients: 182 and 224 turns/s with 1 slot each
    # against 162 and 181 with 8, in two back-to-back pairs); an Ollama turn mostly waits for the model server.
    turns_at_once: int | None = Field(default=None, ge=1, le=256)

    def turn_slots(self) -> int:
        """How many chat turns one process runs at once."""
        if self.turns_at_once is not None:
            return self.turns_at_once
        return 1 if self.backend == "embedded" else 8


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the YAML file named by ``SWITCHBOARD_CONFIG`` (or the shipped default)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:  # noqa: ARG002
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = Path(os.environ.get("SWITCHBOARD_CONFIG") or DEFAULT_CONFIG)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}", file=str(path)) from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" at line {mark.line + 1}" if mark else ""
            raise ConfigError(f"config file {path} is not valid YAML{line}", file=str(path)) from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path} must hold a mapping at the top level", file=str(path))
        data.setdefault("config_file", str(path))
        return data


class _SecretsSource(PydanticBaseSettingsSource):
    """Collects ``SWITCHBOARD_SECRET_<NAME>`` variables and files in ``secrets_dir`` into ``secrets``."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:  # noqa: ARG002
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, str] = {}
        folder = os.environ.get("SWITCHBOARD_SECRETS_DIR")
        if folder and Path(folder).is_dir():
            for item in sorted(Path(folder).iterdir()):
                if item.is_file():
                    found[item.name.lower()] = item.read_text(encoding="utf-8").strip()
        for key, value in os.environ.items():
            if key.startswith(_SECRET_PREFIX):
                found[key[len(_SECRET_PREFIX) :].lower()] = value
        return {"secrets": found} if found else {}


class Settings(BaseSettings):
    """Everything Switchboard is configured with; passed explicitly, never read from a global."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="forbid", validate_default=True)

    config_file: str = str(DEFAULT_CONFIG)
    database_url: str = "sqlite:///./var/switchboard.db"
    var_dir: Path = Path("var")
    inbox_dir: Path | None = None
    artifacts_dir: Path | None = None
    secrets_dir: Path | None = None
    max_file_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    max_attempts: int = Field(default=3, ge=1)
    reference_date: str | None = Field(
        default=None, description="Pin 'today' (YYYY-MM-DD) for demos and evals."
    )

    destinations: dict[str, Destination] = Field(default_factory=dict)
    recipient_groups: dict[str, list[Recipient]] = Field(default_factory=dict)
    retry: RetryPolicy = RetryPolicy()
    smtp: SmtpConfig = SmtpConfig()
    rulesets: Rulesets = Rulesets()
    normalize: dict[Literal["customers", "products", "orders"], NormalizeRules] = Field(default_factory=dict)
    pipelines: dict[str, Pipeline] = Field(default_factory=dict)
    alerts: list[AlertRule] = Field(default_factory=list)
    policy: PolicyConfig = PolicyConfig()
    agent: AgentConfig = AgentConfig()

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_secret: SecretStr | None = None
    telegram_allowed_chats: list[int] = Field(default_factory=list)
    console_host: str = "127.0.0.1"
    console_port: int = 8000
    console_workers: int = Field(
        default=1,
        ge=1,
        le=32,
        description="uvicorn worker processes for 'switchboard serve' (one per core is a good start).",
    )
    console_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 1_048_576
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests per user per minute (0: no limit), shared by the workers."
    )
    session_secret: SecretStr | None = None
    ingest_webhook_secret: SecretStr | None = None

    secrets: dict[str, SecretStr] = Field(default_factory=dict, repr=False)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003 - pydantic-settings passes every source
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Init arguments win, then the environment, then secrets, then the YAML file."""
        return (
            init_settings,
            env_settings,
            _SecretsSource(settings_cls),
            _YamlSource(settings_cls),
        )

    @property
    def inbox(self) -> Path:
        """Folder that ingest may read from; paths outside it are refused."""
        return self.inbox_dir or self.var_dir / "inbox"

    @property
    def artifacts(self) -> Path:
        """Folder where exports and charts are written."""
        return self.artifacts_dir or self.var_dir / "artifacts"

    def secret(self, name: str | None) -> str | None:
        """Return the secret called ``name`` (case-insensitive), or None when unset."""
        if not name:
            return None
        value = self.secrets.get(name.lower())
        return value.get_secret_value() if value is not None else None

    def config_version(self) -> str:
        """Short hash of the structured configuration; recorded with every run and policy decision."""
        sections = self.model_dump(
            mode="json",
            include={
                "destinations",
                "recipient_groups",
                "rulesets",
                "normalize",
                "pipelines",
                "alerts",
                "policy",
            },
        )
        digest = hashlib.sha256(json.dumps(sections, sort_keys=True).encode()).hexdigest()
        return digest[:12]


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from env + YAML, turning validation errors into one clear ConfigError.

    Raises:
        ConfigError: naming the first invalid setting and why.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"invalid setting {where}: {first['msg']}", setting=where) from None
