"""Weekly series, pure: the occurrences keep the first one's local wall-clock time in the doctor's
zone, across daylight-saving changes (09:00 stays 09:00 local, so the UTC instant moves by an hour).

A local time that does not exist on an occurrence's day (the spring-forward gap) has no instant
(None: that occurrence cannot be booked); one that occurs twice (fall-back) keeps the first one's
side of the fold — the earlier instant unless the first occurrence itself was the later one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def occurrences(first: datetime, time_zone: str, every_weeks: int, count: int) -> list[datetime | None]:
    zone = ZoneInfo(time_zone)
    local = first.astimezone(zone)
    found: list[datetime | None] = []
    for index in range(count):
        day = local.date() + timedelta(weeks=every_weeks * index)
        wall = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone).replace(fold=local.fold)
        back = wall.astimezone(UTC).astimezone(zone)
        exists = back.replace(tzinfo=None, fold=0) == wall.replace(tzinfo=None, fold=0)
        found.append(wall.astimezone(UTC) if exists else None)
    return found
