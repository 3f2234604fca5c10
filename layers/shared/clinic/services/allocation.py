"""Where a booking happens and what it takes (v1.2): the location of its working interval and, for a
type that needs rooms or equipment, one active resource of each kind there — the request's choice
(``resource_ids``) or the first free one by name.

Choosing is a read; deciding is the write's conditions (a resource is one more owner of the 5-minute
cells, clinic.data.appointments.resource_cells, and its record and its location are checked active in
the same transaction). So a container may keep the locations and resources it has read: a write taking
a deactivated one fails its check and the caller reads them again; a refusal planned on a kept copy
("none free") is checked against fresh reads first.

The read a booking makes to choose (``occupancy``) also answers, in the same call, whether the doctor's
and the patient's time are free and how many open appointments the patient has: a refused series names
its lowest failing occurrence from it (clinic.services.appointments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from clinic.config import settings
from clinic.data import locks, records
from clinic.data.appointments import AppointmentStore
from clinic.domain.booking import Booking, Policy
from clinic.domain.busy import Busy
from clinic.errors import (
    ApiError,
    PatientUnavailable,
    ResourceUnavailable,
    SlotUnavailable,
    TooManyAppointments,
    invalid,
)

_KNOWN_MAX = 200
_locations: dict[str, dict[str, Any]] = {}  # this container's locations, as last read
_resources_at: dict[str, list[dict[str, Any]]] = {}  # location → its resources, as last read


# ---------------------------------------------------------------------------- what this container knows
def location(location_id: str, fresh: bool = False) -> dict[str, Any] | None:
    if fresh or location_id not in _locations:
        item = records.Records(settings().locations_table).get(location_id)
        if item is None:
            _locations.pop(location_id, None)
            return None
        if len(_locations) >= _KNOWN_MAX:
            _locations.pop(next(iter(_locations)))
        _locations[location_id] = item
    return _locations[location_id]


def inactive_locations(doctor: dict[str, Any], fresh: bool = False) -> frozenset[str]:
    """The locations named in the doctor's working hours that are closed (or gone)."""
    named = {
        span["location_id"]
        for spans in (doctor.get("working_hours") or {}).values()
        for span in spans
        if span.get("location_id")
    }
    return frozenset(loc for loc in named if not (location(loc, fresh) or {}).get("active", False))


def resources_at(location_id: str, fresh: bool = False) -> list[dict[str, Any]]:
    """Every resource at the location (active or not), by name."""
    if fresh or location_id not in _resources_at:
        table = records.Records(settings().resources_table)
        found, start = [], None
        while True:
            page, start = table.query_page("by_location", Key("location_id").eq(location_id), 100, start)
            found += page
            if not start:
                break
        if len(_resources_at) >= _KNOWN_MAX:
            _resources_at.pop(next(iter(_resources_at)))
        _resources_at[location_id] = found
    return _resources_at[location_id]


def forget() -> None:
    _locations.clear()
    _resources_at.clear()


def container_state() -> tuple[dict, dict]:
    return _locations, _resources_at


def restore_container_state(state: tuple[dict, dict]) -> None:
    global _locations, _resources_at
    _locations, _resources_at = state


# ---------------------------------------------------------------------------- reading what is free
@dataclass
class Occupancy:
    """Who is busy when, as read at one moment: the doctor, the patient, the candidate resources."""

    busy: dict[str, Busy] = field(default_factory=dict)  # owner → occupied time
    open_appointments: int = 0

    def free(self, owner: str, start: datetime, end: datetime) -> bool:
        busy = self.busy.get(owner)
        return busy is None or not busy.overlaps(start, end)


def occupancy(
    plans: list[Booking],
    doctor_id: str,
    patient_id: str | None,
    now: datetime,
    *,
    with_resources: bool,
    ignore: str = "",
) -> Occupancy:
    """One consistent read: the doctor's and the patient's time and every candidate resource's around
    each plan, and the patient's open appointments (cells of ``ignore``, the record being moved, are free)."""
    wanted: dict[str, list[tuple[datetime, datetime]]] = {locks.doctor_owner(doctor_id): []}
    if patient_id:
        wanted[locks.patient_owner(patient_id)] = []
    for plan in plans:
        occupied = plan.occupied
        wanted[locks.doctor_owner(doctor_id)].append(occupied)
        if patient_id:
            wanted[locks.patient_owner(patient_id)].append((plan.interval.start, plan.interval.end))
        if with_resources and plan.resource_kinds:
            for resource in candidates(plan):
                wanted.setdefault(locks.resource_owner(resource["id"]), []).append(occupied)
    found, held = AppointmentStore().occupied(wanted, int(now.timestamp()), patient_id, ignore)
    return Occupancy({owner: Busy.of(spans) for owner, spans in found.items()}, held)


def candidates(plan: Booking, fresh: bool = False) -> list[dict[str, Any]]:
    """The active resources at the plan's location of the kinds it needs, by name."""
    if not plan.location_id:
        return []
    return [
        r for r in resources_at(plan.location_id, fresh) if r.get("active", False) and r["kind"] in plan.resource_kinds
    ]


# ---------------------------------------------------------------------------- choosing
def chosen(plan: Booking, resource_ids: list[str] | None, field_name: str) -> list[dict[str, str]] | None:
    """The request's own choice, checked: one active resource per needed kind, at the plan's location
    (unknown, wrong kind, elsewhere, inactive or one too many → 422). None when it chose none."""
    if not resource_ids:
        return None
    if not plan.resource_kinds:
        raise invalid(field_name, "this appointment needs no rooms or equipment")
    known = {r["id"]: r for r in resources_at(plan.location_id or "", fresh=True)}
    picked: dict[str, dict[str, str]] = {}
    for resource_id in map(str, resource_ids):
        resource = known.get(resource_id)
        if resource is None:
            raise invalid(field_name, "a chosen resource is unknown or at another location")
        if resource["kind"] not in plan.resource_kinds or resource["kind"] in picked:
            raise invalid(field_name, "choose one resource of each kind the appointment type needs")
        if not resource.get("active", False):
            raise invalid(field_name, "a chosen resource is not active")
        picked[resource["kind"]] = {"id": resource_id, "kind": resource["kind"]}
    if set(picked) != set(plan.resource_kinds):
        raise invalid(field_name, "choose one resource of each kind the appointment type needs")
    return [picked[kind] for kind in plan.resource_kinds]


def first_free(plan: Booking, read: Occupancy) -> list[dict[str, str]] | None:
    """For each kind the plan needs, the first active resource (by name) free for its occupied time;
    None when some kind has none free."""
    start, end = plan.occupied
    taken: list[dict[str, str]] = []
    for kind in plan.resource_kinds:
        free = [
            r for r in candidates(plan) if r["kind"] == kind and read.free(locks.resource_owner(r["id"]), start, end)
        ]
        if not free:
            return None
        taken.append({"id": free[0]["id"], "kind": kind})
    return taken


def unavailable() -> ResourceUnavailable:
    return ResourceUnavailable(detail="no room or equipment of a kind this appointment needs is free then")


def first_refusal(
    plans: list[Booking],
    read: Occupancy,
    doctor_id: str,
    patient_id: str | None,
    policy: Policy | None,
    *,
    needs: list[list[dict[str, str]] | None] | None = None,
) -> tuple[int, ApiError] | None:
    """The lowest plan storage would refuse as read — its doctor's time (buffers included), then the
    patient's, then the rooms and equipment it needs (``needs``: the request's own choice per plan),
    then the open-appointment limit (``policy``) — or None."""
    doctor, patient = locks.doctor_owner(doctor_id), locks.patient_owner(patient_id or "")
    for index, plan in enumerate(plans):
        start, end = plan.occupied
        if not read.free(doctor, start, end):
            return index, SlotUnavailable(detail="the doctor is already booked for part of that time")
        if patient_id and not read.free(patient, plan.interval.start, plan.interval.end):
            return index, PatientUnavailable(detail="the patient already has an appointment overlapping that time")
        if plan.resource_kinds:
            own = needs[index] if needs else None
            if own is not None:
                if not all(read.free(locks.resource_owner(r["id"]), start, end) for r in own):
                    return index, unavailable()
            elif first_free(plan, read) is None:
                return index, unavailable()
        if policy is not None and read.open_appointments + index + 1 > policy.max_open_appointments_per_patient:
            return index, TooManyAppointments(
                detail="the patient already has the most open appointments the clinic allows"
            )
    return None
