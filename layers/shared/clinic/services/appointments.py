"""Appointment use cases: book, read, reschedule, change status, cancel, and the time queries
(a doctor's schedule and availability, a patient's appointments)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from clinic import access, audit, pagination
from clinic.data import appointments as storage
from clinic.data import locks
from clinic.domain import booking, lifecycle
from clinic.domain.schedule import working_slots
from clinic.errors import (
    IdempotencyKeyReused,
    InvalidTransition,
    NotFound,
    PatientUnavailable,
    ServiceUnavailable,
    SlotUnavailable,
    ValidationFailed,
    invalid,
)
from clinic.models.appointments import AppointmentCreate, AppointmentOut, AppointmentUpdate, CancelRequest
from clinic.identity import Caller
from clinic.models.common import now_utc, parse_utc, utc_iso
from clinic.observability import count
from clinic.services import doctors, new_id, require_id, in_a_keyed_request

SCHEDULE_MAX_DAYS = 31
AVAILABILITY_MAX_DAYS = 14
PATIENT_LIST_MAX_DAYS = 366
_CHANGE_ATTEMPTS = 3


def to_out(item: dict[str, Any]) -> dict[str, Any]:
    out = AppointmentOut.model_validate({
        **item,
        "start": item["start_at"],
        "end": item["end_at"],
        "cancellation_reason": item.get("cancellation_reason") if item["status"] == "cancelled" else None,
    })
    body = out.model_dump(mode="json")
    for key in ("start", "end", "created_at", "updated_at"):
        body[key] = utc_iso(getattr(out, key))
    return body


def load(appointment_id: str) -> dict[str, Any]:
    item = storage.AppointmentStore().get(require_id(appointment_id, "appointment"))
    if item is None:
        raise NotFound(detail="appointment not found")
    # on this patient's trail even if the request is then denied or fails
    audit.touched(item["patient_id"], appointment_id=item["id"], doctor_id=item["doctor_id"])
    return item


def get(appointment_id: str, who: Caller) -> dict[str, Any]:
    appointment = load(appointment_id)
    access.require_appointment_read(who, appointment)
    return to_out(appointment)


def book(body: AppointmentCreate, who: Caller) -> dict[str, Any]:
    doctor_id, patient_id = str(body.doctor_id), str(body.patient_id)
    access.require_booking_for(who, patient_id)
    audit.touched(patient_id, doctor_id=doctor_id)  # allowed to act for this patient: on their trail
    doctor = doctors.load(doctor_id)  # its zone, grid and hours; being active is decided in the write
    interval = booking.check_bookable(doctor, body.start, body.duration_minutes, now_utc())
    now = utc_iso(now_utc())
    appointment = {
        "id": new_id(), "patient_id": patient_id, "doctor_id": doctor_id,
        "start_at": storage.iso(interval.start), "end_at": storage.iso(interval.end),
        "duration_minutes": interval.minutes, "status": "booked", "created_at": now, "updated_at": now,
    }
    if body.reason is not None:
        appointment["reason"] = body.reason
    try:
        storage.AppointmentStore().book(appointment, interval.start, interval.end)
    except storage.AppointmentChanged:
        # The id is taken: only a keyed retry derives an existing id; its first attempt committed.
        earlier = storage.AppointmentStore().get(appointment["id"])
        if earlier is None or (earlier["patient_id"], earlier["doctor_id"], earlier["start_at"]) != (
                patient_id, doctor_id, appointment["start_at"]):
            raise IdempotencyKeyReused(detail="this Idempotency-Key was used with another request body") from None
        audit.touched(appointment_id=earlier["id"])
        return to_out(earlier)
    except storage.DoctorMissing as missing:
        raise _inactive("doctor_id", "doctor") if missing.inactive else NotFound(detail="doctor not found") from None
    except storage.PatientMissing as missing:
        raise _inactive("patient_id", "patient") if missing.inactive else NotFound(detail="patient not found") from None
    except (storage.DoctorBusy, storage.PatientBusy) as busy:
        raise _busy(busy) from None
    except storage.StillConflicting:
        raise _contended() from None
    count("AppointmentBooked")
    audit.touched(appointment_id=appointment["id"])
    return to_out({**appointment, "version": 1})


def update(appointment_id: str, change: AppointmentUpdate, who: Caller) -> tuple[dict[str, Any], str]:
    """Reschedule or change status; answers the appointment and what was done (for logs and metrics)."""
    if not who.is_staff:  # staff may change any appointment: no extra read on their path
        access.require_appointment_change(who, load(appointment_id), rescheduling=change.is_reschedule)
    if change.is_reschedule:
        return _reschedule(appointment_id, change), "rescheduled"
    return _change_status(appointment_id, change.status), change.status  # type: ignore[arg-type]


def _reschedule(appointment_id: str, change: AppointmentUpdate) -> dict[str, Any]:
    store = storage.AppointmentStore()
    for _ in range(_CHANGE_ATTEMPTS):
        current = load(appointment_id)
        if current["status"] not in lifecycle.RESCHEDULABLE:
            raise InvalidTransition(detail=f"a {current['status']} appointment cannot be rescheduled")
        doctor = doctors.load(current["doctor_id"])
        start = change.start or parse_utc(current["start_at"])
        duration = change.duration_minutes if change.duration_minutes is not None else current["duration_minutes"]
        interval = booking.check_bookable(doctor, start, duration, now_utc())
        try:
            saved = store.reschedule(current, interval.start, interval.end, utc_iso(now_utc()))
        except storage.AppointmentChanged:
            continue  # changed since we read it: look again
        except storage.DoctorMissing:
            raise _inactive("doctor_id", "doctor") from None
        except storage.PatientMissing:
            raise _inactive("patient_id", "patient") from None
        except (storage.DoctorBusy, storage.PatientBusy) as busy:
            raise _busy(busy) from None
        except storage.StillConflicting:
            raise _contended() from None
        count("AppointmentRescheduled")
        return to_out(saved)
    raise _contended()


def _change_status(appointment_id: str, target: str) -> dict[str, Any]:
    current = load(appointment_id)
    if not lifecycle.can_move(current["status"], target):
        raise InvalidTransition(detail=f"{current['status']} → {target} is not allowed")
    mark = new_id()
    try:
        saved = storage.AppointmentStore().change_status(
            current["id"], target, lifecycle.predecessors(target), utc_iso(now_utc()), mark)
    except storage.AppointmentChanged:
        latest = load(appointment_id)
        if latest["status"] != target or latest.get("status_changed_by_request") != mark:
            raise InvalidTransition(detail=f"{latest['status']} → {target} is not allowed") from None
        saved = latest  # our own update committed; only its answer was lost and botocore retried
    count("AppointmentStatusChanged", status=target)
    return to_out(saved)


def cancel(appointment_id: str, request: CancelRequest, who: Caller) -> dict[str, Any]:
    if not who.is_staff:
        access.require_cancel(who, load(appointment_id))
    store = storage.AppointmentStore()
    mark = new_id()  # the same for every retry of a keyed request, fresh otherwise
    for _ in range(_CHANGE_ATTEMPTS):
        current = load(appointment_id)
        if current["status"] == "cancelled" and in_a_keyed_request() and current.get("cancelled_by_request") == mark:
            return to_out(current)  # our own earlier attempt (same Idempotency-Key) committed
        if not lifecycle.can_move(current["status"], "cancelled"):
            raise InvalidTransition(detail=f"a {current['status']} appointment cannot be cancelled")
        try:
            saved = store.cancel(current, request.reason, utc_iso(now_utc()), mark)
        except storage.AppointmentChanged:
            continue
        except storage.StillConflicting:
            raise _contended() from None
        count("AppointmentCancelled")
        return to_out(saved)
    raise _contended()


def doctor_schedule(doctor_id: str, window_start: datetime, window_end: datetime, limit: int,
                    next_token: str | None, who: Caller) -> dict[str, Any]:
    access.require_own_schedule(who, doctor_id)
    doctor = doctors.load(doctor_id)
    booking.check_span(window_start, window_end, SCHEDULE_MAX_DAYS)
    scope = pagination.scope_of("schedule", doctor["id"], storage.iso(window_start), storage.iso(window_end))
    items, last_key = storage.AppointmentStore().doctor_schedule(
        doctor["id"], window_start, window_end, limit, pagination.decode(next_token, scope))
    for item in items:
        audit.touched(item["patient_id"])
    return {"items": [to_out(i) for i in items], "next_token": pagination.encode(last_key, scope)}


def patient_appointments(patient_id: str, start: datetime | None, end: datetime | None, status: str | None,
                         limit: int, next_token: str | None, who: Caller) -> dict[str, Any]:
    from clinic.services import patients

    access.require_patient_access(who, patient_id)
    patient = patients.load(patient_id)
    window_start = start or datetime(1900, 1, 1, tzinfo=timezone.utc)
    window_end = end or datetime(9999, 1, 1, tzinfo=timezone.utc)
    if window_start >= window_end:
        raise invalid("from", "from must be before to")
    scope = pagination.scope_of("patient_appointments", patient["id"], storage.iso(window_start),
                                storage.iso(window_end), status)
    items, last_key = storage.AppointmentStore().patient_appointments(
        patient["id"], window_start, window_end, status, limit, pagination.decode(next_token, scope))
    return {"items": [to_out(i) for i in items], "next_token": pagination.encode(last_key, scope)}


def availability(doctor_id: str, window_start: datetime, window_end: datetime) -> dict[str, Any]:
    """Free bookable grid slots: working hours minus taken time, never in the past, sorted by start."""
    doctor = doctors.load(doctor_id)
    booking.check_span(window_start, window_end, AVAILABILITY_MAX_DAYS)
    if not doctor.get("active", True):
        return {"slots": []}
    now = now_utc()
    slots = [s for s in working_slots(booking.hours_of(doctor), window_start, window_end) if s.start >= now]
    if not slots:
        return {"slots": []}
    taken = storage.AppointmentStore().taken_cells(locks.doctor_owner(doctor["id"]), slots[0].start, slots[-1].end)
    free = [s for s in slots if not any(_cell_name(c) in taken for c in locks.cells(s.start, s.end))]
    return {"slots": [{"start": utc_iso(s.start), "end": utc_iso(s.end)} for s in free]}


def _cell_name(cell: datetime) -> str:
    return f"{locks.hour_key(cell)}:{cell.minute:02d}"


def _inactive(field: str, kind: str) -> ValidationFailed:
    return invalid(field, f"the {kind} is not active")


def _busy(busy: Exception) -> Exception:
    if isinstance(busy, storage.DoctorBusy):
        count("BookingConflict", reason="SLOT_UNAVAILABLE")
        return SlotUnavailable(detail="the doctor is already booked for part of that time")
    count("BookingConflict", reason="PATIENT_UNAVAILABLE")
    return PatientUnavailable(detail="the patient already has an appointment overlapping that time")


def _contended() -> ServiceUnavailable:
    return ServiceUnavailable(detail="the schedule is busy; retry", headers={"Retry-After": "1"})

