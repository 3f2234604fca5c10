"""Booking rules, pure: may this start, with this duration or appointment type, be booked with this
doctor, now, under the clinic's policy?

Order of checks is the order a client fixes things in: the type or duration, the horizon (past, too
far ahead), the notice a patient must give, the grid, working hours, then the doctor's time off.
Whether the time is free (no double booking, buffers included) is decided atomically in storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from clinic.domain.busy import Busy
from clinic.domain.schedule import WEEKDAYS, WorkingHours, day_runs, is_on_grid, local_days, working_run
from clinic.errors import DoctorAway, OutsideWorkingHours, TooSoon, invalid

MAX_DURATION_MINUTES = 240
CELL_MINUTES = 5  # every grid and buffer is a multiple of 5 minutes: locks are kept per 5-minute UTC cell


@dataclass(frozen=True)
class Policy:
    """The clinic settings that bound a booking (clinic.models.settings holds the whole object)."""

    min_notice_minutes: int = 0
    max_advance_days: int = 365
    patient_change_cutoff_minutes: int = 0
    max_open_appointments_per_patient: int = 20
    max_holds_per_patient: int = 2
    max_waitlist_entries_per_patient: int = 5

    @classmethod
    def of(cls, settings: dict[str, Any]) -> Policy:
        return cls(**{k: int(settings[k]) for k in cls.__dataclass_fields__ if k in settings})


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime  # UTC
    end: datetime  # UTC

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class Booking:
    """What is booked: the appointment's own time, what it occupies for its doctor and resources (with
    buffers), where (the location of its working interval, or None) and the resource kinds it needs."""

    interval: Interval
    appointment_type: str | None = None
    buffer_before: int = 0
    buffer_after: int = 0
    location_id: str | None = None
    resource_kinds: tuple[str, ...] = ()

    @property
    def occupied(self) -> tuple[datetime, datetime]:
        if not (self.buffer_before or self.buffer_after):
            return self.interval.start, self.interval.end
        return (
            self.interval.start - timedelta(minutes=self.buffer_before),
            self.interval.end + timedelta(minutes=self.buffer_after),
        )


def hours_of(doctor: dict) -> WorkingHours:
    """The doctor record's working hours as the schedule module wants them."""
    intervals = {
        day: [(i["start"], i["end"]) for i in spans] for day, spans in (doctor.get("working_hours") or {}).items()
    }
    return WorkingHours(time_zone=doctor["time_zone"], slot_minutes=int(doctor["slot_minutes"]), intervals=intervals)


def location_of(doctor: dict, interval_key: tuple) -> str | None:
    """The location a working interval names (``interval_key``: its local date and index), or None."""
    day, index = interval_key
    weekday = WEEKDAYS[datetime.fromisoformat(day).weekday()]
    spans = (doctor.get("working_hours") or {}).get(weekday) or []
    return spans[index].get("location_id") if index < len(spans) else None


def resource_kinds(kind: dict | None) -> tuple[str, ...]:
    return tuple(kind.get("resource_kinds") or ()) if kind else ()


def appointment_type(doctor: dict, code: str | None) -> dict | None:
    """The doctor's appointment type with this code (422 if the doctor has none such)."""
    if code is None:
        return None
    for kind in doctor.get("appointment_types") or []:
        if kind["code"] == code:
            return kind
    raise invalid("appointment_type", "the doctor has no appointment type with this code")


def shape(doctor: dict, duration_minutes: int | None, type_code: str | None) -> tuple[int, dict | None]:
    """The duration to book and the type it comes from: a type's duration, or the one given (default
    the slot length). Both at once is a 422, as is a duration off the doctor's grid."""
    kind = appointment_type(doctor, type_code)
    if kind is not None and duration_minutes is not None:
        raise invalid("duration_minutes", "give appointment_type or duration_minutes, not both")
    slot = int(doctor["slot_minutes"])
    duration = int(kind["duration_minutes"]) if kind else (slot if duration_minutes is None else duration_minutes)
    if duration <= 0 or duration > MAX_DURATION_MINUTES or duration % slot:
        raise invalid(
            "duration_minutes", f"must be a positive multiple of {slot} minutes, at most {MAX_DURATION_MINUTES}"
        )
    return duration, kind


def check_horizon(
    start: datetime, now: datetime, policy: Policy, *, notice_applies: bool, field: str = "start"
) -> None:
    if start < now:
        raise invalid(field, "must not be in the past")
    if start > now + timedelta(days=policy.max_advance_days):
        raise invalid(field, f"must not be more than {policy.max_advance_days} days ahead")
    if notice_applies and start < now + timedelta(minutes=policy.min_notice_minutes):
        raise TooSoon(detail=f"a patient books at least {policy.min_notice_minutes} minutes ahead", errors=[])


def time_off_overlapping(doctor: dict, interval: Interval) -> list[dict]:
    """The doctor's time off entries overlapping ``interval``."""
    found = []
    for entry in doctor.get("time_off") or []:
        away = Interval(_instant(entry["start"]), _instant(entry["end"]))
        if away.overlaps(interval):
            found.append(entry)
    return found


def time_off_of(doctor: dict) -> Busy:
    """The doctor's time off as one ``Busy``: a candidate is one binary search, not a scan of the list."""
    return Busy.of((_instant(e["start"]), _instant(e["end"])) for e in doctor.get("time_off") or [])


def check_bookable(
    doctor: dict,
    start: datetime,
    duration_minutes: int | None,
    now: datetime,
    *,
    type_code: str | None = None,
    policy: Policy | None = None,
    notice_applies: bool = False,
    field: str = "start",
    inactive_locations: frozenset[str] = frozenset(),
) -> Booking:
    """What to book, or the contract's error: VALIDATION_ERROR, TOO_SOON, OUTSIDE_WORKING_HOURS or
    DOCTOR_AWAY. ``notice_applies``: the minimum notice binds patients, not staff. A working interval at
    a location in ``inactive_locations`` takes no booking (422), nor does one without a location a type
    that needs rooms or equipment."""
    policy = policy or Policy()
    hours = hours_of(doctor)
    duration, kind = shape(doctor, duration_minutes, type_code)
    check_horizon(start, now, policy, notice_applies=notice_applies, field=field)
    if not is_on_grid(hours, start) or start.minute % CELL_MINUTES:
        raise invalid(field, f"must lie on the doctor's {hours.slot_minutes}-minute grid in {hours.time_zone}")
    interval = Interval(start, start + timedelta(minutes=duration))
    run = working_run(hours, start, duration)
    if run is None:
        raise OutsideWorkingHours(detail="the appointment does not lie within the doctor's working hours")
    location = location_of(doctor, run.interval_key)
    if location is not None and location in inactive_locations:
        raise invalid(field, "the location of these working hours is closed")
    kinds = resource_kinds(kind)
    if kinds and location is None:
        raise invalid(field, "this appointment type needs rooms or equipment: book it in hours worked at a location")
    if time_off_overlapping(doctor, interval):
        raise DoctorAway(detail="the doctor is away for part of that time")
    return Booking(
        interval,
        kind["code"] if kind else None,
        int(kind.get("buffer_before_minutes", 0)) if kind else 0,
        int(kind.get("buffer_after_minutes", 0)) if kind else 0,
        location,
        kinds,
    )


def candidates(
    doctor: dict,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    *,
    type_code: str | None,
    policy: Policy,
    notice_applies: bool,
    duration_minutes: int | None = None,
    inactive_locations: frozenset[str] = frozenset(),
) -> list[Booking]:
    """Every booking of the type's duration (or ``duration_minutes``, or one slot) that working hours,
    time off, open locations and the policy allow in [window_start, window_end), sorted by start;
    whether its time (and a resource it needs) is free is clinic.domain.free_time's part."""
    duration, kind = shape(doctor, duration_minutes, type_code)
    earliest = now + timedelta(minutes=policy.min_notice_minutes) if notice_applies else now
    latest = now + timedelta(days=policy.max_advance_days)
    before = int(kind.get("buffer_before_minutes", 0)) if kind else 0
    after = int(kind.get("buffer_after_minutes", 0)) if kind else 0
    kinds, code = resource_kinds(kind), kind["code"] if kind else None
    away = time_off_of(doctor)
    zone, slot_minutes = doctor["time_zone"], int(doctor["slot_minutes"])
    week = doctor.get("working_hours") or {}
    lower = max(window_start, earliest)
    found = []
    for day in local_days(zone, window_start, window_end):
        spans = week.get(WEEKDAYS[day.weekday()])
        if not spans:
            continue
        shape_of_day = tuple((i["start"], i["end"], i.get("location_id")) for i in spans)
        for plan in _day_bookings(zone, slot_minutes, shape_of_day, day, duration, code, before, after, kinds):
            start, end = plan.interval.start, plan.interval.end
            if start < lower or start > latest or end > window_end:
                continue
            if (away and away.overlaps(start, end)) or plan.location_id in inactive_locations:
                continue
            found.append(plan)
    return found


@lru_cache(maxsize=2048)
def _day_bookings(
    zone: str,
    slot_minutes: int,
    spans: tuple[tuple[str, str, str | None], ...],
    day: date,
    duration: int,
    code: str | None,
    before: int,
    after: int,
    kinds: tuple[str, ...],
) -> tuple[Booking, ...]:
    """One local date's bookings of a calendar's shape (its hours and locations that weekday, zone, grid,
    the type), sorted by start, computed once per container: the same for every request and every doctor
    of that shape, and immutable. A type that needs rooms or equipment has none in hours at no location."""
    hours = WorkingHours(zone, slot_minutes, {WEEKDAYS[day.weekday()]: [(start, end) for start, end, _ in spans]})
    found = []
    for run in day_runs(hours, day, duration):
        location = spans[run.interval_key[1]][2]
        if not (kinds and location is None):
            found.append(Booking(Interval(run.start, run.end), code, before, after, location, kinds))
    return tuple(found)


def check_span(start: datetime, end: datetime, max_days: int) -> None:
    """A from/to query: from < to and a span of at most ``max_days``."""
    if start >= end:
        raise invalid("from", "from must be before to")
    if end - start > timedelta(days=max_days):
        raise invalid("to", f"the span from..to must be at most {max_days} days")


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
