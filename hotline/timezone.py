"""The hotline's local time zone: the one home of ``JIESU_TIMEZONE``.

Deadlines, ticket ids and reference numbers (their ``YYYYMMDD`` part), survey calling hours
and relative times in the NLU ("昨天晚上") are all local to the hotline.  Every module asks
here instead of writing an offset by hand, so a deployment in another zone sets one variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache

__all__ = [
    "DEFAULT_TIMEZONE",
    "TIMEZONE_VARIABLE",
    "TimezoneError",
    "hotline_now",
    "hotline_tz",
    "timezone_name",
    "zone",
]

TIMEZONE_VARIABLE = "JIESU_TIMEZONE"
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Used only when the system has no tz database (no /usr/share/zoneinfo, no tzdata wheel).
_DEFAULT_OFFSET = timezone(timedelta(hours=8), "CST")


class TimezoneError(ValueError):
    """``JIESU_TIMEZONE`` names no zone this system knows."""


def zone(name: str) -> tzinfo:
    """The IANA zone ``name``; the default zone works even without a tz database."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        if name == DEFAULT_TIMEZONE:
            return _DEFAULT_OFFSET
        raise TimezoneError(f"{TIMEZONE_VARIABLE}={name!r} is not a known time zone") from exc


def timezone_name(env: Mapping[str, str] | None = None) -> str:
    """The configured zone name (``JIESU_TIMEZONE``, default ``Asia/Shanghai``)."""
    e = os.environ if env is None else env
    return e.get(TIMEZONE_VARIABLE) or DEFAULT_TIMEZONE


@lru_cache(maxsize=1)
def hotline_tz() -> tzinfo:
    """The process's hotline zone, read from the environment once."""
    return zone(timezone_name())


def hotline_now() -> datetime:
    """The current local time of the hotline (aware)."""
    return datetime.now(hotline_tz())
