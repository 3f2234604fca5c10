"""Slot locks: how "no double booking" is made atomic.

Time is cut into 5-minute UTC cells (every doctor grid and buffer is a multiple of 5 minutes, and
every time zone in use has an offset that is a multiple of 5 minutes). What occupies time — an
appointment, or a hold — owns, for its doctor and for its patient, every cell it covers. Cells are
kept one item per owner and UTC hour (owner ``doctor#<id>`` or ``patient#<id>``, sort key
``2026-12-01T14``), one attribute per cell (``m00`` ... ``m55``) holding the record id. A hold's cell
also holds its expiry (``x00`` ... ``x55``, epoch seconds); an appointment's never does.

A cell is free when it has no ``mXX``, or when its ``xXX`` has come: a hold is free again the
instant it expires, with no sweeper needing to run first (the condition compares the expiry with the
request's time, in whole seconds: free from ``expires_at`` on). Taking a cell is ``SET mXX = :id``
under ``attribute_not_exists(mXX) OR xXX <= :now``
(and ``REMOVE xXX`` for an appointment); freeing it is ``REMOVE``. Two occupants overlap exactly when
they share a cell, so the conditions decide, inside the write's one transaction, that nobody else
holds the time. Packing an hour in one item keeps the longest move (240 minutes plus buffers, moved
away) to a handful of transaction items instead of hundreds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

CELL = timedelta(minutes=5)


def doctor_owner(doctor_id: str) -> str:
    return f"doctor#{doctor_id}"


def patient_owner(patient_id: str) -> str:
    return f"patient#{patient_id}"


def resource_owner(resource_id: str) -> str:
    """A room's or a device's cells: one more owner of the same 5-minute cells (v1.2)."""
    return f"resource#{resource_id}"


def site_key(hour: str, owner: str) -> str:
    """The sort key of a doctor's or resource's hour item in the ``site_hours`` index: a location's
    items of a time range, every owner, in one Query (clinic.services.availability)."""
    return f"{hour}#{owner}"


def cells(start: datetime, end: datetime) -> list[datetime]:
    """The 5-minute UTC cells covering [start, end); both ends lie on the 5-minute grid."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if start.minute % 5 or start.second or start.microsecond or end.minute % 5 or end.second or end.microsecond:
        raise ValueError("cells need 5-minute aligned instants")
    result, at = [], start
    while at < end:
        result.append(at)
        at += CELL
    return result


def hour_key(cell: datetime) -> str:
    return cell.strftime("%Y-%m-%dT%H")


def cell_name(cell: datetime) -> str:
    """How a taken cell is reported by ``taken``: ``2026-12-01T14:05``."""
    return f"{hour_key(cell)}:{cell.minute:02d}"


def _minute(cell: datetime) -> str:
    return f"{cell.minute:02d}"


@dataclass
class HourChange:
    """What one owner-hour item must do: take some cells, free others, turn a hold's cells into an
    appointment's."""

    owner: str
    hour: str
    take: list[str] = field(default_factory=list)  # minutes, "00".."55"
    free: list[str] = field(default_factory=list)
    convert: list[str] = field(default_factory=list)


def changes(owner: str, old: list[datetime], new: list[datetime], *, convert: bool = False) -> list[HourChange]:
    """Per hour item: the cells to take (new, not already ours), to free (old, no longer ours) and,
    with ``convert``, those held by a hold that become the appointment's (old and new)."""
    old_set, new_set = set(old), set(new)
    result: dict[str, HourChange] = {}

    def change(cell: datetime) -> HourChange:
        return result.setdefault(hour_key(cell), HourChange(owner, hour_key(cell)))

    for cell in sorted(new_set - old_set):
        change(cell).take.append(_minute(cell))
    for cell in sorted(old_set - new_set):
        change(cell).free.append(_minute(cell))
    if convert:
        for cell in sorted(old_set & new_set):
            change(cell).convert.append(_minute(cell))
    return [result[h] for h in sorted(result)]


def update_action(
    table_name: str,
    change: HourChange,
    record_id: str,
    now: int,
    *,
    hold_expiry: int | None = None,
    previous_id: str | None = None,
    site: str | None = None,
) -> dict[str, Any]:
    """One TransactWriteItems Update for one owner-hour item, on behalf of ``record_id``.

    ``site``: the location of what takes cells (an appointment or hold there), written on the doctor's
    and the resource's hour items so that the ``site_hours`` index finds them by location; a writer
    without one leaves the item's site as it is (clinic.services.availability explains why that is
    still exact).

    - taking a cell requires it free (absent, or held by an expired hold); a hold records its expiry;
    - converting requires the cell still held by ``previous_id`` (the hold) and not expired;
    - freeing requires nothing when an appointment frees its own cells (its version condition proves
      they are its own); a hold (``previous_id``) frees only cells it still holds (the caller asks for
      exactly those: once expired, another booking may have taken some).
    """
    names: dict[str, str] = {}
    values: dict[str, Any] = {":id": record_id}
    sets, removes, conditions = [], [], []
    for minute in change.take:
        m, x = f"#m{minute}", f"#x{minute}"
        names[m], names[x] = f"m{minute}", f"x{minute}"
        sets.append(f"{m} = :id")
        if hold_expiry is not None:
            sets.append(f"{x} = :expires")
        else:
            removes.append(x)
        conditions.append(f"(attribute_not_exists({m}) OR {x} <= :now)")
    for minute in change.convert:
        m, x = f"#m{minute}", f"#x{minute}"
        names[m], names[x] = f"m{minute}", f"x{minute}"
        sets.append(f"{m} = :id")
        removes.append(x)
        conditions.append(f"({m} = :previous AND {x} > :now)")
    for minute in change.free:
        m, x = f"#m{minute}", f"#x{minute}"
        names[m], names[x] = f"m{minute}", f"x{minute}"
        removes += [m, x]
        if previous_id is not None:
            conditions.append(f"{m} = :previous")
    if site is not None and (change.take or change.convert):
        names["#site"], names["#site_key"] = "site", "site_key"
        values[":site"], values[":site_key"] = site, site_key(change.hour, change.owner)
        sets += ["#site = :site", "#site_key = :site_key"]
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(sets))
    if removes:
        clauses.append("REMOVE " + ", ".join(dict.fromkeys(removes)))
    if change.take or change.convert:
        values[":now"] = now
    if hold_expiry is not None and change.take:
        values[":expires"] = hold_expiry
    if previous_id is not None and (change.convert or change.free):
        values[":previous"] = previous_id
    action: dict[str, Any] = {
        "TableName": table_name,
        "Key": {"owner": change.owner, "hour": change.hour},
        "UpdateExpression": " ".join(clauses),
        "ExpressionAttributeNames": names,
    }
    used = " ".join(clauses + conditions)
    values = {k: v for k, v in values.items() if k in used}
    if values:
        action["ExpressionAttributeValues"] = values
    if conditions:
        action["ConditionExpression"] = " AND ".join(conditions)
    return {"Update": action}


@lru_cache(maxsize=4096)
def hour_start(hour: str) -> datetime:
    """The UTC instant an hour key (``2026-12-01T14``) names (remembered: the same hours are read again)."""
    return datetime(int(hour[0:4]), int(hour[5:7]), int(hour[8:10]), int(hour[11:13]), tzinfo=UTC)


# each cell of an hour item: its attribute, its expiry's attribute, and where it starts and ends in the hour
_CELLS = tuple((f"m{m:02d}", f"x{m:02d}", timedelta(minutes=m), timedelta(minutes=m + 5)) for m in range(0, 60, 5))


def busy_in(items: list[dict[str, Any]], now: int) -> list[tuple[datetime, datetime]]:
    """The occupied time of some hour items as intervals — an item's adjacent occupied cells as one —
    expired holds left out; merging across items is clinic.domain.busy's part."""
    found = []
    for item in items:
        base = start = end = None
        for name, expiry_name, cell_start, cell_end in _CELLS:
            if name not in item:
                continue
            expiry = item.get(expiry_name)
            if expiry is not None and int(expiry) <= now:
                continue
            if base is None:
                base = hour_start(item["hour"])
            if end != cell_start:
                if start is not None:
                    found.append((base + start, base + end))
                start = cell_start
            end = cell_end
        if start is not None:
            found.append((base + start, base + end))
    return found


def taken_in(item: dict[str, Any], now: int) -> dict[str, str]:
    """The taken cells of one hour item: ``cell_name`` → the id holding it (expired holds left out)."""
    taken = {}
    for attribute, value in item.items():
        if len(attribute) == 3 and attribute[0] == "m" and attribute[1:].isdigit():
            expiry = item.get(f"x{attribute[1:]}")
            if expiry is None or int(expiry) > now:
                taken[f"{item['hour']}:{attribute[1:]}"] = str(value)
    return taken
