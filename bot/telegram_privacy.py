"""Keep residents' phone numbers (and the bot token) out of the logs.

:func:`mask_phone` hides the middle digits of anything that looks like a phone
number (``+`` and 7+ digits, or 11+ digits, so 9-10 digit Telegram chat ids stay
readable); :class:`PhoneMaskingFilter` applies it to the records of the loggers it
is added to, so ``shared contact +8613800138000`` is logged as ``+86138****8000``.
It also replaces given secrets (the bot token, which httpx logs in every URL).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

__all__ = ["PhoneMaskingFilter", "mask_phone"]

# "+" and 7+ digits, or 11+ digits; single spaces/dashes may separate digit groups.
_PHONE_RE = re.compile(r"\+\d(?:[ -]?\d){6,}|(?<![\d])\d(?:[ -]?\d){10,}")


def _mask_match(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = [c for c in raw if c.isdigit()]
    keep_head = 5 if raw.startswith("+") else 3
    keep_tail = 4
    if len(digits) <= keep_head + keep_tail:
        keep_head = 2
    masked = (
        digits[:keep_head] + ["*"] * (len(digits) - keep_head - keep_tail) + digits[-keep_tail:]
    )
    return ("+" if raw.startswith("+") else "") + "".join(masked)


def mask_phone(text: str) -> str:
    """Return ``text`` with the middle digits of phone-like numbers replaced by ``*``.

    Args:
        text: Any log text.

    Returns:
        The text with e.g. ``13800138000`` shown as ``138****8000``.
    """
    return _PHONE_RE.sub(_mask_match, text)


class PhoneMaskingFilter(logging.Filter):
    """A logging filter that masks phone numbers and secrets in the formatted message."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        """Mask phone numbers, and replace each non-empty string in ``secrets`` by ``***``."""
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place; never drops a record."""
        message = record.getMessage()
        masked = message
        for secret in self._secrets:
            masked = masked.replace(secret, "***")
        masked = mask_phone(masked)
        if masked != message:
            record.msg = masked
            record.args = None
        return True
