"""Occupied time as disjoint sorted intervals, pure: merged once, then each question "is [start, end)
free?" is one binary search (clinic.domain.free_time, clinic.domain.booking's time off)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Busy:
    """Disjoint occupied intervals, sorted: ``starts[i]`` to ``ends[i]`` (UTC)."""

    starts: tuple[datetime, ...] = ()
    ends: tuple[datetime, ...] = ()

    @classmethod
    def of(cls, intervals: Iterable[tuple[datetime, datetime]]) -> Busy:
        merged: list[list[datetime]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return cls(tuple(m[0] for m in merged), tuple(m[1] for m in merged))

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) meets any occupied interval."""
        if not self.starts:
            return False
        last = bisect_left(self.starts, end) - 1  # the last interval starting before ``end``
        return last >= 0 and self.ends[last] > start

    def __bool__(self) -> bool:
        return bool(self.starts)


FREE = Busy()
