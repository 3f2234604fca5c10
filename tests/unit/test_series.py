"""Weekly series keep the first occurrence's local wall-clock time across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from clinic.domain.series import occurrences


def local(zone: str, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    "zone, first",
    [
        ("America/New_York", "2026-02-23T09:00"),  # spring forward 2026-03-08
        ("America/New_York", "2026-10-19T09:00"),  # fall back 2026-11-01
        ("Europe/London", "2026-03-09T09:00"),  # spring forward 2026-03-29
        ("Europe/London", "2026-10-12T09:00"),  # fall back 2026-10-25
    ],
)
def test_given_a_weekly_series_across_a_transition_then_every_occurrence_is_nine_local(zone, first):
    found = occurrences(local(zone, first), zone, every_weeks=1, count=6)
    assert all(o is not None for o in found)
    assert [o.astimezone(ZoneInfo(zone)).strftime("%a %H:%M") for o in found] == ["Mon 09:00"] * 6
    offsets = {o.astimezone(ZoneInfo(zone)).utcoffset() for o in found}
    assert len(offsets) == 2, "the series crosses the transition: the UTC instant moves by an hour"


def test_given_every_other_week_then_occurrences_are_fourteen_days_apart_in_local_time():
    found = occurrences(local("Europe/London", "2026-03-16T09:00"), "Europe/London", every_weeks=2, count=3)
    assert [o.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%d %H:%M") for o in found] == [
        "2026-03-16 09:00",
        "2026-03-30 09:00",
        "2026-04-13 09:00",
    ]


def test_given_a_local_time_in_the_spring_gap_then_that_occurrence_has_no_instant():
    # 02:30 on Sunday 2026-03-08 does not exist in New York
    found = occurrences(local("America/New_York", "2026-03-01T02:30"), "America/New_York", every_weeks=1, count=3)
    assert found[0] is not None and found[1] is None and found[2] is not None


def test_given_a_repeated_local_time_then_the_first_occurrences_side_of_the_fold_is_kept():
    # 01:30 occurs twice on Sunday 2026-11-01 in New York; a series started at 01:30 EDT keeps EDT's (the first)
    first = datetime(2026, 10, 25, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    found = occurrences(first.astimezone(UTC), "America/New_York", every_weeks=1, count=2)
    assert found[1] == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not 01:30 EST (06:30Z)
