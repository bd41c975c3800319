"""The error tree of the Telegram channel.

Everything the channel raises on purpose derives from :class:`TelegramChannelError`;
the data a handler needs (sizes, limits, the ffmpeg exit status) travels as attributes.
Errors from the Bot API itself stay PTB's own (:class:`telegram.error.TelegramError`).
"""

from __future__ import annotations

__all__ = [
    "AttachmentTooLarge",
    "TelegramChannelError",
    "TelegramDisabled",
    "VoiceDecodeError",
]


class TelegramChannelError(Exception):
    """Root of every error raised on purpose by the Telegram channel."""


class TelegramDisabled(TelegramChannelError):
    """A message was pushed to Telegram but the channel is not configured or not running."""


class AttachmentTooLarge(TelegramChannelError):
    """A file is larger than ``TELEGRAM_MAX_ATTACHMENT_BYTES``.

    Attributes:
        size: Size of the file in bytes (as announced or as downloaded).
        limit: The configured limit in bytes.
    """

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"attachment of {size} bytes exceeds the {limit}-byte limit")
        self.size = size
        self.limit = limit


class VoiceDecodeError(TelegramChannelError):
    """ffmpeg could not turn a voice note into 16 kHz PCM.

    Attributes:
        returncode: ffmpeg's exit status (``None`` if it never ran or timed out).
        stderr: The tail of ffmpeg's error output.
    """

    def __init__(self, message: str, returncode: int | None = None, stderr: str = "") -> None:
        super().__init__(f"{message}: {stderr}" if stderr else message)
        self.returncode = returncode
        self.stderr = stderr
