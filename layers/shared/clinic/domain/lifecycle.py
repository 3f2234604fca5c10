"""The appointment lifecycle: booked → arrived → fulfilled; booked → cancelled; booked → noshow.
Every other transition is refused; cancelled, fulfilled and noshow are final."""

from __future__ import annotations

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


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def predecessors(target: str) -> frozenset[str]:
    """The states from which ``target`` may be reached (used as a write condition)."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


def cancellable() -> frozenset[str]:
    return predecessors("cancelled")


def frees_a_place(current: str, target: str) -> bool:
    return current in OPEN and target not in OPEN
