"""The settings kernel: env plus one YAML file, secrets from the environment or files, never from the YAML.

Each layer declares its own settings by extending the class below (``flows.config.FlowSettings``,
``agent.config.AgentSettings``, ``console.config.ConsoleSettings``, ``bot.config.BotSettings``), and
``switchboard.settings.Settings`` assembles them. ``SWITCHBOARD_CONFIG`` names the YAML file and
``SWITCHBOARD_DATABASE_URL`` the database. Secrets come only from the environment (``SWITCHBOARD_SECRET_<NAME>``)
or from files in ``SWITCHBOARD_SECRETS_DIR``; they are held as ``SecretStr`` and never logged or audited.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core.errors import ConfigError
from core.logs import LogFormat, LogLevel

_SECRET_PREFIX = "SWITCHBOARD_SECRET_"
# OpenTelemetry's standard variables, read into ``telemetry`` like any other setting (``_OtelSource``).
_OTEL_VARIABLES = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": "otlp_endpoint",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "otlp_traces_endpoint",
    "OTEL_SERVICE_NAME": "service_name",
}
S = TypeVar("S", bound="CoreSettings")


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the YAML file named by ``SWITCHBOARD_CONFIG`` (or the settings class's ``DEFAULT_CONFIG``)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:  # noqa: ARG002
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        default = getattr(self.settings_cls, "DEFAULT_CONFIG", None)
        named = os.environ.get("SWITCHBOARD_CONFIG")
        if not named and default is None:
            return {}
        path = Path(named or str(default))
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


class _OtelSource(PydanticBaseSettingsSource):
    """OpenTelemetry's standard ``OTEL_*`` variables as the ``telemetry`` section (below SWITCHBOARD_*)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:  # noqa: ARG002
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found = {key: os.environ[name] for name, key in _OTEL_VARIABLES.items() if os.environ.get(name)}
        return {"telemetry": found} if found else {}


class TelemetrySettings(BaseModel):
    """Traces (core/tracing.py): exported over OTLP/HTTP when an endpoint is set, off (no cost) otherwise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    otlp_endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="OTLP/HTTP collector base URL (traces go to <url>/v1/traces); OTEL_EXPORTER_OTLP_ENDPOINT.",
    )
    otlp_traces_endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Full URL for traces, used as given; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.",
    )
    service_name: str = Field(default="switchboard", min_length=1, description="OTEL_SERVICE_NAME.")
    export_timeout_s: float = Field(default=10.0, gt=0, description="Give up on one export after this long.")

    @property
    def traces_url(self) -> str | None:
        """Where spans are sent, or None when tracing is off."""
        if self.otlp_traces_endpoint:
            return self.otlp_traces_endpoint
        if self.otlp_endpoint:
            return self.otlp_endpoint.rstrip("/") + "/v1/traces"
        return None


class CoreSettings(BaseSettings):
    """What every layer needs: where the database, the var folder and the secrets are."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="forbid", validate_default=True)

    # The YAML file read when SWITCHBOARD_CONFIG is unset; the composition root ships one.
    DEFAULT_CONFIG: ClassVar[Path | None] = None
    # Sections whose content is recorded, as a short hash, with every run and policy decision.
    VERSIONED_SECTIONS: ClassVar[frozenset[str]] = frozenset()

    config_file: str = ""
    database_url: str = "sqlite:///./var/switchboard.db"
    var_dir: Path = Path("var")
    inbox_dir: Path | None = None
    artifacts_dir: Path | None = None
    secrets_dir: Path | None = None
    max_file_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1,
        description="Largest HTTP request body the console or the bot's webhook reads.",
    )
    max_attempts: int = Field(default=3, ge=1)
    executor_id: str | None = Field(
        default=None,
        description="Names this host (or process group) to the durable engine; each process adds its role.",
    )
    durable_url: str | None = Field(
        default=None,
        description="The durable engine's database (default: beside SQLite's file, or PostgreSQL's own database).",
        repr=False,
    )
    fault_point: str | None = Field(
        default=None,
        description="For the fault suite only: SIGKILL this process at the named point (core/faults).",
    )
    durable_schema: str = Field(
        default="dbos", pattern=r"^[a-z_][a-z0-9_]*$", description="PostgreSQL schema of the engine's tables."
    )
    reference_date: str | None = Field(
        default=None, description="Pin 'today' (YYYY-MM-DD) for demos and evals."
    )
    log_level: LogLevel = Field(default="WARNING", description="Least severe log records written to stderr.")
    log_format: LogFormat = Field(
        default="json", description="'json': one object per line (request, thread, run, actor bound); 'text'."
    )
    audit_checkpoint_file: Path | None = Field(
        default=None,
        description="Append-only JSON lines of signed audit checkpoints (default var/audit/checkpoints.jsonl); "
        "keep it where the database's writers cannot rewrite it.",
    )
    audit_signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs checkpoints, unless the secret audit_signing_key is set; "
        "default var/audit/signing-key.pem, made (mode 600) on first use.",
    )
    audit_keyring_dir: Path | None = Field(
        default=None,
        description="Trusted public keys (<key id>.pem) that verify checkpoints, kept across key rotations "
        "(default var/audit/keys).",
    )
    audit_checkpoint_every: int = Field(
        default=1000,
        ge=1,
        description="Sign a checkpoint once this many audit records were added since the last.",
    )
    audit_checkpoint_minutes: float = Field(
        default=5.0, gt=0, description="... or once this many minutes passed and any record was added."
    )

    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)

    secrets: dict[str, SecretStr] = Field(default_factory=dict, repr=False)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_name(cls, value: object) -> object:
        """Accept ``debug`` as well as ``DEBUG``."""
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003 - pydantic-settings passes every source
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Init arguments win, then the environment (SWITCHBOARD_*, then OTEL_*), then secrets, then the YAML file."""
        return (
            init_settings,
            env_settings,
            _OtelSource(settings_cls),
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
        sections = self.model_dump(mode="json", include=set(self.VERSIONED_SECTIONS))
        digest = hashlib.sha256(json.dumps(sections, sort_keys=True).encode()).hexdigest()
        return digest[:12]


def build_settings(cls: type[S], **overrides: Any) -> S:
    """Build ``cls`` from env + YAML, turning validation errors into one clear ConfigError.

    Raises:
        ConfigError: naming the first invalid setting and why.
    """
    try:
        return cls(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"invalid setting {where}: {first['msg']}", setting=where) from None
