"""Holds: place, read, confirm, release, and expire (the expiry worker, at expires_at).

A held interval blocks the doctor's and patient's time exactly like a booking and is free again the
instant it expires (clinic.data.locks): no job needs to run first. Confirming books exactly that
interval for that patient, atomically; after ``expires_at`` it is 409 HOLD_EXPIRED, and a released
or confirmed hold is 409 INVALID_TRANSITION. The same rules and codes as booking apply to placing a
hold (the patient's notice, the horizon, working hours, time off, free time, the open-appointment
limit, checked here without taking a place: confirming takes it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from clinic import access, audit
from clinic.data import holds as storage
from clinic.data import quota
from clinic.data.appointments import Occupancy, iso
from clinic.data.transactions import Failed, StillConflicting
from clinic.domain import booking
from clinic.errors import (
    ApiError,
    HoldExpired,
    InvalidTransition,
    NotFound,
    ResourceUnavailable,
    TooManyAppointments,
    TooManyHolds,
)
from clinic.identity import Caller
from clinic.models.common import now_utc, parse_utc, utc_iso
from clinic.models.holds import HoldConfirm, HoldCreate, HoldOut
from clinic.observability import count
from clinic.services import allocation, appointments, clinic_settings, doctors, in_a_keyed_request, new_id, require_id

_ATTEMPTS = 3
SYSTEM_EXPIRY = "hold-expiry"  # the actor of an expiry the service records (the audit trail's actor_sub)


def status_of(hold: dict[str, Any], now: datetime) -> str:
    """What the hold is now: ``expired`` the moment expires_at passes, whatever is stored."""
    if hold["status"] == "held" and now >= parse_utc(hold["expires_at"]):
        return "expired"
    return hold["status"]


def to_out(hold: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    now = now or now_utc()
    out = HoldOut.model_validate(
        {**hold, "start": hold["start_at"], "end": hold["end_at"], "status": status_of(hold, now)}
    )
    body = out.model_dump(mode="json")
    for key in ("start", "end", "expires_at", "created_at"):
        body[key] = utc_iso(getattr(out, key))
    return body


def load(hold_id: str) -> dict[str, Any]:
    hold = storage.HoldStore().get(require_id(hold_id, "hold"))
    if hold is None:
        raise NotFound(detail="hold not found")
    audit.touched(hold["patient_id"], doctor_id=hold["doctor_id"])
    return hold


def place(body: HoldCreate, who: Caller, *, entry: dict[str, Any] | None = None) -> dict[str, Any]:
    """A hold for ``hold_minutes``, or the booking rules' error. A hold placed with POST /holds takes a
    cell of the patient's hold quota (``max_holds_per_patient``, 409 TOO_MANY_HOLDS when none is left).
    Offered to a waitlist ``entry`` (which must still be waiting), it lasts ``waitlist_offer_minutes``
    and takes no hold quota: the waitlist limit bounds offers."""
    doctor_id, patient_id = str(body.doctor_id), str(body.patient_id)
    access.require_booking_for(who, patient_id)
    audit.touched(patient_id, doctor_id=doctor_id)
    values, settings_fresh = clinic_settings.for_write(), False
    doctor, fresh = doctors.for_booking(doctor_id)
    held = quota.read(patient_id, quota.HOLDS) if entry is None else {}
    places_fresh = False
    for _ in range(_ATTEMPTS + 1 + quota_rounds()):
        now = now_utc()
        policy = clinic_settings.policy_of(values)
        try:
            plan = booking.check_bookable(
                doctor,
                body.start,
                body.duration_minutes,
                now,
                type_code=body.appointment_type,
                policy=policy,
                notice_applies=who.system or not who.is_staff,  # an offer: the patient confirms it
                inactive_locations=allocation.inactive_locations(doctor, places_fresh),
            )
            own = allocation.chosen(plan, body.resource_ids, "resource_ids")
        except ApiError:
            if fresh and settings_fresh and places_fresh:
                raise
            doctor, fresh = doctors.load(doctor_id), True  # refused on copies: check fresh ones first
            values, settings_fresh = clinic_settings.fresh(), True
            allocation.forget()
            places_fresh = True
            continue
        taking: list[dict[str, str]] = []
        if plan.resource_kinds:  # one free resource of each kind it needs: a read to choose
            read = allocation.occupancy([plan], doctor_id, patient_id, now, with_resources=True)
            refused = allocation.first_refusal([plan], read, doctor_id, patient_id, None, needs=[own])
            if refused is not None:
                if isinstance(refused[1], ResourceUnavailable) and not places_fresh:
                    allocation.forget()
                    places_fresh = True
                    continue
                raise refused[1]
            taking = own or allocation.first_free(plan, read) or []
        # Kept to the second, as the slot locks compare whole epoch seconds: expires_at as answered is
        # exactly the instant the time is free again.
        now = now.replace(microsecond=0)
        minutes = values["hold_minutes"] if entry is None else values["waitlist_offer_minutes"]
        expires = now + timedelta(minutes=int(minutes))
        hold = {
            "id": new_id("hold"),
            "patient_id": patient_id,
            "doctor_id": doctor_id,
            "start_at": iso(plan.interval.start),
            "end_at": iso(plan.interval.end),
            "duration_minutes": plan.interval.minutes,
            "buffer_before": plan.buffer_before,
            "buffer_after": plan.buffer_after,
            "status": "held",
            "expires_at": utc_iso(expires),
            "expires_epoch": int(expires.timestamp()),
            "created_at": utc_iso(now),
            "updated_at": utc_iso(now),
        }
        if plan.appointment_type:
            hold["appointment_type"] = plan.appointment_type
        if plan.location_id:
            hold["location_id"] = plan.location_id
        hold["resources"] = taking
        extra = [(clinic_settings.check(doctor_id, values), "settings")]
        offer = None
        if entry is None:
            try:
                take, cell = quota.take(
                    patient_id,
                    quota.HOLDS,
                    held,
                    policy.max_holds_per_patient,
                    hold["id"],
                    hold["expires_epoch"],
                    int(now.timestamp()),
                )
            except quota.Full:
                if not settings_fresh:  # refused on a copy: check fresh settings first
                    values, settings_fresh = clinic_settings.fresh(), True
                    continue
                raise TooManyHolds(detail="the patient already has the most live holds the clinic allows") from None
            hold["quota_cell"] = cell
            extra.append((take, "quota"))
        else:
            hold["waitlist_entry_id"] = entry["id"]
            if entry.get("quota_cell") is not None:
                hold["entry_quota_cell"] = entry["quota_cell"]
            offer = {
                "entry_id": entry["id"],
                "offer": {
                    "hold_id": hold["id"],
                    "start": hold["start_at"],
                    "end": hold["end_at"],
                    "expires_at": hold["expires_at"],
                },
                "quota_cell": entry.get("quota_cell"),
                "window_end_epoch": int(parse_utc(entry["to"]).timestamp()),
            }
        if who.system:  # an offer the service makes: on the patient's trail as the service's
            records = audit.by_the_service(patient_id, "waitlist.offer", 201, actor=who.sub, doctor_id=doctor_id)
        else:
            records = audit.in_transaction(patient_id, 201, doctor_id=doctor_id)
        try:
            storage.HoldStore().place(
                hold,
                Occupancy.of(hold),
                int(doctor["version"]),
                policy.max_open_appointments_per_patient,
                int(now.timestamp()),
                records,
                entry_offer=offer,
                extra=tuple(extra),
            )
        except Failed as failed:
            if failed.has("doctor") or failed.has("settings") or failed.has("quota"):
                if failed.has("doctor"):
                    doctor, fresh = appointments.fresh_doctor(failed.item("doctor"), doctor_id), True
                if failed.has("settings"):
                    values, settings_fresh = clinic_settings.fresh(), True
                if failed.has("quota"):  # another hold of the patient's was placed or ended: as it is now
                    held = failed.item("quota") or quota.read(patient_id, quota.HOLDS)
                continue
            if failed.has("location") or failed.has("resource"):  # closed or deactivated meanwhile
                allocation.forget()
                places_fresh = True
                continue
            time_taken = failed.has("doctor_cells") or failed.has("patient_cells")
            if failed.has("resource_cells") and not own and not time_taken:
                continue  # the room went meanwhile: another may still be free
            if failed.has("entry") or failed.has("entry_quota"):
                raise InvalidTransition(detail="the waitlist entry is no longer waiting") from None
            if failed.has("open") and not (failed.has("doctor_cells") or failed.has("patient_cells")):
                raise TooManyAppointments(
                    detail="the patient already has the most open appointments the clinic allows"
                ) from None
            raise appointments.refusal(failed, policy.max_open_appointments_per_patient) from None
        except StillConflicting:
            raise appointments.contended() from None
        count("HoldPlaced")
        return to_out(hold, now)
    raise appointments.contended()


def quota_rounds() -> int:
    """How many times a hold may be planned again because the patient's hold quota changed meanwhile:
    each such failure means another of the patient's holds was placed or ended, at most the limit."""
    return 20  # max_holds_per_patient's upper bound


def get(hold_id: str, who: Caller) -> dict[str, Any]:
    hold = load(hold_id)
    access.require_owner(who, hold, "hold")
    return to_out(hold)


def confirm(hold_id: str, body: HoldConfirm, who: Caller) -> dict[str, Any]:
    """Book exactly the held interval; answers the appointment."""
    from clinic.data.appointments import AppointmentStore

    values = clinic_settings.for_write()
    for _ in range(_ATTEMPTS + 1):
        policy = clinic_settings.policy_of(values)
        hold = load(hold_id)
        access.require_owner(who, hold, "hold")
        now = now_utc()
        if hold["status"] == "confirmed" and in_a_keyed_request() and hold.get("appointment_id") == new_id("confirm"):
            return appointments.to_out(AppointmentStore().get(hold["appointment_id"]))  # our own earlier confirm
        status = status_of(hold, now)
        if status == "expired":
            raise HoldExpired(detail="the hold expired; place a new one or book a free time")
        if status != "held":
            raise InvalidTransition(detail=f"a {status} hold cannot be confirmed")
        doctor, fresh = doctors.for_booking(hold["doctor_id"])
        while True:  # time off created over the hold since it was placed
            try:
                booking.check_bookable(
                    doctor,
                    parse_utc(hold["start_at"]),
                    hold["duration_minutes"],
                    now,
                    policy=booking.Policy(max_advance_days=3650),
                    notice_applies=False,
                )
                break
            except ApiError:
                if fresh:
                    raise
                doctor, fresh = doctors.load(hold["doctor_id"]), True  # refused on a cached copy: check a fresh one
        stamp = utc_iso(now)
        appointment = {
            "id": new_id("confirm"),
            "patient_id": hold["patient_id"],
            "doctor_id": hold["doctor_id"],
            "start_at": hold["start_at"],
            "end_at": hold["end_at"],
            "duration_minutes": hold["duration_minutes"],
            "status": "booked",
            "created_at": stamp,
            "updated_at": stamp,
            "buffer_before": hold.get("buffer_before", 0),
            "buffer_after": hold.get("buffer_after", 0),
            "hold_id": hold["id"],
        }
        for key in ("appointment_type", "location_id"):
            if hold.get(key):
                appointment[key] = hold[key]
        appointment["resources"] = hold.get("resources") or []
        if body.reason is not None:
            appointment["reason"] = body.reason
        records = audit.in_transaction(
            hold["patient_id"], 201, appointment_id=appointment["id"], doctor_id=hold["doctor_id"]
        )
        try:
            storage.HoldStore().confirm(
                {**hold, "updated_at": stamp},
                appointment,
                Occupancy.of(hold),
                int(doctor["version"]),
                policy.max_open_appointments_per_patient,
                int(now.timestamp()),
                records,
                extra=((clinic_settings.check(hold["doctor_id"], values), "settings"),),
            )
        except Failed as failed:
            if failed.has("doctor") or failed.has("settings"):
                if failed.has("doctor"):
                    appointments.fresh_doctor(failed.item("doctor"), hold["doctor_id"])
                if failed.has("settings"):  # the limit may have changed: plan with the settings as they are
                    values = clinic_settings.fresh()
                continue
            if failed.has("hold") or failed.has("doctor_cells") or failed.has("patient_cells"):
                continue  # changed or expired meanwhile: look again (expired → HOLD_EXPIRED above)
            if failed.has("patient"):
                raise appointments.refusal(failed, policy.max_open_appointments_per_patient) from None
            if failed.has("open"):
                raise TooManyAppointments(
                    detail="the patient already has the most open appointments the clinic allows"
                ) from None
            raise
        except StillConflicting:
            raise appointments.contended() from None
        count("HoldConfirmed")
        count("AppointmentBooked")
        return appointments.to_out({**appointment, "version": 1})
    raise appointments.contended()


def release(hold_id: str, who: Caller, *, entry_to: str = "waiting") -> None:
    """Give the time back before the hold expires. Releasing a released or expired hold changes
    nothing (204); a confirmed one is 409 INVALID_TRANSITION. An offer's entry goes back to waiting
    (or ``entry_to``: "cancelled" when the patient leaves the waitlist)."""
    for _ in range(_ATTEMPTS):
        hold = load(hold_id)
        access.require_owner(who, hold, "hold")
        now = now_utc()
        status = status_of(hold, now)
        if status in ("released", "expired"):
            return
        if status == "confirmed":
            raise InvalidTransition(detail="a confirmed hold cannot be released; cancel the appointment")
        records = audit.in_transaction(hold["patient_id"], 204, doctor_id=hold["doctor_id"])
        try:
            storage.HoldStore().end(
                {**hold, "updated_at": utc_iso(now)}, "released", int(now.timestamp()), records, entry_to=entry_to
            )
        except Failed:
            continue  # confirmed, expired or changed meanwhile: look again
        except StillConflicting:
            raise appointments.contended() from None
        count("HoldReleased")
        return
    raise appointments.contended()


def expire(hold_id: str) -> bool:
    """The expiry worker, when the hold's schedule fires: record ``expired`` and free what it still
    holds. False if it is not due yet (the schedule fired early; the caller retries)."""
    store = storage.HoldStore()
    for _ in range(_ATTEMPTS):
        hold = store.get(hold_id)
        if hold is None or hold["status"] != "held":
            return True
        now = now_utc()
        if now < parse_utc(hold["expires_at"]):
            return False
        records = audit.by_the_service(
            hold["patient_id"], "hold.expire", 200, actor=SYSTEM_EXPIRY, doctor_id=hold["doctor_id"]
        )
        try:
            store.end({**hold, "updated_at": utc_iso(now)}, "expired", int(now.timestamp()), records)
        except Failed:
            continue
        count("HoldExpired")
        return True
    raise appointments.contended()
