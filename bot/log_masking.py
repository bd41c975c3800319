"""Mask phone numbers and ID card numbers in every log record.

Residents' numbers must never reach log files in clear; a filter on the
root handlers rewrites the formatted message before it is emitted.
"""

from __future__ import annotations

import logging

from tickets.privacy import mask_personal_data

__all__ = ["MaskingFilter", "install_masking_log_handler"]


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_masking_log_handler() -> None:
    """Attach the filter to every handler of the root logger."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
