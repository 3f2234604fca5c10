"""Days for tests to book on, chosen so that a test passes whatever day and hour it runs.

"Tomorrow" or "next Monday" computed from the clock is a trap: late on a Sunday evening in New York
it is already Monday in UTC, "next Monday" is today, and a booking at 09:00 is in the past. So a test
never books "today + n": it asks here for a day at least ``MIN_DAYS_AHEAD`` days after today *both*
in the doctor's zone and in UTC. Such a day starts more than 24 hours from now, and ends within a
fortnight (plus the weeks asked for), far inside every booking horizon the tests use.

A test that needs a time *near now* on purpose (a notice window, a hold's expiry, a reminder due
soon) does not pick a day: it sets the clock (the handler tests' ``clock`` fixtures) or computes from
now in a way that holds at any hour. ``make test`` runs the tests marked ``clock_sensitive`` at
instants around midnight in both zones and at noon, on every weekday (tests/clock_sweep.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

NY = ZoneInfo("America/New_York")  # the test doctors' zone
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
MIN_DAYS_AHEAD = 2


def first_day(min_days: int = MIN_DAYS_AHEAD, zone: tzinfo = NY) -> date:
    """The first date at least ``min_days`` after today in ``zone`` and in UTC (whichever is later)."""
    if min_days < MIN_DAYS_AHEAD:
        raise ValueError(f"a booking day is at least {MIN_DAYS_AHEAD} days ahead, not {min_days}")
    now = datetime.now(UTC)
    return max(now.astimezone(zone).date(), now.date()) + timedelta(days=min_days)


def weekday(which: int, *, weeks_later: int = 0, min_days: int = MIN_DAYS_AHEAD, zone: tzinfo = NY) -> date:
    """The first ``which`` day (MONDAY … SUNDAY) on or after ``first_day``, then ``weeks_later`` weeks on."""
    first = first_day(min_days, zone)
    return first + timedelta(days=(which - first.weekday()) % 7, weeks=weeks_later)


def monday(weeks_later: int = 0, zone: tzinfo = NY) -> date:
    """A Monday at least two days ahead (the test doctors work Monday to Friday, 09:00–12:00, 13:00–17:00)."""
    return weekday(MONDAY, weeks_later=weeks_later, zone=zone)


def workday(min_days: int = MIN_DAYS_AHEAD, zone: tzinfo = NY) -> date:
    """The first Monday-to-Friday date at least ``min_days`` ahead (in ``zone`` and in UTC)."""
    day = first_day(min_days, zone)
    while day.weekday() > FRIDAY:
        day += timedelta(days=1)
    return day


def at(day: date, hhmm: str, zone: tzinfo = NY) -> str:
    """``day`` at wall time ``hhmm`` in ``zone``, as an ISO instant with its offset."""
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).isoformat()


def midnight(min_days: int = MIN_DAYS_AHEAD, zone: tzinfo = UTC) -> datetime:
    """Midnight at the start of ``first_day(min_days, zone)``, in ``zone`` (UTC unless told): for tests
    whose doctors work in UTC and count hours from the start of a day."""
    day = first_day(min_days, zone)
    return datetime(day.year, day.month, day.day, tzinfo=zone)
