"""Working hours on the slot grid, in the doctor's time zone, right across daylight-saving changes.

Pure (stdlib only). Working hours are local wall-clock intervals per weekday; the grid is local
too: wall times whose minutes since local midnight are a multiple of ``slot_minutes``. Each grid
wall time is resolved to the real instants it names on that date:
- a wall time that does not exist (the spring-forward gap) is no slot;
- a wall time that occurs twice (fall-back) is two slots, one per real instant;
and a slot lasts ``slot_minutes`` of real time, ending no later than its interval's real end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class WorkingHours:
    time_zone: str
    slot_minutes: int
    intervals: Mapping[str, Sequence[tuple[str, str]]]  # weekday -> [("09:00", "12:00"), ...]


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC
    interval_key: tuple = ()  # (local date ISO, interval index): which working interval it belongs to


def parse_hhmm(value: str) -> int:
    """Minutes since midnight of "HH:MM" (00:00..23:59, or 24:00 = 1440)."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":" or not (value[:2] + value[3:]).isdigit():
        raise ValueError(f"not HH:MM: {value!r}")
    hours, minutes = int(value[:2]), int(value[3:])
    if (hours, minutes) == (24, 0):
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise ValueError(f"not a time of day: {value!r}")
    return hours * 60 + minutes


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _wall(day: date, minute_of_day: int, zone: ZoneInfo, fold: int) -> datetime:
    """The local wall time ``minute_of_day`` on ``day`` (1440 = next midnight)."""
    day = day + timedelta(days=minute_of_day // MINUTES_PER_DAY)
    minute_of_day %= MINUTES_PER_DAY
    return datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60), tzinfo=zone).replace(fold=fold)


def _exists(local: datetime) -> bool:
    """A wall time exists if it survives the round trip through UTC."""
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None, fold=0) == local.replace(tzinfo=None, fold=0)


def resolve(day: date, minute_of_day: int, zone: ZoneInfo) -> list[datetime]:
    """The real instants (UTC) a local wall time names: none in a gap, two in a fold, else one."""
    instants = []
    for fold in (0, 1):
        local = _wall(day, minute_of_day, zone, fold)
        if _exists(local):
            instant = local.astimezone(UTC)
            if instant not in instants:
                instants.append(instant)
    return sorted(instants)


def _interval_end(day: date, minute_of_day: int, zone: ZoneInfo) -> datetime:
    """The real instant an interval ends: the later instant of a repeated wall time (the whole
    repeated hour belongs to the interval); in a gap, the instant the gap ends (the first wall
    time after it that exists)."""
    for minute in range(minute_of_day, minute_of_day + MINUTES_PER_DAY):
        instants = resolve(day, minute, zone)
        if instants:
            return instants[-1]
    raise ValueError("no wall time exists within a day")  # pragma: no cover - no zone skips a whole day now


def _day_slots(hours: WorkingHours, day: date, zone: ZoneInfo) -> tuple[Slot, ...]:
    intervals = tuple((start, end) for start, end in hours.intervals.get(WEEKDAYS[day.weekday()], ()))
    return _day_slots_of(hours.time_zone, hours.slot_minutes, intervals, day) if intervals else ()


@lru_cache(maxsize=2048)
def _day_slots_of(
    zone_name: str, slot_minutes: int, intervals: tuple[tuple[str, str], ...], day: date
) -> tuple[Slot, ...]:
    """One day's slots, computed once per container: resolving each wall time through the zone is
    most of a booking's and an availability query's CPU, and the answer never changes (slots are
    immutable; a doctor with other hours or another zone is another key)."""
    zone = _zone(zone_name)
    length = timedelta(minutes=slot_minutes)
    slots = []
    for index, (start_text, end_text) in enumerate(intervals):
        start, end = parse_hhmm(start_text), parse_hhmm(end_text)
        real_end = _interval_end(day, end, zone)
        key = (day.isoformat(), index)
        for minute in range(start, end, slot_minutes):
            for instant in resolve(day, minute, zone):
                if instant + length <= real_end:
                    slots.append(Slot(instant, instant + length, key))
    return tuple(slots)


def working_slots(hours: WorkingHours, window_start: datetime, window_end: datetime) -> list[Slot]:
    """Every grid slot wholly inside [window_start, window_end), sorted by start, no duplicates."""
    zone = _zone(hours.time_zone)
    found: dict[datetime, Slot] = {}
    for day in local_days(hours.time_zone, window_start, window_end):
        for slot in _day_slots(hours, day, zone):
            if slot.start >= window_start and slot.end <= window_end:
                found.setdefault(slot.start, slot)
    return [found[start] for start in sorted(found)]


def is_on_grid(hours: WorkingHours, start: datetime) -> bool:
    local = start.astimezone(_zone(hours.time_zone))
    return local.second == 0 and local.microsecond == 0 and (local.hour * 60 + local.minute) % hours.slot_minutes == 0


def local_days(time_zone: str, window_start: datetime, window_end: datetime) -> list[date]:
    """The local dates whose working hours may hold slots of [window_start, window_end), in order."""
    zone = _zone(time_zone)
    first = window_start.astimezone(zone).date() - timedelta(days=1)
    last = window_end.astimezone(zone).date() + timedelta(days=1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def day_runs(hours: WorkingHours, day: date, duration_minutes: int) -> list[Slot]:
    """Every interval of ``duration_minutes`` made of consecutive grid slots (each ending where the next
    starts) of one working interval on local date ``day``, sorted by start. A window holds such a run
    exactly when it holds its start and end: no run spans two dates, nor two working intervals."""
    count = duration_minutes // hours.slot_minutes
    if count <= 0:
        return []
    by_start: dict[datetime, Slot] = {}
    for slot in _day_slots(hours, day, _zone(hours.time_zone)):
        by_start.setdefault(slot.start, slot)
    slots = [by_start[start] for start in sorted(by_start)]
    if count == 1:
        return slots  # one slot is a run of one
    found = []
    for first in slots:
        at, last = first.start, None
        for _ in range(count):
            slot = by_start.get(at)
            if slot is None or slot.interval_key != first.interval_key:
                last = None
                break
            last, at = slot, slot.end
        if last is not None:
            found.append(Slot(first.start, last.end, first.interval_key))
    return found


def working_run(hours: WorkingHours, start: datetime, duration_minutes: int) -> Slot | None:
    """[start, start + duration) as consecutive grid slots of one working interval (the run, whose
    ``interval_key`` names that interval), or None."""
    count = duration_minutes // hours.slot_minutes
    if count <= 0:
        return None
    end = start + timedelta(minutes=duration_minutes)
    slots = {s.start: s for s in working_slots(hours, start, end)}
    first = slots.get(start)
    if first is None:
        return None
    at = start
    for _ in range(count):
        slot = slots.get(at)
        if slot is None or slot.interval_key != first.interval_key:
            return None
        at = slot.end
    return Slot(start, end, first.interval_key) if at == end else None


def fits_working_hours(hours: WorkingHours, start: datetime, duration_minutes: int) -> bool:
    """True if [start, start + duration) is consecutive grid slots of one working interval."""
    return working_run(hours, start, duration_minutes) is not None
