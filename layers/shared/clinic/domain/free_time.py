"""Free time by interval arithmetic, pure: which of the bookings a doctor's calendar allows
(clinic.domain.booking.candidates: working hours on the grid, the horizon, time off, open locations)
the occupied time of the doctor — and, for a type that needs rooms or equipment, of the resources at
the candidate's location — leaves free.

Occupied time comes as intervals (from the slot locks: clinic.data.locks.busy_in), merged once into
a ``Busy``; each candidate's occupied interval (buffers included) is then one binary search, instead
of a set of 5-minute cells built and looked up per candidate. The answer is the same as checking the
cells: two intervals on the 5-minute grid overlap exactly when they share a cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from clinic.domain.booking import Booking
from clinic.domain.busy import Busy

# location → kind → the active resources of that kind there: (resource id, its occupied time)
Resources = Mapping[str, Mapping[str, Sequence[tuple[str, Busy]]]]


def free_resources(booking: Booking, resources: Resources) -> dict[str, list[str]] | None:
    """For each kind the booking needs, the resources at its location free for its occupied time
    (in the order given); None when some kind has none."""
    start, end = booking.occupied
    at = resources.get(booking.location_id or "", {})
    found: dict[str, list[str]] = {}
    for kind in booking.resource_kinds:
        free = [rid for rid, busy in at.get(kind, ()) if not busy.overlaps(start, end)]
        if not free:
            return None
        found[kind] = free
    return found


def free(candidates: Iterable[Booking], doctor: Busy, resources: Resources | None = None) -> list[Booking]:
    """The candidates whose occupied time (buffers included) the doctor's busy time leaves free and,
    when they need rooms or equipment, for which every kind has a free resource at their location."""
    found = []
    for booking in candidates:
        start, end = booking.occupied
        if doctor.overlaps(start, end):
            continue
        if booking.resource_kinds and free_resources(booking, resources or {}) is None:
            continue
        found.append(booking)
    return found
