"""tests/days.py picks booking days that are safe at any hour: checked here every half hour around
both changes of New York's offset and a new year, with the clock moved by time-machine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from tests import days
from tests.days import NY

HALF_HOURS = [
    start + timedelta(minutes=30 * i)
    for start, count in (
        (datetime(2027, 3, 6, tzinfo=UTC), 10 * 48),  # spring forward (Sunday 2027-03-14)
        (datetime(2027, 11, 3, tzinfo=UTC), 7 * 48),  # fall back (Sunday 2027-11-07)
        (datetime(2026, 12, 30, tzinfo=UTC), 4 * 48),  # a new year; and Sunday 2026-12-06 late in New York:
        (datetime(2026, 12, 6, 20, tzinfo=UTC), 24),  # where "next Monday" was today in UTC (issue 18)
    )
    for i in range(count)
]


def start_of(day: date, zone=NY) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def test_every_half_hour_the_days_are_ahead_in_both_zones_and_within_the_horizons():
    for now in HALF_HOURS:
        with time_machine.travel(now, tick=False):
            today_here, today_utc = now.astimezone(NY).date(), now.date()
            first, monday, later = days.first_day(), days.monday(), days.monday(weeks_later=2)
            workday, midnight = days.workday(), days.midnight()
        where = f"at {now.isoformat()}"
        # at least two days after today both in New York and in UTC: the whole day is more than 24 h away
        assert first >= today_here + timedelta(days=2) and first >= today_utc + timedelta(days=2), where
        for day in (first, monday, later, workday):
            assert start_of(day) > now + timedelta(hours=24), where
        # the weekday asked for, as soon as that allows
        assert monday.weekday() == days.MONDAY and first <= monday < first + timedelta(days=7), where
        assert later == monday + timedelta(weeks=2), where
        assert workday.weekday() <= days.FRIDAY and first <= workday <= first + timedelta(days=2), where
        # a workday ends inside a week's notice (the TOO_SOON tests), every day inside a year's horizon
        assert start_of(workday + timedelta(days=1)) < now + timedelta(days=7), where
        assert start_of(later + timedelta(days=1)) < now + timedelta(days=365), where
        # midnight UTC of a day at least two days after today in UTC
        assert midnight.tzinfo is UTC and midnight.time().isoformat() == "00:00:00", where
        assert now + timedelta(days=1) < midnight <= now + timedelta(days=2), where


def test_the_day_issue_18_failed_on_is_no_longer_picked():
    # Sunday 2026-12-06, 23:30 in New York is Monday 04:30 in UTC: "next Monday" from New York's date
    # was the 7th, today in UTC, and a reminder a day before 10:00 on it was already past
    with time_machine.travel(datetime(2026, 12, 7, 4, 30, tzinfo=UTC), tick=False):
        assert days.monday() == date(2026, 12, 14)
        assert days.first_day() == date(2026, 12, 9)


def test_a_day_less_than_two_days_ahead_is_refused():
    with pytest.raises(ValueError, match="at least 2 days ahead"):
        days.first_day(1)


def test_at_is_the_wall_time_in_the_zone_with_that_days_offset():
    assert days.at(date(2027, 3, 12), "09:00") == "2027-03-12T09:00:00-05:00"
    assert days.at(date(2027, 3, 15), "09:00") == "2027-03-15T09:00:00-04:00"
    assert days.at(date(2027, 3, 15), "09:00", UTC) == "2027-03-15T09:00:00+00:00"
