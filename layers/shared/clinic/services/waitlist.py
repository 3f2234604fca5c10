"""The waitlist: join, read, leave, a patient's entries, and the matcher that offers freed time.

When bookable time inside a waiting entry's window appears — a cancellation, a reschedule away, time
off deleted, a hold released or expired, or already there when the entry is created — the oldest
fitting entry is offered it as a hold lasting ``waitlist_offer_minutes`` (clinic.services.holds):
the offer and the hold are one transaction, so the same time is never offered twice and never
overbooked. Confirming the hold books it (the entry becomes ``booked``); an offer that expires or is
released puts the entry back to ``waiting``, queued last, and the freed time goes to the next entry.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from clinic import access, audit, pagination
from clinic.data import quota
from clinic.data import waitlist as storage
from clinic.data.transactions import Failed, StillConflicting
from clinic.domain import booking
from clinic.errors import (
    ApiError,
    InvalidTransition,
    NotFound,
    PatientUnavailable,
    SlotUnavailable,
    TooManyWaitlistEntries,
    invalid,
)
from clinic.identity import STAFF, Caller
from clinic.models.common import now_utc, parse_utc, utc_iso
from clinic.models.holds import HoldCreate
from clinic.models.waitlist import WaitlistCreate, WaitlistEntryOut
from clinic.observability import count, logger
from clinic.services import clinic_settings, doctors, holds, new_id, require_id
from clinic.services.appointments import contended, free_bookings

MATCHER = Caller(sub="waitlist-matcher", groups=frozenset({STAFF}), system=True)  # offers on the clinic's behalf
QUEUE_READ = 50  # waiting entries read at a time, oldest first
_ATTEMPTS = 3
QUEUE_PAGES = 20  # at most this many reads per trigger (1,000 entries of one doctor); the rest next time


def offer_expired(entry: dict[str, Any], now: datetime) -> bool:
    return entry["status"] == "offered" and parse_utc(entry["offer"]["expires_at"]) <= now


def status_of(entry: dict[str, Any], now: datetime) -> str:
    """What the entry is now, whatever the workers have yet to write: an offer that has expired puts
    it back to ``waiting``, and a waiting entry whose window has passed is ``expired``."""
    status = "waiting" if offer_expired(entry, now) else entry["status"]
    if status == "waiting" and parse_utc(entry["to"]) <= now:
        return "expired"
    return status


def to_out(entry: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    now = now or now_utc()
    out = WaitlistEntryOut.model_validate(
        {**entry, "status": status_of(entry, now), "offer": None if offer_expired(entry, now) else entry.get("offer")}
    )
    body = out.model_dump(mode="json", by_alias=True)
    for key, attribute in (("from", "from_"), ("to", "to"), ("created_at", "created_at")):
        body[key] = utc_iso(getattr(out, attribute))
    if out.offer is not None:
        for key in ("start", "end", "expires_at"):
            body["offer"][key] = utc_iso(getattr(out.offer, key))
    return body


def load(entry_id: str) -> dict[str, Any]:
    entry = storage.get(require_id(entry_id, "waitlist entry"))
    if entry is None:
        raise NotFound(detail="waitlist entry not found")
    audit.touched(entry["patient_id"], doctor_id=entry["doctor_id"])
    return entry


def join(body: WaitlistCreate, who: Caller) -> dict[str, Any]:
    """A new waiting entry, taking a cell of the patient's waitlist quota until its window ends
    (``max_waitlist_entries_per_patient``: 409 TOO_MANY_WAITLIST_ENTRIES when none is left)."""
    from clinic.services import patients  # here: the matcher's functions never read a patient

    doctor_id, patient_id = str(body.doctor_id), str(body.patient_id)
    access.require_booking_for(who, patient_id)
    audit.touched(patient_id, doctor_id=doctor_id)
    # a patient who could never be offered anything is refused now, as a booking would be, not queued
    patient = patients.load(patient_id)
    if not patient.get("active", False):
        raise invalid("patient_id", "the patient is not active")
    doctor = doctors.load(doctor_id)
    duration, kind = booking.shape(doctor, body.duration_minutes, body.appointment_type)
    values, settings_fresh = clinic_settings.for_write(), False
    entries = quota.read(patient_id, quota.WAITLIST)
    entry_id = new_id()
    for _ in range(_ATTEMPTS + quota.MAX_CELLS):
        now = now_utc()
        stamp = utc_iso(now)
        entry = {
            "id": entry_id,
            "patient_id": patient_id,
            "doctor_id": doctor_id,
            "from": utc_iso(body.from_),
            "to": utc_iso(body.to),
            "duration_minutes": duration,
            "status": "waiting",
            "created_at": stamp,
            "updated_at": stamp,
            "queued_at": f"{stamp}#{new_id('queue')}",
        }
        if kind is not None:
            entry["appointment_type"] = kind["code"]
        limit = clinic_settings.policy_of(values).max_waitlist_entries_per_patient
        try:
            take, cell = quota.take(
                patient_id, quota.WAITLIST, entries, limit, entry_id, int(body.to.timestamp()), int(now.timestamp())
            )
        except quota.Full:
            if not settings_fresh:  # refused on a copy: check fresh settings first
                values, settings_fresh = clinic_settings.fresh(), True
                continue
            raise TooManyWaitlistEntries(
                detail="the patient already has the most waitlist entries the clinic allows"
            ) from None
        entry["quota_cell"] = cell
        records = audit.in_transaction(patient_id, 201, doctor_id=doctor_id)
        try:
            storage.create(entry, records, ((take, "quota"), (clinic_settings.check(doctor_id, values), "settings")))
        except Failed as failed:
            if failed.has("settings"):
                values, settings_fresh = clinic_settings.fresh(), True
            if failed.has("quota"):  # another entry of the patient's was added or left: as it is now
                entries = failed.item("quota") or quota.read(patient_id, quota.WAITLIST)
            if failed.has("entry"):  # a keyed retry? joining takes no key: an id collision, so retry afresh
                entry_id = new_id()
            continue
        except StillConflicting:
            raise contended() from None
        count("WaitlistJoined")
        return to_out(entry)
    raise contended()


def get(entry_id: str, who: Caller) -> dict[str, Any]:
    entry = load(entry_id)
    access.require_owner(who, entry, "waitlist entry")
    return to_out(entry)


def leave(entry_id: str, who: Caller) -> None:
    """Leave the waitlist, releasing an open offer (its time is free again at once)."""
    for _ in range(3):
        entry = load(entry_id)
        access.require_owner(who, entry, "waitlist entry")
        now = now_utc()
        if status_of(entry, now) in ("cancelled", "booked", "expired"):
            return
        try:
            if offer_expired(entry, now):  # record the expiry first (the entry waits again), then leave
                holds.expire(entry["offer"]["hold_id"])
                continue
            if entry["status"] == "offered":
                holds.release(entry["offer"]["hold_id"], MATCHER, entry_to="cancelled")
                if (storage.get(entry["id"]) or {}).get("status") != "cancelled":
                    continue  # the offer had expired: the entry waits again; leave it now
            else:
                records = audit.in_transaction(entry["patient_id"], 204, doctor_id=entry["doctor_id"])
                storage.cancel(entry, utc_iso(now_utc()), records)
        except storage.Changed:
            continue
        count("WaitlistLeft")
        return
    raise contended()


def patient_entries(patient_id: str, limit: int, next_token: str | None, who: Caller) -> dict[str, Any]:
    from clinic.services import patients

    access.require_patient_access(who, patient_id)
    patient = patients.load(patient_id)
    scope = pagination.scope_of("waitlist:patient", patient["id"])
    items, last_key = storage.of_patient(patient["id"], limit, pagination.decode(next_token, scope))
    return {"items": [to_out(i) for i in items], "next_token": pagination.encode(last_key, scope)}


# ---------------------------------------------------------------------------- the matcher
def offer_freed_time(doctor_id: str) -> int:
    """Offer the doctor's free time to the waiting entries, oldest first; answers how many offers."""
    entries, next_key = storage.queue(doctor_id, QUEUE_READ)
    if not entries:
        return 0
    try:
        doctor = doctors.load(doctor_id)
    except NotFound:
        return 0
    if not doctor.get("active", False):
        return 0
    policy = clinic_settings.policy_of(clinic_settings.fresh())  # which times to try; each offer's write checks
    offers, pages = 0, 1
    while True:
        offers += _offer_to(entries, doctor, policy)
        if next_key is None or pages == QUEUE_PAGES:
            if next_key is not None:
                logger.warning("waitlist queue longer than one run reads", extra={"doctor_id": doctor_id})
            return offers
        entries, next_key = storage.queue(doctor_id, QUEUE_READ, next_key)
        pages += 1


def _offer_to(entries: list[dict[str, Any]], doctor: dict[str, Any], policy: booking.Policy) -> int:
    offers, doctor_id = 0, doctor["id"]
    for entry in entries:
        now = now_utc()
        if entry.get("status") != "waiting":
            continue
        if parse_utc(entry["to"]) <= now:
            records = audit.by_the_service(
                entry["patient_id"], "waitlist.expire", 200, actor=MATCHER.sub, doctor_id=doctor_id
            )
            with contextlib.suppress(storage.Changed):
                storage.expire(entry, utc_iso(now), records)
            continue
        for candidate in _free_times(doctor, entry, policy, now):
            request = HoldCreate(
                patient_id=entry["patient_id"],
                doctor_id=doctor_id,
                start=candidate,
                **(
                    {"appointment_type": entry["appointment_type"]}
                    if entry.get("appointment_type")
                    else {"duration_minutes": entry["duration_minutes"]}
                ),
            )
            try:
                holds.place(request, MATCHER, entry=entry)
            except (SlotUnavailable, PatientUnavailable):
                continue  # that time went, or the patient is busy then: the next time may do
            except ApiError as refused:
                # the entry is no longer waiting (InvalidTransition), or the patient cannot take any time
                # now (at their open-appointment limit, gone, inactive): every other time would be refused
                # too, one transaction each; this entry waits for the next trigger
                if not isinstance(refused, InvalidTransition):
                    logger.info(
                        "waitlist entry skipped", extra={"waitlist_entry_id": entry["id"], "code": refused.code}
                    )
                break
            offers += 1
            logger.info("waitlist offer made", extra={"waitlist_entry_id": entry["id"], "doctor_id": doctor_id})
            count("WaitlistOfferMade")
            break
    return offers


def _free_times(doctor: dict[str, Any], entry: dict[str, Any], policy: booking.Policy, now: datetime) -> list[datetime]:
    """Starts in the entry's window the doctor is free for (what availability would offer)."""
    window_start, window_end = max(parse_utc(entry["from"]), now), parse_utc(entry["to"])
    if window_start >= window_end:
        return []
    free = free_bookings(
        doctor,
        window_start,
        window_end,
        now,
        type_code=entry.get("appointment_type"),
        policy=policy,
        notice_applies=True,  # the patient confirms it: their notice
        duration_minutes=None if entry.get("appointment_type") else entry["duration_minutes"],
    )
    return [c.interval.start for c in free]
