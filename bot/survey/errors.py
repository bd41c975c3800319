"""Errors of the satisfaction-callback machinery.

Relays raise :class:`SurveyDeferred` when the survey cannot go out now (channel
down, resident busy in another dialogue); the scheduler retries later.  The
delay, when the relay knows a better one, travels as data.
"""

from __future__ import annotations

__all__ = ["SurveyError", "SurveyDeferred", "SurveyBusy"]


class SurveyError(Exception):
    """Base class for survey failures."""


class SurveyDeferred(SurveyError):
    """The survey could not be delivered now; counts as an attempt."""

    def __init__(self, reason: str, retry_in_s: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_in_s = retry_in_s


class SurveyBusy(SurveyDeferred):
    """The conversation is in another dialogue (e.g. a new complaint); not an attempt."""
