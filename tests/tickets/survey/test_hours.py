"""Calling-hours arithmetic on fixed timestamps (no clock)."""

from __future__ import annotations

from datetime import datetime

import pytest

from hotline.timezone import DEFAULT_TIMEZONE, zone
from tickets.survey.hours import parse_hours, retry_due

TZ = zone(DEFAULT_TIMEZONE)


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


def test_inside_window_is_now() -> None:
    hours = parse_hours("08:00-21:00", TZ)
    assert hours.is_open(ts("2026-11-25 08:00"))
    assert hours.next_open(ts("2026-11-25 12:34")) == ts("2026-11-25 12:34")
    assert not hours.is_open(ts("2026-11-25 21:00"))


@pytest.mark.parametrize(
    "now, expected",
    [
        ("2026-11-25 21:00", "2026-11-26 08:00"),
        ("2026-11-25 23:59", "2026-11-26 08:00"),
        ("2026-11-25 00:10", "2026-11-25 08:00"),
        ("2026-11-25 07:59", "2026-11-25 08:00"),
        ("2026-12-31 22:00", "2027-01-01 08:00"),
    ],
)
def test_outside_window_moves_to_next_opening(now: str, expected: str) -> None:
    assert parse_hours("08:00-21:00", TZ).next_open(ts(now)) == ts(expected)


def test_window_wrapping_midnight() -> None:
    hours = parse_hours("20:00-02:00", TZ)
    assert hours.is_open(ts("2026-11-25 23:00")) and hours.is_open(ts("2026-11-26 01:59"))
    assert hours.next_open(ts("2026-11-26 02:00")) == ts("2026-11-26 20:00")


def test_always_open_and_bad_values() -> None:
    assert parse_hours("00:00-24:00", TZ).next_open(ts("2026-11-25 03:00")) == ts(
        "2026-11-25 03:00"
    )
    for bad in ("8-21", "08:00-08:00", "25:00-26:00", "08:00-24:30"):
        with pytest.raises(ValueError):
            parse_hours(bad, TZ)


def test_retry_spacing_grows_and_stays_inside_window() -> None:
    hours = parse_hours("08:00-21:00", TZ)
    now = ts("2026-11-25 19:00")
    assert retry_due(hours, now, 1, 3600) == ts("2026-11-25 20:00")
    assert retry_due(hours, now, 2, 3600) == ts("2026-11-26 08:00")
