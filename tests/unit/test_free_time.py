"""Free time by interval arithmetic (clinic.domain.busy, clinic.domain.free_time): the same answer as
the 5-minute cells the write's conditions use — two intervals on the grid overlap exactly when they
share a cell — and rooms and equipment needed of every kind."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.data import locks
from clinic.domain.booking import Booking, Interval
from clinic.domain.busy import Busy
from clinic.domain.free_time import free, free_resources

BASE = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


def test_busy_merges_touching_and_overlapping_intervals_and_is_half_open():
    busy = Busy.of([(at(30), at(40)), (at(0), at(10)), (at(10), at(20)), (at(35), at(50))])
    assert busy.starts == (at(0), at(30)) and busy.ends == (at(20), at(50))
    assert busy.overlaps(at(19), at(21)) and busy.overlaps(at(45), at(60))
    assert not busy.overlaps(at(20), at(30))  # ends are open: back to back is free
    assert not busy.overlaps(at(50), at(55)) and not Busy().overlaps(at(0), at(1000))


cells = st.lists(st.integers(0, 95), max_size=40)  # 5-minute cells of an 8-hour day


@settings(max_examples=300, deadline=None)
@given(taken=cells, start=st.integers(0, 95), length=st.integers(1, 48))
def test_an_interval_overlaps_busy_time_exactly_when_it_shares_a_cell(taken, start, length):
    busy = Busy.of((at(5 * c), at(5 * c + 5)) for c in taken)
    wanted = locks.cells(at(5 * start), at(5 * (start + length)))
    shares = any(at(5 * c) in wanted for c in taken)
    assert busy.overlaps(at(5 * start), at(5 * (start + length))) == shares


def plan(start: int, minutes: int = 30, before: int = 0, after: int = 0, kinds=(), location="L1") -> Booking:
    return Booking(Interval(at(start), at(start + minutes)), None, before, after, location, tuple(kinds))


def test_a_candidate_is_free_when_its_buffers_are_too():
    doctor = Busy.of([(at(60), at(90))])
    candidates = [plan(0), plan(30), plan(30, after=5), plan(90, before=5), plan(90)]
    assert free(candidates, doctor) == [candidates[0], candidates[1], candidates[4]]


def test_a_type_that_needs_rooms_is_free_only_where_every_kind_has_one_free_at_its_location():
    resources = {
        "L1": {
            "exam-room": [("room-a", Busy.of([(at(0), at(30))])), ("room-b", Busy.of([(at(0), at(60))]))],
            "ultrasound": [("echo", Busy.of([(at(60), at(90))]))],
        }
    }
    both = ("exam-room", "ultrasound")
    assert free_resources(plan(0, kinds=both), resources) is None  # no room free at 0..30
    assert free_resources(plan(30, kinds=both), resources) == {"exam-room": ["room-a"], "ultrasound": ["echo"]}
    assert free_resources(plan(60, kinds=both), resources) is None  # the ultrasound is taken
    assert free_resources(plan(30, kinds=both, location="L2"), resources) is None  # none at that location
    candidates = [plan(0, kinds=both), plan(30, kinds=both), plan(60, kinds=both), plan(90, kinds=both)]
    assert free(candidates, Busy(), resources) == [candidates[1], candidates[3]]


hour_items = st.lists(
    st.tuples(
        st.integers(0, 3),  # which hour of the morning
        st.dictionaries(st.sampled_from(range(0, 60, 5)), st.sampled_from([None, 100, 200]), max_size=12),
    ),
    max_size=4,
    unique_by=lambda i: i[0],
)


@settings(max_examples=300, deadline=None)
@given(items=hour_items, now=st.sampled_from([50, 150, 250]))
def test_busy_in_reads_hour_items_as_their_occupied_cells_with_expired_holds_free(items, now):
    """Given hour items with cells taken by appointments (no expiry) and by holds (expiring at 100 or
    200), busy_in's intervals cover exactly the cells occupied at ``now`` — each item's adjacent cells
    as one interval, so no two of one item touch."""
    stored = []
    occupied = set()
    for hour, taken in items:
        item = {"owner": "doctor#d", "hour": locks.hour_key(at(60 * hour))}
        for minute, expiry in taken.items():
            item[f"m{minute:02d}"] = "holder"
            if expiry is not None:
                item[f"x{minute:02d}"] = expiry
            if expiry is None or expiry > now:
                occupied.add(at(60 * hour + minute))
        stored.append(item)
    intervals = locks.busy_in(stored, now)
    covered = {cell for start, end in intervals for cell in locks.cells(start, end)}
    assert covered == occupied and sum(len(locks.cells(s, e)) for s, e in intervals) == len(occupied)
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert end != start or locks.hour_key(end - timedelta(minutes=5)) != locks.hour_key(start)
