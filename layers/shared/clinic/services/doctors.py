"""Doctor use cases: create, read, update, list (optionally by specialty and/or location), the doctor
record as bookings see it, and the doctors working at a location.

A doctor's item carries a calendar ``version``, bumped by every change to it (hours, types, time
off, active, ...). Bookings check it inside their transaction, so a function may keep the doctors
it has read (``for_booking``) across requests: a stale copy costs one retry — the failed condition
hands back the doctor as it is now — and never a wrong booking.

Working-hour intervals may name a location. Writing a doctor checks, in the write's own transaction, that
each location its hours name exists (404), is active and has the doctor's zone (422), and keeps each
location's list of doctors — with a copy of the doctor — in step (``clinic.data.places``): every write of
a doctor goes through ``places.save_doctor`` (here and ``save`` for time off). The item also keeps
``sites`` (every location its hours ever named: a union that never shrinks) and ``sites_none`` (an
interval without a location was stored once); a doctor stored before locations existed has neither (read
it as ``sites_none`` true).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from clinic import pagination
from clinic.data import places, records
from clinic.domain.schedule import WEEKDAYS
from clinic.errors import ApiError, FieldError, NotFound, ServiceUnavailable, ValidationFailed
from clinic.models.common import now_utc, utc_iso
from clinic.models.doctors import DoctorCreate, DoctorOut, DoctorUpdate, Interval
from clinic.services import new_id, require_id

_UPDATE_ATTEMPTS = 3
_MEMBERS_PAGE = 1000  # a location's doctors per Query by at_location (DynamoDB also ends a page at 1 MB)
_KNOWN_MAX = 1000
_known: dict[str, dict[str, Any]] = {}  # this container's doctors, as last read or written


def remember(item: dict[str, Any]) -> dict[str, Any]:
    """Keep the doctor as just read or written (the newest version wins)."""
    known = _known.get(item["id"])
    if known is None or int(known.get("version", 0)) <= int(item.get("version", 0)):
        _known.pop(item["id"], None)
        _known[item["id"]] = item
        while len(_known) > _KNOWN_MAX:
            _known.pop(next(iter(_known)))
    return _known[item["id"]]


def for_booking(doctor_id: str) -> tuple[dict[str, Any], bool]:
    """The doctor as this container last saw it, and whether that was read just now. A booking's
    transaction proves a cached copy current; a refusal planned on a cached copy is checked against
    a fresh read before it is given (``load``), so a stale cache never refuses wrongly either."""
    known = _known.get(doctor_id)
    return (known, False) if known is not None else (load(doctor_id), True)


def container_state() -> dict[str, dict[str, Any]]:
    """What this container knows (tests swap it to run several functions in one process, each with
    its own warm container, as in Lambda)."""
    return _known


def restore_container_state(state: dict[str, dict[str, Any]]) -> None:
    global _known
    _known = state


def forget(doctor_id: str | None = None) -> None:
    if doctor_id is None:
        _known.clear()
    else:
        _known.pop(doctor_id, None)


def specialty_key(specialty: str) -> str:
    return specialty.strip().casefold()


def to_out(item: dict[str, Any]) -> dict[str, Any]:
    return DoctorOut.model_validate(item).model_dump(mode="json")


def create(body: DoctorCreate) -> dict[str, Any]:
    now = utc_iso(now_utc())
    hours = stored_hours(body.working_hours)
    named, unlocated = sites_of(hours)
    item = {
        "id": new_id(),
        **body.model_dump(mode="json"),
        "working_hours": hours,
        "active": True,
        "created_at": now,
        "updated_at": now,
        "specialty_key": specialty_key(body.specialty),
        "sites": sorted(named),
        "sites_none": unlocated,
    }
    try:
        saved = places.save_doctor(records.doctors(), item, None, at=named, check=dict.fromkeys(named, body.time_zone))
    except records.AlreadyExists:  # our own earlier attempt (same Idempotency-Key) committed
        return to_out(records.doctors().get(item["id"]))
    except places.LocationsRefused as refused:
        raise _refusal(refused, hours) from None
    return to_out(remember(saved))


def stored_hours(hours: dict[str, list[Interval]]) -> dict[str, list[dict[str, str]]]:
    """Working hours as stored: ``{"start", "end"}``, with ``location_id`` only where one is named."""
    return {
        day: [
            {"start": i.start, "end": i.end, **({"location_id": str(i.location_id)} if i.location_id else {})}
            for i in intervals
        ]
        for day, intervals in hours.items()
    }


def sites_of(hours: dict[str, list[dict[str, Any]]]) -> tuple[set[str], bool]:
    """The locations stored hours name, and whether an interval names none."""
    intervals = [i for day in hours.values() for i in day]
    return {i["location_id"] for i in intervals if i.get("location_id")}, any(
        not i.get("location_id") for i in intervals
    )


def _refusal(refused: places.LocationsRefused, hours: dict[str, list[dict[str, Any]]]) -> ApiError:
    """404 naming every interval at an unknown location; else 422 naming those at inactive ones or in
    another zone than the doctor's."""
    fields: dict[str, list[str]] = {}
    for day in WEEKDAYS:
        for index, interval in enumerate(hours.get(day, [])):
            if interval.get("location_id"):
                fields.setdefault(interval["location_id"], []).append(f"working_hours.{day}[{index}].location_id")
    unknown = sorted(lid for lid, found in refused.found.items() if found is None)
    if unknown:
        errors = [FieldError(field, "no such location") for lid in unknown for field in fields.get(lid, [])]
        return NotFound(detail="location not found", errors=errors)
    errors = []
    for lid, found in sorted(refused.found.items()):
        message = "the location is inactive" if not found.get("active") else "the location is in another time zone"
        errors += [FieldError(field, message) for field in fields.get(lid, [])]
    return ValidationFailed(
        detail="a working-hour interval names an inactive location or one in another time zone", errors=errors
    )


def load(doctor_id: str) -> dict[str, Any]:
    item = records.doctors().get(require_id(doctor_id, "doctor"))
    if item is None:
        forget(doctor_id)
        raise NotFound(detail="doctor not found")
    return remember(item)


def load_with_settings(doctor_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The doctor and the clinic settings, both read now, in one call (what availability needs)."""
    from clinic.config import settings
    from clinic.services import clinic_settings

    item, values = clinic_settings.fresh_with(settings().doctors_table, require_id(doctor_id, "doctor"))
    if item is None:
        forget(doctor_id)
        raise NotFound(detail="doctor not found")
    return remember(item), values


def all_current(specialty: str | None = None) -> list[dict[str, Any]]:
    """Every doctor (of a specialty), read now: ids from the specialty index or a consistent Scan,
    records read consistently."""
    store = records.doctors()
    found: list[dict[str, Any]] = []
    start = None
    if specialty:
        index, condition = records.doctors_by_specialty_condition(specialty_key(specialty))
        ids: list[str] = []
        while True:
            page, start = store.query_page(index, condition, 100, start)
            ids += [d["id"] for d in page]
            if not start:
                return list(store.get_many(ids).values())
    while True:
        page, start = store.scan_page(100, start, consistent=True)
        found += page
        if not start:
            return found


def is_active(doctor_id: str) -> bool:
    """Whether the doctor exists and is active, read now (a doctor's token is refused otherwise)."""
    try:
        return bool(load(doctor_id).get("active", False))
    except NotFound:
        return False


def get(doctor_id: str) -> dict[str, Any]:
    return to_out(load(doctor_id))


def update(doctor_id: str, patch: DoctorUpdate) -> dict[str, Any]:
    changes = patch.model_dump(mode="json", exclude_unset=True)
    if patch.working_hours is not None:
        changes["working_hours"] = stored_hours(patch.working_hours)
    if patch.appointment_types is not None:  # stored whole, defaults included
        changes["appointment_types"] = [t.model_dump(mode="json") for t in patch.appointment_types]
    # the hours' locations are checked when the hours or the doctor's zone change (each must have it)
    checking = "working_hours" in changes or "time_zone" in changes
    store = records.doctors()
    for _ in range(_UPDATE_ATTEMPTS):
        current = load(doctor_id)
        merged = {**current, **changes}
        _revalidate(merged)
        before, _ = sites_of(current.get("working_hours") or {})
        after, unlocated = sites_of(merged.get("working_hours") or {})
        merged.update(
            updated_at=utc_iso(now_utc()),
            specialty_key=specialty_key(merged["specialty"]),
            sites=sorted(set(current.get("sites", [])) | after),
            sites_none=bool(current.get("sites_none", True)) or unlocated,
        )
        try:
            saved = places.save_doctor(
                store,
                merged,
                current["version"],
                at=after,
                check=dict.fromkeys(after, merged["time_zone"]) if checking else {},
                leave=before - after,
            )
        except records.VersionConflict:
            continue
        except places.LocationsRefused as refused:
            raise _refusal(refused, merged["working_hours"]) from None
        return to_out(remember(saved))
    raise ServiceUnavailable(detail="the record is being changed concurrently; retry", headers={"Retry-After": "1"})


def save(item: dict[str, Any], expected_version: int) -> dict[str, Any]:
    """Write the doctor again, changed where its hours are not (time off), replacing that version; the
    locations its hours name get the new copy in the same transaction. VersionConflict if it changed."""
    named, _ = sites_of(item.get("working_hours") or {})
    return remember(places.save_doctor(records.doctors(), item, expected_version, at=named))


def _revalidate(merged: dict[str, Any]) -> None:
    """A partial update must leave a valid doctor (e.g. a new slot_minutes must fit the working hours)."""
    fields = {k: merged[k] for k in DoctorCreate.model_fields if k in merged}
    try:
        DoctorCreate.model_validate(fields)
    except ValidationError as error:
        raise ValidationFailed(
            detail="the updated doctor would not be valid",
            errors=[FieldError(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in error.errors()],
        ) from None


def list_page(
    limit: int, next_token: str | None, specialty: str | None, location_id: str | None = None
) -> dict[str, Any]:
    store = records.doctors()
    if location_id is not None:
        # a page of the location's doctors (its membership items, by id), their records, then the specialty
        key = specialty_key(specialty) if specialty else None
        scope = pagination.scope_of("doctors:by_location", location_id, key)
        members, last_key = places.members_page(location_id, limit, pagination.decode(next_token, scope))
        items = [d for d in _records_of(members) if key in (None, d.get("specialty_key"))]
    elif specialty:
        key = specialty_key(specialty)
        scope = pagination.scope_of("doctors:by_specialty", key)
        index, condition = records.doctors_by_specialty_condition(key)
        items, last_key = store.query_page(index, condition, limit, pagination.decode(next_token, scope))
    else:
        scope = pagination.scope_of("doctors:list")
        items, last_key = store.scan_page(limit, pagination.decode(next_token, scope))
    return {"items": [to_out(i) for i in items], "next_token": pagination.encode(last_key, scope)}


def at_location(location_id: str) -> list[dict[str, Any]]:
    """Every doctor whose working hours name the location now, in id order: all pages of its membership
    items, which carry the doctors' copies (one Query for up to ~1,000 doctors of ordinary size)."""
    members: list[tuple[str, dict[str, Any] | None]] = []
    start: dict | None = None
    while True:
        page, start = places.members_page(location_id, _MEMBERS_PAGE, start)
        members += page
        if not start:
            return _records_of(members)


def _records_of(members: list[tuple[str, dict[str, Any] | None]]) -> list[dict[str, Any]]:
    """The members' doctors, in their order: their copies, and the records (read consistently) of those
    whose membership item was written before it carried a copy."""
    missing = [doctor_id for doctor_id, copy in members if copy is None]
    found = records.doctors().get_many(missing) if missing else {}
    return [copy if copy is not None else found[i] for i, copy in members if copy is not None or i in found]
