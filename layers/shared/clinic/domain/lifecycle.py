"""The appointment lifecycle: booked → arrived → fulfilled; booked → cancelled; booked → noshow.
Every other transition is refused; cancelled, fulfilled and noshow are final."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

TRANSITIONS: dict[str, frozenset[str]] = {
    "booked": frozenset({"arrived", "cancelled", "noshow"}),
    "arrived": frozenset({"fulfilled"}),
    "fulfilled": frozenset(),
    "cancelled": frozenset(),
    "noshow": frozenset(),
}
FINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
# Only a booked appointment may move in time, or be cancelled.
RESCHEDULABLE = frozenset({"booked"})
# An open appointment holds one of the patient's places (settings: max_open_appointments_per_patient,
# which the contract counts in ``booked`` appointments): arriving, cancelling and a no-show give it back.
OPEN = frozenset({"booked"})
# A live appointment lets its doctor see the patient, whenever it is (API.md v1.2: "booked or arrived").
LIVE = frozenset({"booked", "arrived"})


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def predecessors(target: str) -> frozenset[str]:
    """The states from which ``target`` may be reached (used as a write condition)."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


def cancellable() -> frozenset[str]:
    return predecessors("cancelled")


def frees_a_place(current: str, target: str) -> bool:
    return current in OPEN and target not in OPEN


def ends_live(current: str, target: str) -> bool:
    """Fulfilled or no-show: the appointment stops being live but still ties doctor and patient (a cancel
    unties them: clinic.data.appointments.cancel)."""
    return current in LIVE and target not in LIVE and target != "cancelled"


def earliest_change(target: str, start: datetime, time_zone: str) -> datetime:
    """When a doctor may first make this status change (API.md v1.2; staff are not limited):
    ``arrived`` from 00:00 of the appointment's local day in the doctor's zone, ``fulfilled`` and
    ``noshow`` once its start has passed."""
    if target == "arrived":
        zone = ZoneInfo(time_zone)
        day = start.astimezone(zone).date()
        return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)
    return start
