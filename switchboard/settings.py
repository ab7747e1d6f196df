"""The one ``Settings``: every layer's settings assembled, read from ``SWITCHBOARD_*`` variables and one YAML file.

``SWITCHBOARD_CONFIG`` names the YAML file; without it the demo config shipped beside this module is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from bot.config import BotSettings
from console.config import ConsoleSettings
from core.config import build_settings

DEFAULT_CONFIG = Path(__file__).with_name("defaults.yaml")


class Settings(ConsoleSettings, BotSettings):
    """Everything Switchboard is configured with; passed explicitly, never read from a global."""

    DEFAULT_CONFIG: ClassVar[Path | None] = DEFAULT_CONFIG

    config_file: str = str(DEFAULT_CONFIG)


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from env + YAML (init arguments win).

    Raises:
        ConfigError: naming the first invalid setting and why.
    """
    return build_settings(Settings, **overrides)
