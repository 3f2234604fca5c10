"""Schedule arithmetic, pure: the slot grid in the doctor's time zone, across daylight-saving days and
in zones whose offsets are not whole hours. Expected instants are worked out by hand from tzdata."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from clinic.data.locks import cells
from clinic.domain.booking import check_bookable, check_span, hours_of
from clinic.domain.schedule import (
    MINUTES_PER_DAY,
    WEEKDAYS,
    Slot,
    WorkingHours,
    fits_working_hours,
    is_on_grid,
    parse_hhmm,
    resolve,
    working_slots,
)
from clinic.errors import OutsideWorkingHours, ValidationFailed

UTC = UTC


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def hours_on(zone: str, day: date, start: str, end: str, slot: int) -> WorkingHours:
    return WorkingHours(zone, slot, {WEEKDAYS[day.weekday()]: [(start, end)]})


def slots_around(hours: WorkingHours, day: date):
    """Every slot from the day before to the day after, in UTC."""
    window_start = datetime.combine(day - timedelta(days=1), time(), tzinfo=UTC)
    return working_slots(hours, window_start, window_start + timedelta(days=3))


def starts(slots) -> list[str]:
    return [s.start.strftime("%Y-%m-%dT%H:%M") for s in slots]


def walls(slots, zone: str) -> list[str]:
    return [s.start.astimezone(ZoneInfo(zone)).strftime("%H:%M%z") for s in slots]


# ------------------------------------------------------------------ parse_hhmm


@pytest.mark.parametrize("text, minutes", [("00:00", 0), ("09:30", 570), ("23:59", 1439), ("24:00", 1440)])
def test_given_a_time_of_day_when_parsed_then_minutes_since_midnight(text, minutes):
    assert parse_hhmm(text) == minutes


@pytest.mark.parametrize("text", ["24:01", "25:00", "12:60", "9:30", "09:3", "0930", "09-30", "", "ab:cd", None, 930])
def test_given_something_that_is_not_hh_mm_when_parsed_then_value_error(text):
    with pytest.raises(ValueError):
        parse_hhmm(text)


# ------------------------------------------------------------------ resolve


def test_given_a_wall_time_in_the_spring_forward_gap_when_resolved_then_no_instant():
    assert resolve(date(2026, 3, 8), parse_hhmm("02:30"), ZoneInfo("America/New_York")) == []


def test_given_a_wall_time_in_the_fall_back_fold_when_resolved_then_both_instants_in_order():
    assert resolve(date(2026, 11, 1), parse_hhmm("01:30"), ZoneInfo("America/New_York")) == [
        utc("2026-11-01T05:30"),
        utc("2026-11-01T06:30"),
    ]


def test_given_an_ordinary_wall_time_when_resolved_then_one_instant_and_24_00_is_next_midnight():
    zone = ZoneInfo("Asia/Kathmandu")
    assert resolve(date(2026, 6, 1), parse_hhmm("09:00"), zone) == [utc("2026-06-01T03:15")]
    assert resolve(date(2026, 6, 1), MINUTES_PER_DAY, zone) == resolve(date(2026, 6, 2), 0, zone)


# ------------------------------------------------------------------ daylight-saving days


def test_given_new_york_spring_forward_when_listing_slots_then_02_00_to_03_00_is_never_offered():
    # Given Sunday 2026-03-08: at 02:00 EST the clocks jump to 03:00 EDT
    hours = hours_on("America/New_York", date(2026, 3, 8), "00:00", "06:00", 30)
    # When
    slots = slots_around(hours, date(2026, 3, 8))
    # Then five real hours of slots, none of them at a wall time that does not exist
    assert walls(slots, "America/New_York") == [
        "00:00-0500",
        "00:30-0500",
        "01:00-0500",
        "01:30-0500",
        "03:00-0400",
        "03:30-0400",
        "04:00-0400",
        "04:30-0400",
        "05:00-0400",
        "05:30-0400",
    ]
    assert starts(slots)[3:5] == ["2026-03-08T06:30", "2026-03-08T07:00"]
    assert slots[3].end == slots[4].start  # 01:30 EST + 30 min of real time is 03:00 EDT


def test_given_new_york_fall_back_when_listing_slots_then_01_00_to_02_00_is_offered_for_each_real_instant():
    # Given Sunday 2026-11-01: at 02:00 EDT the clocks go back to 01:00 EST
    hours = hours_on("America/New_York", date(2026, 11, 1), "00:00", "03:00", 30)
    slots = slots_around(hours, date(2026, 11, 1))
    # Then four real hours: the repeated hour twice, once per real instant
    assert starts(slots) == [
        "2026-11-01T04:00",
        "2026-11-01T04:30",
        "2026-11-01T05:00",
        "2026-11-01T05:30",
        "2026-11-01T06:00",
        "2026-11-01T06:30",
        "2026-11-01T07:00",
        "2026-11-01T07:30",
    ]
    assert walls(slots, "America/New_York")[2:6] == ["01:00-0400", "01:30-0400", "01:00-0500", "01:30-0500"]


def test_given_an_interval_ending_inside_the_repeated_hour_then_each_earlier_wall_time_is_offered_twice():
    # Given 00:00-01:30 on the New York fall-back night: 01:00 occurs twice, 01:30 is the end
    hours = hours_on("America/New_York", date(2026, 11, 1), "00:00", "01:30", 30)
    slots = slots_around(hours, date(2026, 11, 1))
    # Then 01:00 is offered at both of its instants; 01:30 (the end) at neither
    assert walls(slots, "America/New_York") == ["00:00-0400", "00:30-0400", "01:00-0400", "01:00-0500"]


def test_given_london_spring_forward_when_listing_hourly_slots_then_01_00_is_missing():
    # Given Sunday 2026-03-29: at 01:00 GMT the clocks jump to 02:00 BST
    slots = slots_around(hours_on("Europe/London", date(2026, 3, 29), "00:00", "03:00", 60), date(2026, 3, 29))
    assert walls(slots, "Europe/London") == ["00:00+0000", "02:00+0100"]
    assert starts(slots) == ["2026-03-29T00:00", "2026-03-29T01:00"]


def test_given_london_fall_back_when_listing_hourly_slots_then_01_00_is_offered_twice():
    # Given Sunday 2026-10-25: at 02:00 BST the clocks go back to 01:00 GMT
    slots = slots_around(hours_on("Europe/London", date(2026, 10, 25), "00:00", "03:00", 60), date(2026, 10, 25))
    assert starts(slots) == ["2026-10-24T23:00", "2026-10-25T00:00", "2026-10-25T01:00", "2026-10-25T02:00"]
    assert walls(slots, "Europe/London") == ["00:00+0100", "01:00+0100", "01:00+0000", "02:00+0000"]


@pytest.mark.parametrize(
    "zone, day, start, end, slot, expected",
    [
        # Adelaide +09:30 / +10:30: spring forward 02:00 -> 03:00, fall back 03:00 -> 02:00
        (
            "Australia/Adelaide",
            date(2026, 10, 4),
            "01:00",
            "04:00",
            30,
            ["2026-10-03T15:30", "2026-10-03T16:00", "2026-10-03T16:30", "2026-10-03T17:00"],
        ),
        (
            "Australia/Adelaide",
            date(2026, 4, 5),
            "02:00",
            "03:00",
            30,
            ["2026-04-04T15:30", "2026-04-04T16:00", "2026-04-04T16:30", "2026-04-04T17:00"],
        ),
        # Chatham +12:45 / +13:45: spring forward 02:45 -> 03:45, fall back 03:45 -> 02:45
        (
            "Pacific/Chatham",
            date(2026, 9, 27),
            "02:00",
            "05:00",
            15,
            [
                "2026-09-26T13:15",
                "2026-09-26T13:30",
                "2026-09-26T13:45",
                "2026-09-26T14:00",
                "2026-09-26T14:15",
                "2026-09-26T14:30",
                "2026-09-26T14:45",
                "2026-09-26T15:00",
            ],
        ),
        (
            "Pacific/Chatham",
            date(2026, 4, 5),
            "02:00",
            "04:00",
            30,
            [
                "2026-04-04T12:15",
                "2026-04-04T12:45",
                "2026-04-04T13:15",
                "2026-04-04T13:45",
                "2026-04-04T14:15",
                "2026-04-04T14:45",
            ],
        ),
        # Lord Howe +10:30 / +11:00, a 30-minute shift: 02:00 -> 02:30 in spring, 02:00 -> 01:30 in autumn
        (
            "Australia/Lord_Howe",
            date(2026, 10, 4),
            "01:00",
            "04:00",
            30,
            ["2026-10-03T14:30", "2026-10-03T15:00", "2026-10-03T15:30", "2026-10-03T16:00", "2026-10-03T16:30"],
        ),
        (
            "Australia/Lord_Howe",
            date(2026, 4, 5),
            "01:00",
            "03:00",
            30,
            ["2026-04-04T14:00", "2026-04-04T14:30", "2026-04-04T15:00", "2026-04-04T15:30", "2026-04-04T16:00"],
        ),
        ("Australia/Lord_Howe", date(2026, 4, 5), "01:00", "03:00", 60, ["2026-04-04T14:00", "2026-04-04T15:30"]),
        ("Australia/Lord_Howe", date(2026, 10, 4), "01:00", "04:00", 60, ["2026-10-03T14:30", "2026-10-03T16:00"]),
        # no daylight saving, offsets of 30 and 45 minutes
        (
            "Asia/Kolkata",
            date(2026, 6, 1),
            "09:00",
            "10:00",
            15,
            ["2026-06-01T03:30", "2026-06-01T03:45", "2026-06-01T04:00", "2026-06-01T04:15"],
        ),
        ("Asia/Kathmandu", date(2026, 6, 1), "09:00", "10:00", 30, ["2026-06-01T03:15", "2026-06-01T03:45"]),
    ],
)
def test_given_a_zone_with_odd_offsets_or_shifts_when_listing_slots_then_the_real_instants(
    zone, day, start, end, slot, expected
):
    assert starts(slots_around(hours_on(zone, day, start, end, slot), day)) == expected


# ------------------------------------------------------------------ grid and fit


@pytest.mark.parametrize(
    "zone, instant, slot, on_grid",
    [
        ("Asia/Kolkata", "2026-06-01T03:30", 60, True),  # 09:00 IST
        ("Asia/Kolkata", "2026-06-01T04:00", 60, False),  # 09:30 IST
        ("Asia/Kathmandu", "2026-06-01T03:15", 30, True),  # 09:00 NPT
        ("Asia/Kathmandu", "2026-06-01T03:00", 30, False),  # 08:45 NPT
        ("Asia/Kathmandu", "2026-06-01T03:00", 15, True),
        ("Pacific/Chatham", "2026-09-26T14:00", 15, True),  # 03:45 +1345, just after the gap
        ("America/New_York", "2026-11-01T06:30", 30, True),  # 01:30 EST, second occurrence
        ("America/New_York", "2026-11-01T06:30:01", 30, False),
    ],
)
def test_given_an_instant_when_checked_against_the_local_grid_then_on_grid_iff_local_minutes_divide(
    zone, instant, slot, on_grid
):
    assert is_on_grid(WorkingHours(zone, slot, {}), utc(instant)) is on_grid


def test_given_new_york_spring_forward_then_a_booking_may_span_the_gap_as_real_time():
    hours = hours_on("America/New_York", date(2026, 3, 8), "00:00", "06:00", 30)
    assert fits_working_hours(hours, utc("2026-03-08T06:00"), 90)  # 01:00 EST .. 03:30 EDT, 90 real minutes
    assert not fits_working_hours(hours, utc("2026-03-08T09:30"), 60)  # 05:30 EDT + 60 passes 06:00


def test_given_new_york_fall_back_then_a_booking_may_span_both_occurrences_of_01_00():
    hours = hours_on("America/New_York", date(2026, 11, 1), "00:00", "03:00", 30)
    assert fits_working_hours(hours, utc("2026-11-01T05:00"), 120)  # 01:00 EDT .. 02:00 EST
    assert fits_working_hours(hours, utc("2026-11-01T04:00"), 240)  # the whole four real hours
    assert not fits_working_hours(hours, utc("2026-11-01T04:00"), 270)


def test_given_lord_howe_fall_back_with_hourly_slots_then_a_booking_is_consecutive_slots_only():
    # The current rule: a booking is consecutive grid slots of one interval. On this day the 60-minute
    # grid has a 30-minute hole (15:00Z-15:30Z, wall 01:30-02:00 +10:30), so two hours from 01:00
    # are refused although 14:00Z-16:00Z lies inside 01:00-03:00 (see the report of this change).
    hours = hours_on("Australia/Lord_Howe", date(2026, 4, 5), "01:00", "03:00", 60)
    assert fits_working_hours(hours, utc("2026-04-04T14:00"), 60)
    assert not fits_working_hours(hours, utc("2026-04-04T14:00"), 120)


def test_given_two_adjacent_intervals_then_a_booking_may_not_straddle_them():
    hours = WorkingHours("Europe/London", 30, {"mon": [("09:00", "10:00"), ("10:00", "11:00")]})
    assert fits_working_hours(hours, utc("2026-06-01T08:30"), 30)
    assert not fits_working_hours(hours, utc("2026-06-01T08:30"), 60)


@pytest.mark.parametrize("duration", [0, -30, 10])
def test_given_a_duration_shorter_than_a_slot_then_it_does_not_fit(duration):
    hours = WorkingHours("UTC", 30, {"mon": [("09:00", "17:00")]})
    assert not fits_working_hours(hours, utc("2026-06-01T09:00"), duration)


def test_given_an_interval_ending_at_24_00_then_the_last_slot_ends_at_local_midnight():
    hours = WorkingHours("Asia/Kolkata", 60, {"mon": [("22:00", "24:00")]})
    slots = slots_around(hours, date(2026, 6, 1))
    assert starts(slots) == ["2026-06-01T16:30", "2026-06-01T17:30"]
    assert slots[-1].end == utc("2026-06-01T18:30")  # 00:00 IST on Tuesday


# ------------------------------------------------------------------ cells


def test_given_an_interval_on_the_utc_cell_grid_then_cells_cover_it():
    assert cells(utc("2026-06-01T03:15"), utc("2026-06-01T03:25")) == [utc("2026-06-01T03:15"), utc("2026-06-01T03:20")]
    assert len(cells(utc("2026-06-01T03:15"), utc("2026-06-01T04:15"))) == 12
    assert cells(utc("2026-06-01T03:15"), utc("2026-06-01T03:15")) == []


def test_given_an_instant_off_the_cell_grid_then_cells_refuse():
    with pytest.raises(ValueError):
        cells(utc("2026-06-01T03:17"), utc("2026-06-01T04:00"))


# ------------------------------------------------------------------ booking rules

NOW = utc("2026-06-01T00:00")
KATHMANDU_DOCTOR = {
    "time_zone": "Asia/Kathmandu",
    "slot_minutes": 30,
    "working_hours": {"mon": [{"start": "09:00", "end": "12:00"}]},
}


def test_given_a_doctor_record_then_hours_of_reads_its_working_hours():
    assert hours_of(KATHMANDU_DOCTOR) == WorkingHours("Asia/Kathmandu", 30, {"mon": [("09:00", "12:00")]})
    assert hours_of({"time_zone": "UTC", "slot_minutes": "15"}).intervals == {}


def test_given_a_free_grid_start_in_working_hours_then_bookable_with_the_default_duration():
    interval = check_bookable(KATHMANDU_DOCTOR, utc("2026-06-08T03:15"), None, NOW).interval  # Monday 09:00 +0545
    assert (interval.start, interval.end, interval.minutes) == (utc("2026-06-08T03:15"), utc("2026-06-08T03:45"), 30)


@pytest.mark.parametrize(
    "start, duration, error",
    [
        ("2026-06-08T03:15", 45, ValidationFailed),  # not a multiple of 30
        ("2026-06-08T03:15", 0, ValidationFailed),
        ("2026-06-08T03:15", 270, ValidationFailed),  # over 240
        ("2026-05-25T03:15", 30, ValidationFailed),  # in the past
        ("2027-06-07T03:15", 30, ValidationFailed),  # more than 365 days ahead
        ("2026-06-08T03:00", 30, ValidationFailed),  # 08:45 local: off the grid
        ("2026-06-08T03:16", 30, ValidationFailed),
        ("2026-06-08T02:45", 30, OutsideWorkingHours),  # 08:30 local: on the grid, before hours
        ("2026-06-08T05:45", 60, OutsideWorkingHours),  # 11:30 + 60 passes 12:00
        ("2026-06-09T03:15", 30, OutsideWorkingHours),  # a Tuesday
    ],
)
def test_given_a_request_that_breaks_a_rule_then_the_contracts_error(start, duration, error):
    with pytest.raises(error):
        check_bookable(KATHMANDU_DOCTOR, utc(start), duration, NOW)


def test_given_new_york_spring_forward_then_a_wall_time_in_the_gap_cannot_be_booked():
    doctor = {
        "time_zone": "America/New_York",
        "slot_minutes": 30,
        "working_hours": {"sun": [{"start": "00:00", "end": "06:00"}]},
    }
    now = utc("2026-03-01T00:00")
    # 07:00Z is 03:00 EDT; there is no instant whose wall time is 02:00-02:59 that day
    assert check_bookable(doctor, utc("2026-03-08T07:00"), 30, now).interval.minutes == 30
    assert check_bookable(doctor, utc("2026-03-08T06:30"), 60, now).interval.end == utc("2026-03-08T07:30")


def test_given_from_and_to_then_check_span_wants_order_and_a_bounded_span():
    check_span(utc("2026-06-01T00:00"), utc("2026-06-15T00:00"), 14)
    with pytest.raises(ValidationFailed):
        check_span(utc("2026-06-01T00:00"), utc("2026-06-01T00:00"), 14)
    with pytest.raises(ValidationFailed):
        check_span(utc("2026-06-01T00:00"), utc("2026-06-15T00:01"), 14)


# ------------------------------------------------------------------ properties

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Tehran",
    "America/St_Johns",
]
TRANSITION_DAYS = [
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2026, 4, 5),
    date(2026, 10, 4),
    date(2026, 9, 27),
    date(2026, 9, 6),
    date(2026, 6, 1),
]


@st.composite
def working_hours(draw):
    slot = draw(st.sampled_from([5, 10, 15, 20, 30, 60]))
    intervals = {}
    for day in draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1)):
        # non-overlapping, start < end, on the grid: sorted distinct grid points, paired up
        points = sorted(draw(st.sets(st.integers(0, MINUTES_PER_DAY // slot), min_size=2, max_size=6)))
        pairs = [(points[i], points[i + 1]) for i in range(0, len(points) - 1, 2)]
        intervals[day] = [
            (f"{a * slot // 60:02d}:{a * slot % 60:02d}", f"{b * slot // 60:02d}:{b * slot % 60:02d}") for a, b in pairs
        ]
    return WorkingHours(draw(st.sampled_from(ZONES)), slot, intervals)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hours=working_hours(),
    day=st.sampled_from(TRANSITION_DAYS),
    offset_hours=st.integers(-36, 12),
    span_hours=st.integers(1, 30),
)
def test_property_every_offered_slot_is_on_the_grid_in_hours_sorted_disjoint_and_fits(
    hours, day, offset_hours, span_hours
):
    zone = ZoneInfo(hours.time_zone)
    window_start = datetime.combine(day, time(), tzinfo=UTC) + timedelta(hours=offset_hours)
    window_end = window_start + timedelta(hours=span_hours)
    slots = working_slots(hours, window_start, window_end)
    length = timedelta(minutes=hours.slot_minutes)
    for before, after in itertools.pairwise(slots):
        assert before.end <= after.start  # sorted, and never overlapping
    for slot in slots:
        assert window_start <= slot.start and slot.end <= window_end
        assert slot.end - slot.start == length and slot.start.tzinfo is not None
        assert is_on_grid(hours, slot.start)
        # its local wall time lies inside the interval it names, on that local date
        local = slot.start.astimezone(zone)
        day_iso, index = slot.interval_key
        assert local.date().isoformat() == day_iso
        start_text, end_text = hours.intervals[WEEKDAYS[local.weekday()]][index]
        assert parse_hhmm(start_text) <= local.hour * 60 + local.minute < parse_hhmm(end_text)
        # the wall time names this instant (never a time in a gap), and the slot ends by the interval's end
        assert slot.start in resolve(local.date(), local.hour * 60 + local.minute, zone)
        end_instants = resolve(local.date(), parse_hhmm(end_text), zone)
        if end_instants:
            assert slot.end <= end_instants[-1]
        assert fits_working_hours(hours, slot.start, hours.slot_minutes)
    # and fits_working_hours agrees the other way: a single-slot booking fits only where a slot is offered
    offered = {s.start for s in slots}
    at = window_start.replace(minute=0, second=0, microsecond=0)
    while at + length <= window_end:
        if at >= window_start and is_on_grid(hours, at):
            assert fits_working_hours(hours, at, hours.slot_minutes) is (at in offered), at
        at += timedelta(minutes=hours.slot_minutes if hours.slot_minutes % 15 == 0 else 5)


@settings(max_examples=60, deadline=None)
@given(hours=working_hours(), day=st.sampled_from(TRANSITION_DAYS), count=st.integers(2, 6))
def test_property_a_longer_booking_fits_iff_it_is_consecutive_slots_of_one_interval(hours, day, count):
    window_start = datetime.combine(day - timedelta(days=1), time(), tzinfo=UTC)
    window_end = window_start + timedelta(days=3)
    slots = working_slots(hours, window_start, window_end)
    by_start = {s.start: s for s in slots}
    duration = timedelta(minutes=count * hours.slot_minutes)
    for first in [s for s in slots if s.start + duration <= window_end][::3][:20]:
        chain, at = [], first.start
        for _ in range(count):
            slot = by_start.get(at)
            if slot is None or slot.interval_key != first.interval_key:
                break
            chain.append(slot)
            at = slot.end
        expected = len(chain) == count
        assert fits_working_hours(hours, first.start, count * hours.slot_minutes) is expected


def window_runs(hours: WorkingHours, window_start: datetime, window_end: datetime, count: int) -> list[Slot]:
    """The reference: every run of ``count`` consecutive slots (each ending where the next starts) of one
    working interval among the window's slots, by start."""
    slots = working_slots(hours, window_start, window_end)
    by_start = {s.start: s for s in slots}
    found = []
    for first in slots:
        chain, at = [], first.start
        while len(chain) < count and (slot := by_start.get(at)) and slot.interval_key == first.interval_key:
            chain.append(slot)
            at = slot.end
        if len(chain) == count:
            found.append(Slot(first.start, chain[-1].end, first.interval_key))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hours=working_hours(),
    day=st.sampled_from(TRANSITION_DAYS),
    offset_hours=st.integers(-36, 12),
    span_hours=st.integers(12, 96),
    count=st.integers(1, 3),
    buffers=st.tuples(st.sampled_from([0, 5, 15]), st.sampled_from([0, 10])),
    needs_room=st.booleans(),
    located=st.lists(st.sampled_from([None, "L1", "L2"]), min_size=6, max_size=6),
    closed=st.sets(st.sampled_from(["L1", "L2"])),
    now_before=st.sampled_from([-5, 0, 2, 48]),  # hours before the window starts
    notice=st.sampled_from([0, 90]),
    advance_days=st.sampled_from([1, 365, 365]),
    # time off: where in the window it starts (a fraction of it) and how many hours it lasts
    away=st.lists(st.tuples(st.floats(-0.1, 1.0), st.integers(1, 12)), max_size=3),
)
# New York's fall-back weekend, Sunday and Monday worked at L1 and at no location: every rule at work at
# least once, whatever the random examples draw — time off over Monday afternoon, the notice on Sunday
# morning, a closed location, a type that needs a room in hours at no location
@example(
    hours=WorkingHours(
        "America/New_York", 30, {"sun": [("00:00", "12:00")], "mon": [("09:00", "12:00"), ("13:00", "17:00")]}
    ),
    day=date(2026, 11, 1),
    offset_hours=0,
    span_hours=48,
    count=2,
    buffers=(5, 10),
    needs_room=False,
    located=["L1", None, None, None, None, None],
    closed=set(),
    now_before=-6,
    notice=90,
    advance_days=365,
    away=[(0.8, 3)],
)
@example(
    hours=WorkingHours(
        "America/New_York", 30, {"sun": [("00:00", "12:00")], "mon": [("09:00", "12:00"), ("13:00", "17:00")]}
    ),
    day=date(2026, 11, 1),
    offset_hours=0,
    span_hours=48,
    count=1,
    buffers=(0, 0),
    needs_room=True,
    located=["L1", None, None, None, None, None],
    closed={"L2"},
    now_before=2,
    notice=0,
    advance_days=365,
    away=[],
)
@example(
    hours=WorkingHours("America/New_York", 30, {"mon": [("09:00", "12:00"), ("13:00", "17:00")]}),
    day=date(2026, 11, 1),
    offset_hours=0,
    span_hours=48,
    count=1,
    buffers=(0, 0),
    needs_room=False,
    located=["L1", "L2", None, None, None, None],
    closed={"L1"},
    now_before=2,
    notice=0,
    advance_days=365,
    away=[],
)
def test_property_candidates_computed_a_day_at_a_time_are_the_windows_runs_the_rules_allow(
    hours,
    day,
    offset_hours,
    span_hours,
    count,
    buffers,
    needs_room,
    located,
    closed,
    now_before,
    notice,
    advance_days,
    away,
):
    """Given any calendar (zones with DST, intervals at locations or none, a type with buffers and maybe a
    room), window, clock, policy and time off, booking.candidates — each local date's bookings computed
    once and reused — equals its definition: the window's runs of the type's duration, neither before
    the notice nor past the horizon, in no time off, at no closed location, and at a location when the
    type needs a room. Asked twice (the second from the cache), the same."""
    from clinic.domain.booking import Booking, Interval, Policy, candidates

    window_start = datetime.combine(day, time(), tzinfo=UTC) + timedelta(hours=offset_hours)
    window_end = window_start + timedelta(hours=span_hours)
    at = lambda hours: window_start + timedelta(hours=hours)
    away = [(round(where * span_hours, 2), hours) for where, hours in away]
    now = window_start - timedelta(hours=now_before, minutes=7)
    kind = {
        "code": "visit",
        "duration_minutes": count * hours.slot_minutes,
        "buffer_before_minutes": buffers[0],
        "buffer_after_minutes": buffers[1],
        "resource_kinds": ["room"] if needs_room else [],
    }
    doctor = {
        "time_zone": hours.time_zone,
        "slot_minutes": hours.slot_minutes,
        "working_hours": {
            weekday: [
                {"start": s, "end": e, **({"location_id": located[i]} if located[i] else {})}
                for i, (s, e) in enumerate(spans)
            ]
            for weekday, spans in hours.intervals.items()
        },
        "appointment_types": [kind],
        "time_off": [{"start": at(h).isoformat(), "end": at(h + n).isoformat()} for h, n in away],
    }
    policy = Policy(min_notice_minutes=notice, max_advance_days=advance_days)
    expected = []
    all_runs = window_runs(hours, window_start, window_end, count)
    event(f"runs: {'some' if all_runs else 'none'}")
    for run in all_runs:
        location = located[run.interval_key[1]]
        if run.start < now + timedelta(minutes=notice) or run.start > now + timedelta(days=advance_days):
            continue
        if any(run.start < at(h + n) and at(h) < run.end for h, n in away):
            event("a run in time off")
            continue
        if (location is not None and location in closed) or (needs_room and location is None):
            continue
        expected.append(
            Booking(Interval(run.start, run.end), "visit", *buffers, location, ("room",) if needs_room else ())
        )
    event(f"candidates: {'some' if expected else 'none'}")
    for _ in range(2):
        found = candidates(
            doctor,
            window_start,
            window_end,
            now,
            type_code="visit",
            policy=policy,
            notice_applies=True,
            inactive_locations=frozenset(closed),
        )
        assert found == expected
