"""Settings of the satisfaction callback, read once from ``JIESU_SURVEY_*`` variables.

Follows :mod:`bot.channels.telegram.settings`: a frozen dataclass built by
:meth:`SurveySettings.from_env`, with every default documented in
``docs/survey.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hotline.config import ConfigError, env_float
from hotline.timezone import DEFAULT_TIMEZONE, timezone_name, zone
from tickets.survey.hours import CallingHours, parse_hours

__all__ = ["SurveySettings"]


# 2 ** 60 × any sane first delay is beyond any cap someone would configure.
_MAX_DOUBLINGS = 60


@dataclass(frozen=True)
class SurveySettings:
    """How and when residents are called back after their ticket is resolved."""

    # Seconds between "resolved" and the survey (JIESU_SURVEY_DELAY).
    delay_s: float = 3600.0
    # Calling window, local time (JIESU_SURVEY_HOURS).
    hours_text: str = "08:00-21:00"
    timezone: str = DEFAULT_TIMEZONE
    # Delivery attempts per ticket (JIESU_SURVEY_ATTEMPTS) and their spacing (JIESU_SURVEY_RETRY).
    attempts: int = 3
    retry_s: float = 7200.0
    # How often the scheduler looks for due jobs (JIESU_SURVEY_TICK).
    tick_s: float = 30.0
    # Poll Open311 for resolved tickets every N seconds; 0 = off (JIESU_SURVEY_POLL).
    poll_s: float = 0.0
    # Shared key for POST /api/ticket-events; empty = webhook off (JIESU_WEBHOOK_KEY).
    webhook_key: str = ""
    # Outbound call target for phone residents, ``{phone}`` replaced (JIESU_SURVEY_CALL_URI).
    call_uri: str = ""
    # A survey delivered but not answered after this many seconds counts as an unanswered
    # attempt and is sent again (or marked ``unanswered``); 0 = never (JIESU_SURVEY_ANSWER_TIMEOUT).
    answer_timeout_s: float = 86400.0
    # Posting answers onto the ticket is retried after this delay, doubling up to the cap
    # (JIESU_SURVEY_POSTBACK_RETRY, JIESU_SURVEY_POSTBACK_MAX_BACKOFF).
    postback_retry_s: float = 30.0
    postback_max_backoff_s: float = 3600.0
    # Post-back tries per answered survey before it is given up (``gave_up``; the answers
    # still count in the figures) (JIESU_SURVEY_POSTBACK_ATTEMPTS).
    postback_attempts: int = 50

    def postback_backoff(self, failures: int) -> float:
        """Seconds before the next post-back try after ``failures`` failed ones.

        The exponent is capped: ``2 ** 1024`` does not fit a float, and an
        OverflowError here would stop the retries (and the round) for good.
        """
        exponent = min(max(0, failures - 1), _MAX_DOUBLINGS)
        return float(min(self.postback_max_backoff_s, self.postback_retry_s * 2.0**exponent))

    @property
    def hours(self) -> CallingHours:
        return parse_hours(self.hours_text, zone(self.timezone))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SurveySettings:
        """Read the ``JIESU_SURVEY_*`` variables (and ``JIESU_WEBHOOK_KEY``).

        Raises:
            ConfigError: A value cannot be used.
        """
        settings = cls(
            delay_s=env_float(env, "JIESU_SURVEY_DELAY", cls.delay_s, minimum=0),
            hours_text=env.get("JIESU_SURVEY_HOURS") or cls.hours_text,
            timezone=timezone_name(env),
            attempts=max(1, int(env_float(env, "JIESU_SURVEY_ATTEMPTS", cls.attempts, minimum=0))),
            retry_s=env_float(env, "JIESU_SURVEY_RETRY", cls.retry_s, minimum=0),
            tick_s=max(0.05, env_float(env, "JIESU_SURVEY_TICK", cls.tick_s, minimum=0)),
            poll_s=env_float(env, "JIESU_SURVEY_POLL", cls.poll_s, minimum=0),
            webhook_key=env.get("JIESU_WEBHOOK_KEY", ""),
            call_uri=env.get("JIESU_SURVEY_CALL_URI", ""),
            answer_timeout_s=env_float(
                env, "JIESU_SURVEY_ANSWER_TIMEOUT", cls.answer_timeout_s, minimum=0
            ),
            postback_retry_s=max(
                0.05, env_float(env, "JIESU_SURVEY_POSTBACK_RETRY", cls.postback_retry_s, minimum=0)
            ),
            postback_max_backoff_s=env_float(
                env, "JIESU_SURVEY_POSTBACK_MAX_BACKOFF", cls.postback_max_backoff_s, minimum=0
            ),
            postback_attempts=max(
                1,
                int(
                    env_float(
                        env, "JIESU_SURVEY_POSTBACK_ATTEMPTS", cls.postback_attempts, minimum=0
                    )
                ),
            ),
        )
        try:
            settings.hours  # noqa: B018 — validate now, not at the first call
        except ValueError as exc:
            raise ConfigError(f"JIESU_SURVEY_HOURS: {exc}") from exc
        return settings
