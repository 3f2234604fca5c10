"""Time off: a doctor away. Availability never offers it; booking, holding or rescheduling into it is
422 DOCTOR_AWAY (clinic.domain.booking); creating it answers the booked appointments it overlaps.

A doctor's time off is kept on the doctor's own item (a list), so one read of the doctor gives everything
a booking is checked against. Adding or removing an entry writes the doctor again under its calendar
version (``doctors.save``: the new version, and the copies on its locations' membership items, in one
transaction) — the version every booking's transaction checks. Race-free by it: once the time off is
committed, no booking planned before it can commit, and every booking that committed before it holds its
slot locks — read right after the commit, consistently — so it is in ``affected_appointments``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clinic import access, audit, pagination
from clinic.data.appointments import AppointmentStore
from clinic.data.locks import doctor_owner
from clinic.data.records import VersionConflict
from clinic.domain.booking import Interval, check_span
from clinic.errors import NotFound, ServiceUnavailable, invalid
from clinic.identity import Caller
from clinic.models.common import now_utc, parse_utc, utc_iso
from clinic.models.time_off import TimeOffCreate, TimeOffOut
from clinic.observability import count
from clinic.services import doctors, new_id, require_id

MAX_ENTRIES = 500  # time off kept on one doctor item (~160 bytes each, far under DynamoDB's 400 KB)
LIST_MAX_DAYS = 366
_ATTEMPTS = 3


def to_out(doctor_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    body = TimeOffOut.model_validate({**entry, "doctor_id": doctor_id}).model_dump(mode="json")
    for key in ("start", "end", "created_at"):
        body[key] = utc_iso(parse_utc(entry[key]))
    return body


def create(doctor_id: str, body: TimeOffCreate, who: Caller) -> dict[str, Any]:
    access.require_own_calendar(who, doctor_id)
    created_at = utc_iso(now_utc())
    entry = {
        "id": new_id(),
        "start": utc_iso(body.start),
        "end": utc_iso(body.end),
        "kind": body.kind,
        "created_at": created_at,
    }
    for _ in range(_ATTEMPTS):
        doctor = doctors.load(doctor_id)
        existing = next((e for e in doctor.get("time_off") or [] if e["id"] == entry["id"]), None)
        if existing is not None:  # our own earlier attempt (same Idempotency-Key) committed
            entry = existing
            break
        if len(doctor.get("time_off") or []) >= MAX_ENTRIES:
            raise invalid("start", f"a doctor keeps at most {MAX_ENTRIES} time off entries; delete past ones")
        try:
            doctors.save(
                {**doctor, "time_off": [*(doctor.get("time_off") or []), entry], "updated_at": created_at},
                int(doctor["version"]),
            )
        except VersionConflict:  # changed meanwhile (doctors are never deleted: the next load says 404 if so)
            continue
        count("TimeOffCreated")
        break
    else:
        raise ServiceUnavailable(detail="the doctor is being changed concurrently; retry", headers={"Retry-After": "1"})
    found = affected(doctor_id, entry)
    for appointment in found:  # the answer names these patients: on their trails
        audit.touched(appointment["patient_id"], doctor_id=doctor_id)
    return {**to_out(doctor_id, entry), "affected_appointments": found}


def affected(doctor_id: str, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The doctor's booked appointments overlapping the time off, by start (read after it committed)."""
    away = Interval(parse_utc(entry["start"]), parse_utc(entry["end"]))
    store_ = AppointmentStore()
    holders = set(store_.taken(doctor_owner(doctor_id), away.start, away.end, now=0).values())
    found = []
    for item in store_.get_many(sorted(holders)):
        interval = Interval(parse_utc(item["start_at"]), parse_utc(item["end_at"]))
        if item["status"] == "booked" and interval.overlaps(away):
            found.append(
                {
                    "id": item["id"],
                    "patient_id": item["patient_id"],
                    "start": utc_iso(interval.start),
                    "end": utc_iso(interval.end),
                }
            )
    return sorted(found, key=lambda a: (a["start"], a["id"]))


def list_page(
    doctor_id: str, window_start: datetime, window_end: datetime, limit: int, next_token: str | None, who: Caller
) -> dict[str, Any]:
    access.require_own_calendar(who, doctor_id)
    check_span(window_start, window_end, LIST_MAX_DAYS)
    doctor = doctors.load(doctor_id)
    window = Interval(window_start, window_end)
    entries = sorted(
        (
            e
            for e in doctor.get("time_off") or []
            if Interval(parse_utc(e["start"]), parse_utc(e["end"])).overlaps(window)
        ),
        key=lambda e: (parse_utc(e["start"]), e["id"]),
    )
    scope = pagination.scope_of("time_off", doctor["id"], utc_iso(window_start), utc_iso(window_end))
    position = pagination.decode(next_token, scope) or {"after": None}
    if position.get("after") is not None:
        entries = (
            entries[[e["id"] for e in entries].index(position["after"]) + 1 :]
            if position["after"] in [e["id"] for e in entries]
            else []
        )
    page, rest = entries[:limit], entries[limit:]
    token = pagination.encode({"after": page[-1]["id"]}, scope) if rest else None
    return {"items": [to_out(doctor["id"], e) for e in page], "next_token": token}


def delete(doctor_id: str, time_off_id: str, who: Caller) -> None:
    access.require_own_calendar(who, doctor_id)
    wanted = require_id(time_off_id, "time off")
    for _ in range(_ATTEMPTS):
        doctor = doctors.load(doctor_id)
        entries = doctor.get("time_off") or []
        index = next((i for i, e in enumerate(entries) if e["id"] == wanted), None)
        if index is None:
            raise NotFound(detail="time off not found")
        try:
            doctors.save(
                {**doctor, "time_off": entries[:index] + entries[index + 1 :], "updated_at": utc_iso(now_utc())},
                int(doctor["version"]),
            )
        except VersionConflict:
            continue
        count("TimeOffDeleted")
        return
    raise ServiceUnavailable(detail="the doctor is being changed concurrently; retry", headers={"Retry-After": "1"})
