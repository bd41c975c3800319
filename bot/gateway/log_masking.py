"""Mask phone numbers and ID card numbers in every log record.

Residents' numbers must never reach log files in clear; a filter on the
root handlers rewrites the formatted message before it is emitted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tickets.privacy import mask_personal_data

__all__ = ["MaskingFilter", "install_masking_log_handler"]


class MaskingFilter(logging.Filter):
    """Mask personal data in the formatted message, and replace given secrets by ``***``."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = message
        for secret in self._secrets:
            masked = masked.replace(secret, "***")
        masked = mask_personal_data(masked)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_masking_log_handler() -> None:
    """Attach the filter to every handler of the root logger."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
