"""Every log record of every process, masked before any handler sees it.

A log filter on handlers (``bot/gateway/log_masking.py``) sees the message but not the
traceback, which a ``Formatter`` renders later; Rasa's "Encountered an exception while
running action" traceback carries the action server's response (slots, a resident's
phone number) in its chained exception.  :func:`install_masked_log_records` wraps the
log-record factory instead, so the message, the traceback text and the stack are masked
(``tickets.privacy.mask_personal_data``) when the record is created — whoever configures
the handlers later (Rasa, rasa_sdk, Sanic).
"""

from __future__ import annotations

import logging
from typing import Any

from tickets.privacy import mask_personal_data

__all__ = ["install_masked_log_records", "mask_record"]

_FORMATTER = logging.Formatter()


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask ``record``'s message, traceback and stack in place; returns it."""
    try:
        message = record.getMessage()
    except Exception:  # a broken %-format is the logging module's to report
        return record
    masked = mask_personal_data(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        record.exc_text = mask_personal_data(_FORMATTER.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = mask_personal_data(record.stack_info)
    return record


def install_masked_log_records() -> None:
    """Make every new log record a masked one (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "jiesu_masked", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(current(*args, **kwargs))

    factory.jiesu_masked = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
