"""Settings of the Telegram channel, read once from ``TELEGRAM_*`` environment variables.

The channel is off unless ``TELEGRAM_BOT_TOKEN`` is set.  Every other
variable has a default suited to the public Bot API (``docs/telegram.md``
has the table).  Long polling is used unless ``TELEGRAM_WEBHOOK_URL`` is set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hotline.config import ConfigError, env_float, env_int

__all__ = ["TelegramSettings"]

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass(frozen=True)
class TelegramSettings:
    """Typed view of the ``TELEGRAM_*`` variables; field comments double as the docs table.

    Attributes:
        bot_token: Token from @BotFather; empty disables the channel.
        base_url: Bot API method URL prefix (the token is appended).
        base_file_url: Bot API file download URL prefix (the token is appended).
        webhook_url: Public HTTPS URL Telegram posts updates to; empty = long polling.
        webhook_secret: Value Telegram sends in ``X-Telegram-Bot-Api-Secret-Token``;
            empty = a random secret is generated at each start.
        webhook_path: Route on the gateway that receives webhook posts.
        attachment_dir: Where photos/documents are kept; empty = ``<JIESU_DATA_DIR>/telegram``.
        max_attachment_bytes: Largest photo, document or voice note the bot downloads.
        chat_burst: Messages a chat may send back to back before being throttled.
        chat_rate_per_min: Sustained messages per minute a chat may send.
        overall_rate_per_s: Outgoing Bot API calls per second for the whole bot (0 = unlimited).
        max_retries: Retries of a Bot API call answered 429 (``retry_after`` is honoured).
        typing_delay_s: How long Rasa may take before "typing…" is shown.
        poll_timeout_s: Long-polling ``getUpdates`` timeout.
        ffmpeg: The ffmpeg executable used to decode voice notes.
        max_voice_s: Longest voice note transcribed.
        request_timeout_s: Read and write timeout of one Bot API call; a ``sendMessage``
            that times out may still have been delivered (see ``docs/telegram.md``).
    """

    bot_token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_path: str = "/telegram/webhook"
    attachment_dir: Path | None = None
    max_attachment_bytes: int = 10 * 1024 * 1024
    chat_burst: int = 8
    chat_rate_per_min: int = 20
    overall_rate_per_s: float = 30.0
    max_retries: int = 3
    typing_delay_s: float = 0.3
    poll_timeout_s: int = 10
    ffmpeg: str = "ffmpeg"
    max_voice_s: int = 120
    request_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.webhook_secret and not _SECRET_RE.match(self.webhook_secret):
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        if self.webhook_url and not self.webhook_url.startswith(("https://", "http://")):
            raise ConfigError(f"TELEGRAM_WEBHOOK_URL must be an http(s) URL: {self.webhook_url!r}")
        if not self.webhook_path.startswith("/"):
            raise ConfigError(f"TELEGRAM_WEBHOOK_PATH must start with '/': {self.webhook_path!r}")

    @property
    def enabled(self) -> bool:
        """True when a bot token is configured."""
        return bool(self.bot_token)

    @property
    def webhook_mode(self) -> bool:
        """True when Telegram pushes updates to the gateway instead of being polled."""
        return bool(self.webhook_url)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelegramSettings:
        """Build settings from ``env`` (pass ``os.environ`` in production).

        Raises:
            ConfigError: A variable is set to a value that cannot be used.
        """
        d = cls()
        attachment_dir = env.get("TELEGRAM_ATTACHMENT_DIR", "")
        return cls(
            bot_token=env.get("TELEGRAM_BOT_TOKEN", "").strip(),
            base_url=env.get("TELEGRAM_BASE_URL", "") or d.base_url,
            base_file_url=env.get("TELEGRAM_BASE_FILE_URL", "") or d.base_file_url,
            webhook_url=env.get("TELEGRAM_WEBHOOK_URL", "").strip(),
            webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
            webhook_path=env.get("TELEGRAM_WEBHOOK_PATH", "") or d.webhook_path,
            attachment_dir=Path(attachment_dir) if attachment_dir else None,
            max_attachment_bytes=env_int(
                env, "TELEGRAM_MAX_ATTACHMENT_BYTES", d.max_attachment_bytes, minimum=1
            ),
            chat_burst=env_int(env, "TELEGRAM_CHAT_BURST", d.chat_burst, minimum=1),
            chat_rate_per_min=env_int(
                env, "TELEGRAM_CHAT_RATE_PER_MIN", d.chat_rate_per_min, minimum=1
            ),
            overall_rate_per_s=env_float(
                env, "TELEGRAM_RATE_PER_S", d.overall_rate_per_s, minimum=0.0
            ),
            max_retries=env_int(env, "TELEGRAM_MAX_RETRIES", d.max_retries, minimum=0),
            typing_delay_s=env_float(env, "TELEGRAM_TYPING_DELAY", d.typing_delay_s, minimum=0.0),
            poll_timeout_s=env_int(env, "TELEGRAM_POLL_TIMEOUT", d.poll_timeout_s, minimum=0),
            ffmpeg=env.get("TELEGRAM_FFMPEG", "") or d.ffmpeg,
            max_voice_s=env_int(env, "TELEGRAM_MAX_VOICE_SECONDS", d.max_voice_s, minimum=1),
            request_timeout_s=env_float(
                env, "TELEGRAM_REQUEST_TIMEOUT", d.request_timeout_s, minimum=0.1
            ),
        )
