"""Appointment use cases: book (one, or a weekly series), read, reschedule, change status, cancel,
and the time queries (a doctor's schedule and availability, a patient's appointments).

Every write is one transaction (clinic.data.appointments) planned against the doctor as this
container knows it (clinic.services.doctors.for_booking) and the clinic's policy
(clinic.services.clinic_settings): when the doctor's calendar changed meanwhile, the transaction's
condition fails, hands back the doctor as it is now, and the write is planned again — so a warm
booking is one DynamoDB call, its audit record included.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from clinic import access, audit, pagination
from clinic.config import settings
from clinic.data import appointments as storage
from clinic.data import locks, records
from clinic.data.appointments import Occupancy
from clinic.data.locks import doctor_owner
from clinic.data.transactions import Failed, StillConflicting, TooLarge
from clinic.domain import booking, free_time, lifecycle, series
from clinic.domain.busy import Busy
from clinic.errors import (
    ApiError,
    FieldError,
    IdempotencyKeyReused,
    InvalidTransition,
    NotFound,
    PatientUnavailable,
    ResourceUnavailable,
    ServiceUnavailable,
    SlotUnavailable,
    TooEarly,
    TooLateToChange,
    TooManyAppointments,
    ValidationFailed,
    invalid,
)
from clinic.identity import Caller
from clinic.models.appointments import AppointmentCreate, AppointmentOut, AppointmentUpdate, CancelRequest, SeriesCreate
from clinic.models.common import now_utc, parse_utc, utc_iso
from clinic.observability import count
from clinic.services import allocation, clinic_settings, doctors, in_a_keyed_request, new_id, require_id

SCHEDULE_MAX_DAYS = 31
AVAILABILITY_MAX_DAYS = 14
_ATTEMPTS = 3  # plans per write: the first, and again after a calendar or record changed underneath


def to_out(item: dict[str, Any]) -> dict[str, Any]:
    out = AppointmentOut.model_validate(
        {
            **item,
            "start": item["start_at"],
            "end": item["end_at"],
            "cancellation_reason": item.get("cancellation_reason") if item["status"] == "cancelled" else None,
        }
    )
    body = out.model_dump(mode="json")
    for key in ("start", "end", "created_at", "updated_at"):
        body[key] = utc_iso(getattr(out, key))
    return body


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _notice_applies(who: Caller) -> bool:
    """The minimum notice and the change cutoff bind patients; staff are exempt."""
    return not who.is_staff


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


# ---------------------------------------------------------------------------- booking
def _occurrence_error(error: ApiError, index: int | None) -> ApiError:
    """In a series, an occurrence's error names it: ``occurrences[i].start``."""
    if index is None:
        return error
    name = f"occurrences[{index}].start"
    error.errors = [FieldError(name, e.message) for e in error.errors] or [FieldError(name, error.detail)]
    return error


def _over_the_limit() -> TooManyAppointments:
    return TooManyAppointments(detail="the patient already has the most open appointments the clinic allows")


def _plan(
    doctor: dict[str, Any],
    starts: list[datetime | None],
    body: AppointmentCreate,
    policy: booking.Policy,
    who: Caller,
    now: datetime,
    in_series: bool,
    closed: frozenset[str] = frozenset(),
) -> tuple[list[booking.Booking], tuple[int, ApiError] | None]:
    """Each start checked by the booking rules, in order: the plans up to the first that fails, and
    that failure (its index and error), if any. A start that does not exist (``None``: a
    daylight-saving gap) fails; so does a series' occurrence at or past the open-appointment limit,
    after its own rules (as a single booking meets the rules before the limit)."""
    planned: list[booking.Booking] = []
    for index, start in enumerate(starts):
        if start is None:
            return planned, (
                index,
                invalid("start", "this local time does not exist on that day (a daylight-saving change)"),
            )
        try:
            planned.append(
                booking.check_bookable(
                    doctor,
                    start,
                    body.duration_minutes,
                    now,
                    type_code=body.appointment_type,
                    policy=policy,
                    notice_applies=_notice_applies(who),
                    inactive_locations=closed,
                )
            )
        except ApiError as error:
            return planned, (index, error)
        if in_series and index >= policy.max_open_appointments_per_patient:
            return planned[:-1], (index, _over_the_limit())
    return planned, None


def _new_appointment(
    body: AppointmentCreate,
    plan: booking.Booking,
    appointment_id: str,
    series_id: str | None,
    created_at: str,
    resources: list[dict[str, str]],
) -> tuple[dict[str, Any], Occupancy]:
    item = {
        "id": appointment_id,
        "patient_id": str(body.patient_id),
        "doctor_id": str(body.doctor_id),
        "start_at": storage.iso(plan.interval.start),
        "end_at": storage.iso(plan.interval.end),
        "duration_minutes": plan.interval.minutes,
        "status": "booked",
        "created_at": created_at,
        "updated_at": created_at,
        "buffer_before": plan.buffer_before,
        "buffer_after": plan.buffer_after,
        "resources": resources,
    }
    if plan.location_id is not None:
        item["location_id"] = plan.location_id
    if plan.appointment_type is not None:
        item["appointment_type"] = plan.appointment_type
    if series_id is not None:
        item["series_id"] = series_id
    if body.reason is not None:
        item["reason"] = body.reason
    return item, _occupancy(plan, resources)


def _occupancy(plan: booking.Booking, resources: list[dict[str, str]] | None = None) -> Occupancy:
    return Occupancy(
        plan.interval.start,
        plan.interval.end,
        plan.buffer_before,
        plan.buffer_after,
        plan.location_id,
        tuple(r["id"] for r in resources or ()),
    )


def _book(
    body: AppointmentCreate, who: Caller, starts_of: Any, series_id: str | None
) -> tuple[list[dict[str, Any]], bool]:
    """Book every start ``starts_of(doctor)`` names, all or nothing; answers the stored appointments, and
    whether they were booked by an earlier attempt of this keyed request (nothing new to count).

    Planned on this container's copies of the doctor, the settings and the locations and resources; the
    transaction checks each is current (else it is read again and the booking planned again), and a
    refusal planned on a copy is checked against fresh reads before it is given. A type that needs
    rooms or equipment takes one free resource of each kind at the location (clinic.services.allocation):
    one read to choose, then the one transaction. In a series the answer is the lowest occurrence that
    cannot be booked, for any reason (API.md v1.2)."""
    doctor_id, patient_id = str(body.doctor_id), str(body.patient_id)
    access.require_booking_for(who, patient_id)
    audit.touched(patient_id, doctor_id=doctor_id)
    values, settings_fresh = clinic_settings.for_write(), False
    doctor, fresh = doctors.for_booking(doctor_id)
    places_fresh = False
    in_series = series_id is not None

    def named(index: int) -> int | None:
        return index if in_series else None

    for _ in range(_ATTEMPTS + 1):
        now = now_utc()
        policy = clinic_settings.policy_of(values)
        closed = allocation.inactive_locations(doctor, places_fresh)
        planned, failure = _plan(doctor, starts_of(doctor), body, policy, who, now, in_series, closed)
        if failure is not None:
            if not (fresh and settings_fresh and places_fresh):  # refused on copies: check fresh ones first
                doctor, fresh = doctors.load(doctor_id), True
                values, settings_fresh = clinic_settings.fresh(), True
                allocation.forget()
                places_fresh = True
                continue
            index, error = failure
            if in_series and index > 0:  # an earlier occurrence may fail for its time, a room or the limit
                read = allocation.occupancy(planned, doctor_id, patient_id, now, with_resources=True)
                needs = _own(body, planned)
                lower = allocation.first_refusal(planned, read, doctor_id, patient_id, policy, needs=needs)
                if lower is not None and lower[0] < index:
                    index, error = lower
            raise _occurrence_error(error, named(index))
        own = _own(body, planned)
        taking: list[list[dict[str, str]]] = [[] for _ in planned]
        if any(plan.resource_kinds for plan in planned):
            read = allocation.occupancy(planned, doctor_id, patient_id, now, with_resources=True)
            refused = allocation.first_refusal(planned, read, doctor_id, patient_id, policy, needs=own)
            if refused is not None:
                if isinstance(refused[1], ResourceUnavailable) and not places_fresh:
                    allocation.forget()  # a resource this container does not know yet may be free
                    places_fresh = True
                    continue
                raise _counted(_occurrence_error(refused[1], named(refused[0])))
            taking = [own[i] or allocation.first_free(plan, read) or [] for i, plan in enumerate(planned)]
        created_at = utc_iso(now)
        appointments = [
            _new_appointment(
                body, plan, new_id(f"occurrence-{i}") if in_series else new_id(), series_id, created_at, taking[i]
            )
            for i, plan in enumerate(planned)
        ]
        records = audit.in_transaction(patient_id, 201, appointment_id=appointments[0][0]["id"], doctor_id=doctor_id)
        try:
            storage.AppointmentStore().book(
                appointments,
                int(doctor["version"]),
                policy.max_open_appointments_per_patient,
                _epoch(now),
                records,
                clinic_settings.check(doctor_id, values),
            )
        except Failed as failed:
            if failed.has("doctor") or failed.has("settings"):  # changed since this container read them
                if failed.has("doctor"):
                    doctor, fresh = fresh_doctor(failed.item("doctor"), doctor_id), True
                if failed.has("settings"):
                    values, settings_fresh = clinic_settings.fresh(), True
                continue
            if failed.has("location") or failed.has("resource"):  # closed or deactivated meanwhile
                allocation.forget()
                places_fresh = True
                continue
            if failed.has("appointment"):
                return _own_earlier_booking(appointments), True
            if failed.has("patient"):
                raise _patient_refusal(failed) from None
            if failed.has("resource_cells") and not any(own) and not _time_refused(failed):
                continue  # the room went to another booking meanwhile: another may still be free
            found = _refusals(failed, policy.max_open_appointments_per_patient)
            if in_series:
                read = allocation.occupancy(planned, doctor_id, patient_id, now, with_resources=True)
                lower = allocation.first_refusal(planned, read, doctor_id, patient_id, policy, needs=own)
                found += [lower] if lower else []
            raise _answer_refusal(found, index_named=in_series) from None
        except StillConflicting:
            raise contended() from None
        except TooLarge:
            raise invalid(
                "repeat.count",
                "the series holds too many time slots for one booking; book fewer or shorter occurrences",
            ) from None
        return [{**a, "version": 1} for a, _ in appointments], False
    raise contended()


def _own(body: AppointmentCreate, planned: list[booking.Booking]) -> list[list[dict[str, str]] | None]:
    """The rooms and equipment the request chose, checked against each plan (422 if they cannot be)."""
    return [allocation.chosen(plan, body.resource_ids, "resource_ids") for plan in planned]


def _time_refused(failed: Failed) -> bool:
    return failed.has("doctor_cells") or failed.has("patient_cells") or failed.has("open")


def _counted(error: ApiError) -> ApiError:
    if isinstance(error, (SlotUnavailable, PatientUnavailable, ResourceUnavailable)):
        count("BookingConflict", reason=error.code)
    return error


def book(body: AppointmentCreate, who: Caller) -> dict[str, Any]:
    (appointment,), replayed = _book(body, who, lambda doctor: [body.start], None)
    if not replayed:
        count("AppointmentBooked")
    audit.touched(appointment_id=appointment["id"])
    return to_out(appointment)


def book_series(body: SeriesCreate, who: Caller) -> dict[str, Any]:
    series_id = new_id("series")

    def starts_of(doctor: dict[str, Any]) -> list[datetime | None]:
        return series.occurrences(body.start, doctor["time_zone"], body.repeat.every_weeks, body.repeat.count)

    booked, replayed = _book(body, who, starts_of, series_id)
    if not replayed:
        count("SeriesBooked")
    return {"id": series_id, "appointments": [to_out(a) for a in booked]}


def fresh_doctor(item: dict[str, Any] | None, doctor_id: str) -> dict[str, Any]:
    """The doctor a failed condition handed back: gone (404), inactive (422), or just newer."""
    if item is None:
        doctors.forget(doctor_id)
        raise NotFound(detail="doctor not found")
    doctor = doctors.remember(item)
    if not doctor.get("active", False):
        raise _inactive("doctor_id", "doctor")
    return doctor


def _what_and_when(appointment: dict[str, Any]) -> tuple[str, str, str]:
    return appointment["patient_id"], appointment["doctor_id"], appointment["start_at"]


def _own_earlier_booking(appointments: list[tuple[dict, Occupancy]]) -> list[dict[str, Any]]:
    """The id is taken: only a keyed retry derives an existing id; its first attempt committed every
    appointment (a series: all of them) — answer them as stored now, or refuse a key used for another body."""
    wanted = [a for a, _ in appointments]
    stored = {a["id"]: a for a in storage.AppointmentStore().get_many([a["id"] for a in wanted])}
    earlier = [stored.get(a["id"]) for a in wanted]
    if any(e is None or _what_and_when(e) != _what_and_when(a) for e, a in zip(earlier, wanted, strict=True)):
        raise IdempotencyKeyReused(detail="this Idempotency-Key was used with another request body")
    audit.touched(appointment_id=earlier[0]["id"])
    return earlier


def _patient_refusal(failed: Failed) -> ApiError:
    return _inactive("patient_id", "patient") if failed.item("patient") else NotFound(detail="patient not found")


def _refusals(failed: Failed, limit: int) -> list[tuple[int, ApiError]]:
    """What the failed conditions of a booking refuse, each with the occurrence it names: the first
    whose doctor's or patient's time is taken, the first past the open-appointment limit."""
    found: list[tuple[int, ApiError]] = []
    doctor_cells, patient_cells = failed.first("doctor_cells"), failed.first("patient_cells")
    if doctor_cells:
        found.append((doctor_cells.index, _busy("doctor")))
    if patient_cells:
        found.append((patient_cells.index, _busy("patient")))
    resource = failed.first("resource_cells")
    if resource:
        found.append((resource.index, allocation.unavailable()))
    if failed.has("open"):
        held = int((failed.item("open") or {}).get("n", 0))
        found.append((max(limit - held, 0), _over_the_limit()))
    return found


def _answer_refusal(found: list[tuple[int, ApiError]], *, index_named: bool) -> ApiError:
    """The lowest occurrence's refusal (on a tie, in the order found: the doctor's time, the
    patient's, the limit), counted when it is a conflict."""
    if not found:
        return ServiceUnavailable(detail="the booking could not be made; retry", headers={"Retry-After": "1"})
    index, error = min(found, key=lambda c: c[0])  # on a tie, the first found
    return _counted(_occurrence_error(error, index if index_named else None))  # the conflict answered, once


def refusal(failed: Failed, limit: int) -> ApiError:
    """The error of a single write (a hold, a reschedule) refused by its conditions: the patient's
    existence first, then its time taken (the doctor's, then the patient's), then the open limit."""
    if failed.has("patient"):
        return _patient_refusal(failed)
    return _answer_refusal(_refusals(failed, limit), index_named=False)


# ---------------------------------------------------------------------------- changes
def update(appointment_id: str, change: AppointmentUpdate, who: Caller) -> tuple[dict[str, Any], str]:
    """Reschedule or change status; answers the appointment and what was done (for logs and metrics)."""
    if change.is_reschedule:
        return _reschedule(appointment_id, change, who), "rescheduled"
    return _change_status(appointment_id, change.status, who), change.status  # type: ignore[arg-type]


def _reschedule(appointment_id: str, change: AppointmentUpdate, who: Caller) -> dict[str, Any]:
    """Move an appointment, atomically: its doctor's and patient's time, and its rooms and equipment —
    each kept where it is free at the new time (and at the new time's location), another of its kind
    taken where not, or the ones the request chose — or 409 with nothing changed."""
    store = storage.AppointmentStore()
    doctor, fresh = None, False
    values, settings_fresh = clinic_settings.for_write(), False
    places_fresh = False
    for _ in range(_ATTEMPTS + 1):
        current = load(appointment_id)
        access.require_appointment_change(who, current, rescheduling=True)
        if current["status"] not in lifecycle.RESCHEDULABLE:
            raise InvalidTransition(detail=f"a {current['status']} appointment cannot be rescheduled")
        if current.get("appointment_type") and change.duration_minutes is not None:
            raise invalid("duration_minutes", "an appointment of a type keeps its type's duration")
        if doctor is None:
            doctor, fresh = doctors.for_booking(current["doctor_id"])
        now = now_utc()
        start = change.start or parse_utc(current["start_at"])
        duration = change.duration_minutes if change.duration_minutes is not None else current["duration_minutes"]
        policy = clinic_settings.policy_of(values)
        try:
            plan = booking.check_bookable(
                doctor,
                start,
                duration,
                now,
                policy=policy,
                inactive_locations=allocation.inactive_locations(doctor, places_fresh),
            )
            plan = _moved_plan(plan, current)
        except ApiError:
            if fresh and settings_fresh and places_fresh:
                raise
            doctor, fresh = doctors.load(current["doctor_id"]), True  # refused on copies: check fresh ones
            values, settings_fresh = clinic_settings.fresh(), True
            allocation.forget()
            places_fresh = True
            continue
        taking: list[dict[str, str]] = []
        if plan.resource_kinds:
            own = allocation.chosen(plan, change.resource_ids, "resource_ids")
            read = allocation.occupancy(
                [plan], current["doctor_id"], current["patient_id"], now, with_resources=True, ignore=current["id"]
            )
            needs = own or _kept_or_first_free(plan, current, read)
            refused = allocation.first_refusal(
                [plan], read, current["doctor_id"], current["patient_id"], None, needs=[needs]
            )
            if refused is not None:
                if isinstance(refused[1], ResourceUnavailable) and not places_fresh:
                    allocation.forget()
                    places_fresh = True
                    continue
                raise _counted(refused[1])
            taking = needs or []
        elif change.resource_ids:
            raise invalid("resource_ids", "this appointment needs no rooms or equipment")
        records = audit.in_transaction(
            current["patient_id"], 200, appointment_id=current["id"], doctor_id=current["doctor_id"]
        )
        try:
            saved = store.reschedule(
                current,
                _occupancy(plan, taking),
                int(doctor["version"]),
                lifecycle.RESCHEDULABLE,
                utc_iso(now),
                _epoch(now),
                records,
                clinic_settings.check(current["doctor_id"], values),
                resources=taking,
            )
        except Failed as failed:
            if failed.has("appointment"):
                continue  # changed since we read it: look again
            if failed.has("doctor") or failed.has("settings"):
                if failed.has("doctor"):
                    doctor, fresh = fresh_doctor(failed.item("doctor"), current["doctor_id"]), True
                if failed.has("settings"):
                    values, settings_fresh = clinic_settings.fresh(), True
                continue
            if failed.has("location") or failed.has("resource"):
                allocation.forget()
                places_fresh = True
                continue
            if failed.has("resource_cells") and not change.resource_ids and not _time_refused(failed):
                continue  # the room went meanwhile: another may still be free
            raise refusal(failed, policy.max_open_appointments_per_patient) from None
        except StillConflicting:
            raise contended() from None
        count("AppointmentRescheduled")
        return to_out(saved)
    raise contended()


def _moved_plan(plan: booking.Booking, current: dict[str, Any]) -> booking.Booking:
    """A reschedule keeps the appointment's type, buffers and the kinds of rooms and equipment it took
    (as booked: editing the type later changes none of them)."""
    kinds = tuple(r["kind"] for r in current.get("resources") or ())
    if kinds and plan.location_id is None:
        raise invalid("start", "this appointment needs rooms or equipment: move it to hours worked at a location")
    return dataclasses.replace(
        plan,
        appointment_type=current.get("appointment_type"),
        buffer_before=int(current.get("buffer_before", 0)),
        buffer_after=int(current.get("buffer_after", 0)),
        resource_kinds=kinds,
    )


def _kept_or_first_free(
    plan: booking.Booking, current: dict[str, Any], read: allocation.Occupancy
) -> list[dict[str, str]] | None:
    """Each resource the appointment has, where it is at the new location and free then (its own cells
    do not count); otherwise the first free one of its kind there. None when some kind has none free."""
    start, end = plan.occupied
    here = {r["id"] for r in allocation.candidates(plan)}
    kept = {
        r["kind"]: r
        for r in current.get("resources") or ()
        if r["id"] in here and read.free(locks.resource_owner(r["id"]), start, end)
    }
    first = allocation.first_free(plan, read) if len(kept) < len(plan.resource_kinds) else []
    if first is None:
        return None
    chosen = {**{r["kind"]: r for r in first}, **kept}
    return [{"id": chosen[kind]["id"], "kind": kind} for kind in plan.resource_kinds]


def _change_status(appointment_id: str, target: str, who: Caller) -> dict[str, Any]:
    current = load(appointment_id)
    access.require_appointment_change(who, current, rescheduling=False)
    if not lifecycle.can_move(current["status"], target):
        raise InvalidTransition(detail=f"{current['status']} → {target} is not allowed")
    now = now_utc()
    if not who.is_staff:  # a doctor: not before its time (staff judge arrivals and no-shows as they see them)
        zone = doctors.for_booking(current["doctor_id"])[0]["time_zone"]  # a zone never changes after creation
        if now < lifecycle.earliest_change(target, parse_utc(current["start_at"]), zone):
            when = "its local day has begun" if target == "arrived" else "it has started"
            raise TooEarly(detail=f"an appointment can be marked {target} only once {when}")
    records = audit.in_transaction(
        current["patient_id"], 200, appointment_id=current["id"], doctor_id=current["doctor_id"]
    )
    mark = new_id("status")
    try:
        saved = storage.AppointmentStore().change_status(
            current,
            target,
            lifecycle.predecessors(target),
            lifecycle.frees_a_place(current["status"], target),
            lifecycle.ends_live(current["status"], target),
            utc_iso(now),
            mark,
            records,
        )
    except Failed:
        latest = load(appointment_id)
        if latest["status"] != target or latest.get("status_changed_by_request") != mark:
            raise InvalidTransition(detail=f"{latest['status']} → {target} is not allowed") from None
        saved = latest  # our own change committed; only its answer was lost and botocore retried
    except StillConflicting:
        raise contended() from None
    count("AppointmentStatusChanged", status=target)
    return to_out(saved)


def _cutoff_refusal(who: Caller, starts: list[datetime], now: datetime, values: dict[str, Any]) -> ApiError | None:
    cutoff = timedelta(minutes=clinic_settings.policy_of(values).patient_change_cutoff_minutes)
    if _notice_applies(who) and any(start - now < cutoff for start in starts):
        return TooLateToChange(
            detail="this appointment starts too soon to be changed by the patient; the clinic's staff can"
        )
    return None


def _cancel_checks(who: Caller, doctor_id: str, values: dict[str, Any]) -> dict[str, Any] | None:
    """A patient's cancel is decided by the settings (the cutoff): its transaction proves them current."""
    return clinic_settings.check(doctor_id, values) if _notice_applies(who) else None


def cancel(appointment_id: str, request: CancelRequest, who: Caller) -> dict[str, Any]:
    store = storage.AppointmentStore()
    mark = new_id("cancel")  # the same for every retry of a keyed request, fresh otherwise
    values, settings_fresh = clinic_settings.for_write(), False
    for _ in range(_ATTEMPTS + 1):
        current = load(appointment_id)
        access.require_cancel(who, current)
        if current["status"] == "cancelled" and in_a_keyed_request() and current.get("cancelled_by_request") == mark:
            return to_out(current)  # our own earlier attempt (same Idempotency-Key) committed
        if not lifecycle.can_move(current["status"], "cancelled"):
            raise InvalidTransition(detail=f"a {current['status']} appointment cannot be cancelled")
        now = now_utc()
        too_late = _cutoff_refusal(who, [parse_utc(current["start_at"])], now, values)
        if too_late is not None:
            if settings_fresh:
                raise too_late
            values, settings_fresh = clinic_settings.fresh(), True  # refused on a copy: check fresh settings
            continue
        records = audit.in_transaction(
            current["patient_id"], 200, appointment_id=current["id"], doctor_id=current["doctor_id"]
        )
        try:
            (saved,) = store.cancel(
                [current],
                lifecycle.cancellable(),
                request.reason,
                utc_iso(now),
                mark,
                records,
                _cancel_checks(who, current["doctor_id"], values),
            )
        except Failed as failed:
            if failed.has("settings"):
                values, settings_fresh = clinic_settings.fresh(), True
            continue
        except StillConflicting:
            raise contended() from None
        count("AppointmentCancelled")
        return to_out(saved)
    raise contended()


# ---------------------------------------------------------------------------- series
def _occurrences(series_id: str) -> list[dict[str, Any]]:
    """A series' occurrences as they are now (found by the index, then read consistently), by start."""
    store = storage.AppointmentStore()
    found = store.series(require_id(series_id, "series"))
    if not found:
        raise NotFound(detail="series not found")
    current = store.get_many([a["id"] for a in found])
    for item in current:
        audit.touched(item["patient_id"], doctor_id=item["doctor_id"])
    return sorted(current, key=lambda a: (a["start_at"], a["id"]))


def get_series(series_id: str, who: Caller) -> dict[str, Any]:
    occurrences = _occurrences(series_id)
    access.require_appointment_read(who, occurrences[0])
    return {"id": series_id, "appointments": [to_out(a) for a in occurrences]}


def cancel_series(series_id: str, request: CancelRequest, who: Caller) -> dict[str, Any]:
    """Cancel every occurrence still booked and not yet started, atomically."""
    store = storage.AppointmentStore()
    mark = new_id("cancel")
    values, settings_fresh = clinic_settings.for_write(), False
    for _ in range(_ATTEMPTS + 1):
        occurrences = _occurrences(series_id)
        access.require_cancel(who, occurrences[0])
        now = now_utc()
        open_ones = [a for a in occurrences if a["status"] == "booked" and parse_utc(a["start_at"]) > now]
        if not open_ones:
            return {"id": series_id, "appointments": [to_out(a) for a in occurrences]}
        too_late = _cutoff_refusal(who, [parse_utc(a["start_at"]) for a in open_ones], now, values)
        if too_late is not None:
            if settings_fresh:
                raise too_late
            values, settings_fresh = clinic_settings.fresh(), True  # refused on a copy: check fresh settings
            continue
        records = audit.in_transaction(
            occurrences[0]["patient_id"], 200, appointment_id=open_ones[0]["id"], doctor_id=occurrences[0]["doctor_id"]
        )
        try:
            cancelled = store.cancel(
                open_ones,
                lifecycle.cancellable(),
                request.reason,
                utc_iso(now),
                mark,
                records,
                _cancel_checks(who, occurrences[0]["doctor_id"], values),
            )
        except Failed as failed:
            if failed.has("settings"):
                values, settings_fresh = clinic_settings.fresh(), True
            continue
        except StillConflicting:
            raise contended() from None
        except TooLarge:  # no retry can fix it (occurrences moved across hours hold more locks)
            raise ValidationFailed(
                detail="the series' open occurrences hold too many time slots to cancel at once; cancel them one by one"
            ) from None
        count("SeriesCancelled")
        as_now = {a["id"]: a for a in occurrences} | {a["id"]: a for a in cancelled}  # no second read
        return {"id": series_id, "appointments": [to_out(a) for a in as_now.values()]}
    raise contended()


# ---------------------------------------------------------------------------- time queries
def doctor_schedule(
    doctor_id: str, window_start: datetime, window_end: datetime, limit: int, next_token: str | None, who: Caller
) -> dict[str, Any]:
    access.require_own_schedule(who, doctor_id)
    doctor = doctors.load(doctor_id)
    booking.check_span(window_start, window_end, SCHEDULE_MAX_DAYS)
    scope = pagination.scope_of("schedule", doctor["id"], storage.iso(window_start), storage.iso(window_end))
    items, last_key = storage.AppointmentStore().doctor_schedule(
        doctor["id"], window_start, window_end, limit, pagination.decode(next_token, scope)
    )
    for item in items:
        audit.touched(item["patient_id"])
    return {"items": [to_out(i) for i in items], "next_token": pagination.encode(last_key, scope)}


def resource_schedule(
    resource_id: str, window_start: datetime, window_end: datetime, limit: int, next_token: str | None
) -> dict[str, Any]:
    """The appointments taking a room or a device, starting in [from, to) (span ≤ 31 days), by start."""
    resource = records.Records(settings().resources_table).get(require_id(resource_id, "resource"))
    if resource is None:
        raise NotFound(detail="resource not found")
    booking.check_span(window_start, window_end, SCHEDULE_MAX_DAYS)
    scope = pagination.scope_of("resource_schedule", resource["id"], storage.iso(window_start), storage.iso(window_end))
    items, last_key = storage.AppointmentStore().resource_schedule(
        resource, window_start, window_end, limit, pagination.decode(next_token, scope)
    )
    for item in items:
        audit.touched(item["patient_id"])
    return {"items": [to_out(i) for i in items], "next_token": pagination.encode(last_key, scope)}


def patient_appointments(
    patient_id: str,
    start: datetime | None,
    end: datetime | None,
    status: str | None,
    limit: int,
    next_token: str | None,
    who: Caller,
) -> dict[str, Any]:
    from clinic.services import patients

    access.require_patient_access(who, patient_id)
    patient = patients.load(patient_id)
    window_start = start or datetime(1900, 1, 1, tzinfo=UTC)
    window_end = end or datetime(9999, 1, 1, tzinfo=UTC)
    if window_start >= window_end:
        raise invalid("from", "from must be before to")
    scope = pagination.scope_of(
        "patient_appointments", patient["id"], storage.iso(window_start), storage.iso(window_end), status
    )
    items, last_key = storage.AppointmentStore().patient_appointments(
        patient["id"], window_start, window_end, status, limit, pagination.decode(next_token, scope)
    )
    return {"items": [to_out(i) for i in items], "next_token": pagination.encode(last_key, scope)}


def availability(
    doctor_id: str, window_start: datetime, window_end: datetime, type_code: str | None, who: Caller
) -> dict[str, Any]:
    """Free bookable times — grid slots, or starts of the type's duration with its buffers (and the rooms
    and equipment it needs) free too — never in the past, in time off, at a closed location or outside
    the policy's horizon, sorted by start."""
    # read now, together (one call): time off created a moment ago is never offered, and a settings
    # change that has answered decides at once (a read has no write whose condition would catch a stale copy)
    doctor, values = doctors.load_with_settings(doctor_id)
    booking.check_span(window_start, window_end, AVAILABILITY_MAX_DAYS)
    if not doctor.get("active", True):
        return {"slots": []}
    free = free_bookings(
        doctor,
        window_start,
        window_end,
        now_utc(),
        type_code=type_code,
        policy=clinic_settings.policy_of(values),
        notice_applies=_notice_applies(who),
    )
    return {"slots": [slot_out(c) for c in free]}


def slot_out(plan: booking.Booking) -> dict[str, Any]:
    return {
        "start": utc_iso(plan.interval.start),
        "end": utc_iso(plan.interval.end),
        "location_id": plan.location_id,
    }


def free_bookings(
    doctor: dict[str, Any],
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    *,
    type_code: str | None,
    policy: booking.Policy,
    notice_applies: bool,
    duration_minutes: int | None = None,
) -> list[booking.Booking]:
    """The bookings the doctor's calendar allows in the window (booking.candidates, open locations read
    now) whose occupied time, buffers included, no appointment or live hold occupies — one Query of
    the doctor's slot locks — and, for a type that needs rooms or equipment, with one free resource of
    each kind at its location (a Query of each one's slot locks). What availability, the FHIR Slot search
    and the waitlist matcher offer; the earliest-availability search computes the same from its own reads
    (clinic.services.availability)."""
    candidates = booking.candidates(
        doctor,
        window_start,
        window_end,
        now,
        type_code=type_code,
        policy=policy,
        notice_applies=notice_applies,
        duration_minutes=duration_minutes,
        inactive_locations=allocation.inactive_locations(doctor, fresh=True),
    )
    if not candidates:
        return []
    # sorted by start, one duration and buffers: the first starts and the last ends the occupied span
    start, end = candidates[0].occupied[0], candidates[-1].occupied[1]
    store, epoch = storage.AppointmentStore(), int(now.timestamp())
    busy = Busy.of(store.busy(doctor_owner(doctor["id"]), start, end, epoch))
    resources: dict[str, dict[str, list[tuple[str, Busy]]]] = {}
    for location_id in sorted({c.location_id for c in candidates if c.resource_kinds and c.location_id}):
        kinds = {k for c in candidates if c.location_id == location_id for k in c.resource_kinds}
        at = resources.setdefault(location_id, {})
        for resource in allocation.resources_at(location_id, fresh=True):
            if resource.get("active", False) and resource["kind"] in kinds:
                taken = Busy.of(store.busy(locks.resource_owner(resource["id"]), start, end, epoch))
                at.setdefault(resource["kind"], []).append((resource["id"], taken))
    return free_time.free(candidates, busy, resources)


# ---------------------------------------------------------------------------- errors
def _inactive(field: str, kind: str) -> ValidationFailed:
    return invalid(field, f"the {kind} is not active")


def _busy(whose: str) -> ApiError:
    if whose == "doctor":
        return SlotUnavailable(detail="the doctor is already booked for part of that time")
    return PatientUnavailable(detail="the patient already has an appointment overlapping that time")


def contended() -> ServiceUnavailable:
    return ServiceUnavailable(detail="the schedule is busy; retry", headers={"Retry-After": "1"})
