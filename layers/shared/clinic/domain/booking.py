"""Booking rules, pure: is this start and duration bookable with this doctor, now?

Order of checks is the order a client fixes things in: the duration, the horizon (past, too far),
the grid, then working hours. The write itself (no double booking) is decided atomically in storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from clinic.domain.schedule import WorkingHours, fits_working_hours, is_on_grid
from clinic.errors import OutsideWorkingHours, invalid

MAX_DURATION_MINUTES = 240
HORIZON = timedelta(days=365)
CELL_MINUTES = 5  # every doctor's grid is a multiple of 5 minutes: locks are kept per 5-minute UTC cell


@dataclass(frozen=True)
class Interval:
    start: datetime  # UTC
    end: datetime  # UTC

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


def hours_of(doctor: dict) -> WorkingHours:
    """The doctor record's working hours as the schedule module wants them."""
    intervals = {day: [(i["start"], i["end"]) for i in spans] for day, spans in (doctor.get("working_hours") or {}).items()}
    return WorkingHours(time_zone=doctor["time_zone"], slot_minutes=int(doctor["slot_minutes"]), intervals=intervals)


def check_bookable(doctor: dict, start: datetime, duration_minutes: int | None, now: datetime) -> Interval:
    """The interval to book, or the contract's error: VALIDATION_ERROR or OUTSIDE_WORKING_HOURS."""
    hours = hours_of(doctor)
    slot = hours.slot_minutes
    duration = slot if duration_minutes is None else duration_minutes
    if duration <= 0 or duration > MAX_DURATION_MINUTES or duration % slot:
        raise invalid("duration_minutes", f"must be a positive multiple of {slot} minutes, at most {MAX_DURATION_MINUTES}")
    if start < now:
        raise invalid("start", "must not be in the past")
    if start > now + HORIZON:
        raise invalid("start", "must not be more than 365 days ahead")
    if not is_on_grid(hours, start) or start.minute % CELL_MINUTES:
        raise invalid("start", f"must lie on the doctor's {slot}-minute grid in {hours.time_zone}")
    if not fits_working_hours(hours, start, duration):
        raise OutsideWorkingHours(detail="the appointment does not lie within the doctor's working hours",
                                  errors=[])
    return Interval(start=start, end=start + timedelta(minutes=duration))


def check_span(start: datetime, end: datetime, max_days: int) -> None:
    """A from/to query: from < to and a span of at most ``max_days``."""
    if start >= end:
        raise invalid("from", "from must be before to")
    if end - start > timedelta(days=max_days):
        raise invalid("to", f"the span from..to must be at most {max_days} days")
