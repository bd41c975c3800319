"""Jiesu configuration: read once from ``JIESU_*`` environment variables.

Every setting has a documented default (see README, "Configuration") so that
``make run`` works on embedded defaults with no environment at all.  Other
processes (action server, CLI) call :func:`load_config` too, so the same
variables steer the whole stack.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from hotline.secret_keys import DESK_KEY_FILE, read_secret_file
from hotline.timezone import DEFAULT_TIMEZONE, TIMEZONE_VARIABLE, zone

__all__ = ["Config", "ConfigError", "load_config", "PROJECT_ROOT"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A configuration variable has a value that cannot be used."""


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int | None = None) -> int:
    """Integer variable ``name``; ``default`` when unset or empty.

    Shared by every settings class (Telegram, survey, phone), so a bad
    value is refused the same way everywhere, naming the variable.
    """
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    _at_least(name, value, minimum)
    return value


def env_float(
    env: Mapping[str, str], name: str, default: float, minimum: float | None = None
) -> float:
    """Number variable ``name``; ``default`` when unset or empty."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    _at_least(name, value, minimum)
    return value


def _at_least(name: str, value: float, minimum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be ≥ {minimum}, got {value}")


def _str(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name)
    return default if raw is None or raw == "" else raw


@dataclass(frozen=True)
class Config:
    """Typed view of the environment.  Field docs double as the README table."""

    # Where runtime data (SQLite files, attachments) lives.
    data_dir: Path = PROJECT_ROOT / "var"
    # Gateway HTTP port (web chat, /api/chat, embedded desk, webhooks).
    port: int = 8080
    host: str = "127.0.0.1"
    # Rasa server and action server.
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_port: int = 5005
    action_port: int = 5055
    rasa_timeout_s: float = 30.0
    # Rasa's --auth-token for its HTTP API (set by the supervisor for its children).
    rasa_token: str = ""
    # Ticket backend (Open311 GeoReport v2).  Empty = the embedded desk.
    open311_url: str = ""
    open311_api_key: str = ""
    open311_jurisdiction: str = ""
    # Embedded desk.
    desk_db_url: str = ""
    # Staff key: JIESU_DESK_API_KEY, else the one generated at first start
    # (<data dir>/secrets/desk_api_key, hotline.secret_keys); "" = none yet.
    desk_api_key: str = ""
    ticket_prefix: str = "BJ"
    # Outbox: durable delivery of confirmed complaints.
    outbox_db_url: str = ""
    # Rasa's conversation store (read by the staff console for transcripts).
    tracker_url: str = ""
    outbox_poll_s: float = 2.0
    outbox_max_backoff_s: float = 300.0
    delivery_timeout_s: float = 5.0
    # Response deadlines promised to the resident (hours).
    deadline_urgent_h: int = 2
    deadline_normal_h: int = 24
    # Local time zone of the hotline (for deadlines and calling hours).
    timezone: str = DEFAULT_TIMEZONE
    log_level: str = "INFO"
    # Longest message a channel passes to the assistant (longer: asked to split).
    max_message_chars: int = 4000
    # Web chat turns per sender: a burst, then this many per minute (then 429, politely).
    web_chat_burst: int = 30
    web_chat_rate_per_min: int = 60
    # Offer an open ticket of the same problem before filing (JIESU_DUPLICATE_CHECK=off: never).
    duplicate_check: bool = True

    def exposed_secrets(self, env: Mapping[str, str]) -> dict[str, str]:
        """Each secret a server of this stack checks, by variable ("" = feature off)."""
        return {
            "JIESU_DESK_API_KEY": self.desk_api_key if self.embedded_desk else "",
            "JIESU_WEBHOOK_KEY": env.get("JIESU_WEBHOOK_KEY", ""),
            "TELEGRAM_WEBHOOK_SECRET": env.get("TELEGRAM_WEBHOOK_SECRET", ""),
        }

    @property
    def tz(self) -> tzinfo:
        """The hotline's local zone (``JIESU_TIMEZONE``)."""
        return zone(self.timezone)

    @property
    def rasa_urls(self) -> tuple[str, ...]:
        """The Rasa servers: ``JIESU_RASA_URL`` may list several, comma-separated."""
        return tuple(u.strip().rstrip("/") for u in self.rasa_url.split(",") if u.strip())

    @property
    def embedded_desk(self) -> bool:
        """True when tickets go to the desk this gateway serves itself."""
        return not self.open311_url

    @property
    def effective_open311_url(self) -> str:
        """Base URL of the Open311 endpoint the actions and outbox talk to."""
        if self.open311_url:
            return self.open311_url.rstrip("/")
        return f"http://127.0.0.1:{self.port}/open311/v2"

    @property
    def effective_open311_api_key(self) -> str:
        """API key for the ticket backend (the desk key for the embedded desk)."""
        return self.open311_api_key or (self.desk_api_key if self.embedded_desk else "")

    @property
    def effective_desk_db_url(self) -> str:
        return self.desk_db_url or f"sqlite:///{self.data_dir / 'desk.db'}"

    @property
    def effective_outbox_db_url(self) -> str:
        return self.outbox_db_url or f"sqlite:///{self.data_dir / 'jiesu.db'}"

    @property
    def effective_tracker_url(self) -> str:
        """``JIESU_TRACKER_URL``, defaulting as ``jiesu up`` does for the Rasa server."""
        return self.tracker_url or f"sqlite:///{self.data_dir / 'tracker.db'}"


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Build a :class:`Config` from ``env`` (default: ``os.environ``)."""
    e = os.environ if env is None else env
    data_dir = Path(_str(e, "JIESU_DATA_DIR", str(PROJECT_ROOT / "var")))
    port = env_int(e, "JIESU_PORT", 8080)
    rasa_port = env_int(e, "JIESU_RASA_PORT", 5005)
    return Config(
        data_dir=data_dir,
        port=port,
        host=_str(e, "JIESU_HOST", "127.0.0.1"),
        rasa_url=_str(e, "JIESU_RASA_URL", f"http://127.0.0.1:{rasa_port}").rstrip("/"),
        rasa_port=rasa_port,
        action_port=env_int(e, "JIESU_ACTION_PORT", 5055),
        rasa_timeout_s=env_float(e, "JIESU_RASA_TIMEOUT", 30.0),
        rasa_token=_str(e, "JIESU_RASA_TOKEN", ""),
        open311_url=_str(e, "JIESU_OPEN311_URL", ""),
        open311_api_key=_str(e, "JIESU_OPEN311_API_KEY", ""),
        open311_jurisdiction=_str(e, "JIESU_OPEN311_JURISDICTION", ""),
        desk_db_url=_str(e, "JIESU_DESK_DB_URL", ""),
        desk_api_key=_str(e, "JIESU_DESK_API_KEY", "") or read_secret_file(data_dir, DESK_KEY_FILE),
        ticket_prefix=_str(e, "JIESU_TICKET_PREFIX", "BJ"),
        outbox_db_url=_str(e, "JIESU_DB_URL", ""),
        tracker_url=_str(e, "JIESU_TRACKER_URL", ""),
        outbox_poll_s=env_float(e, "JIESU_OUTBOX_POLL", 2.0),
        outbox_max_backoff_s=env_float(e, "JIESU_OUTBOX_MAX_BACKOFF", 300.0),
        delivery_timeout_s=env_float(e, "JIESU_DELIVERY_TIMEOUT", 5.0),
        deadline_urgent_h=env_int(e, "JIESU_DEADLINE_URGENT_HOURS", 2),
        deadline_normal_h=env_int(e, "JIESU_DEADLINE_NORMAL_HOURS", 24),
        timezone=_str(e, TIMEZONE_VARIABLE, DEFAULT_TIMEZONE),
        log_level=_str(e, "JIESU_LOG_LEVEL", "INFO"),
        max_message_chars=env_int(e, "JIESU_MAX_MESSAGE_CHARS", 4000),
        web_chat_burst=env_int(e, "JIESU_WEB_CHAT_BURST", 30, minimum=1),
        web_chat_rate_per_min=env_int(e, "JIESU_WEB_CHAT_RATE_PER_MIN", 60, minimum=1),
        duplicate_check=_str(e, "JIESU_DUPLICATE_CHECK", "on").lower()
        not in ("off", "0", "no", "false"),
    )
