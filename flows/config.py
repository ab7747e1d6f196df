"""The flows' settings: destinations, recipients, rulesets, normalize rules, pipelines, alerts, SMTP, Telegram.

Business rules, destinations and pipelines live in the YAML as data, not code. Secrets never appear in these models: a
section names a secret (``password_secret: bank_sftp_password``) and ``Settings.secret`` resolves it from the
environment or a secrets folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from core.config import CoreSettings
from core.vocabulary import Channel


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SftpDestination(_Section):
    """An SFTP server; uploads go to a temporary name and are renamed into place."""

    kind: Literal["sftp"] = "sftp"
    host: str
    port: int = 22
    username: str
    remote_dir: str = "."
    password_secret: str | None = Field(default=None, description="Name of the secret holding the password.")
    key_file: Path | None = Field(default=None, description="Client private key file.")
    known_hosts: Path | None = Field(default=None, description="known_hosts file; none disables host checks.")
    timeout_s: float = 10.0


class ShareDestination(_Section):
    """A directory (a mounted share); files are written to a temporary name and renamed into place."""

    kind: Literal["share"] = "share"
    path: Path


class WebhookDestination(_Section):
    """An HTTP endpoint receiving the file body, signed with HMAC-SHA256 in ``X-Switchboard-Signature``."""

    kind: Literal["webhook"] = "webhook"
    url: str
    secret_name: str | None = Field(
        default=None, description="Name of the secret used for the HMAC signature."
    )
    timeout_s: float = 10.0


Destination = Annotated[SftpDestination | ShareDestination | WebhookDestination, Field(discriminator="kind")]


class Recipient(_Section):
    """One member of a recipient group."""

    channel: Channel
    address: str


class RetryPolicy(_Section):
    """Exponential backoff for deliveries and notifications."""

    attempts: int = Field(default=4, ge=1, le=20)
    base_delay_s: float = Field(default=0.5, ge=0)
    max_delay_s: float = Field(default=30.0, ge=0)


class VipTiering(_Section):
    """Customers whose trailing-12-month revenue reaches a threshold get that tier."""

    version: str = "1"
    tiers: dict[str, float] = Field(default_factory=lambda: {"gold": 250_000.0, "silver": 100_000.0})


class CreditHold(_Section):
    """Customers with unpaid orders older than ``max_overdue_days`` or over ``max_open_balance`` go on hold."""

    version: str = "1"
    max_overdue_days: int = 60
    max_open_balance: float = 50_000.0


class BulkDiscount(_Section):
    """Quantity breaks: the highest ``min_quantity`` not above the ordered quantity sets the discount."""

    version: str = "1"
    breaks: list[tuple[int, float]] = Field(default_factory=lambda: [(100, 0.05), (500, 0.10), (1000, 0.15)])
    vip_extra: dict[str, float] = Field(default_factory=lambda: {"gold": 0.03, "silver": 0.01})


class Rulesets(_Section):
    """All business rulesets; each carries a version recorded on every run that uses it."""

    vip_tiering: VipTiering = VipTiering()
    credit_hold: CreditHold = CreditHold()
    bulk_discount: BulkDiscount = BulkDiscount()


class NormalizeRules(_Section):
    """Declarative normalisation rules for one dataset."""

    trim: list[str] = Field(default_factory=list)
    lowercase: list[str] = Field(default_factory=list)
    fill_total: bool = False
    dedupe_by: str | None = None


class StepRetry(_Section):
    """How a flow step is retried when it fails for a reason that may pass (a server's fault, not bad input).

    Attempt ``n`` (from 2) starts ``delay_s * backoff ** (n - 2)`` seconds after the one before failed; the last
    attempt's failure dead-letters the step.
    """

    attempts: int = Field(default=1, ge=1, le=10, description="Attempts in all; 1 means no automatic retry.")
    delay_s: float = Field(default=5.0, ge=0, le=3600)
    backoff: float = Field(default=2.0, ge=1, le=10)


class PipelineStep(_Section):
    """One step of a named pipeline: a tool name, its arguments and its retry policy."""

    tool: str
    args: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    continue_on_error: bool = Field(
        default=False, description="A failed step is recorded but does not stop the run."
    )
    retry: StepRetry = Field(default_factory=StepRetry)


class SmtpConfig(_Section):
    """Outgoing mail server for e-mail notifications."""

    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "switchboard@localhost"
    username: str | None = None
    password_secret: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0


class Pipeline(_Section):
    """A named flow: steps run in order, every step recorded."""

    description: str = ""
    steps: list[PipelineStep]


class AlertRule(_Section):
    """Notify a recipient group when an event happens, at most once per debounce window per subject."""

    event: Literal[
        "run_failed",
        "dead_letter",
        "data_quality_below",
        "approval_expiring",
        "schedule_missed",
        "model_drift",
    ]
    notify: str
    threshold: float | None = None
    debounce_s: int = 900


class FlowSettings(CoreSettings):
    """Settings the flows read: where to deliver and notify, the business rules, the pipelines, the alerts."""

    VERSIONED_SECTIONS: ClassVar[frozenset[str]] = frozenset(
        {"destinations", "recipient_groups", "rulesets", "normalize", "pipelines", "alerts"}
    )

    destinations: dict[str, Destination] = Field(default_factory=dict)
    recipient_groups: dict[str, list[Recipient]] = Field(default_factory=dict)
    retry: RetryPolicy = RetryPolicy()
    smtp: SmtpConfig = SmtpConfig()
    rulesets: Rulesets = Rulesets()
    normalize: dict[Literal["customers", "products", "orders"], NormalizeRules] = Field(default_factory=dict)
    pipelines: dict[str, Pipeline] = Field(default_factory=dict)
    alerts: list[AlertRule] = Field(default_factory=list)
    # The Telegram notification channel posts through the Bot API with the bot's token.
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
