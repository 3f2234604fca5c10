"""Doctor use cases: create, read, update, list (optionally by specialty), and the doctor record as
bookings see it.

A doctor's item carries a calendar ``version``, bumped by every change to it (hours, types, time
off, active, ...). Bookings check it inside their transaction, so a function may keep the doctors
it has read (``for_booking``) across requests: a stale copy costs one retry — the failed condition
hands back the doctor as it is now — and never a wrong booking.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from clinic import pagination
from clinic.data import records
from clinic.errors import FieldError, NotFound, ServiceUnavailable, ValidationFailed
from clinic.models.common import now_utc, utc_iso
from clinic.models.doctors import DoctorCreate, DoctorOut, DoctorUpdate
from clinic.services import new_id, require_id

_UPDATE_ATTEMPTS = 3
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
    item = {
        "id": new_id(),
        **body.model_dump(mode="json"),
        "active": True,
        "created_at": now,
        "updated_at": now,
        "specialty_key": specialty_key(body.specialty),
    }
    try:
        records.doctors().create(item)
    except records.AlreadyExists:  # our own earlier attempt (same Idempotency-Key) committed
        return to_out(records.doctors().get(item["id"]))
    remember({**item, "version": 1})
    return to_out(item)


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
    store = records.doctors()
    for _ in range(_UPDATE_ATTEMPTS):
        current = load(doctor_id)
        merged = {**current, **changes}
        _revalidate(merged)
        merged.update(updated_at=utc_iso(now_utc()), specialty_key=specialty_key(merged["specialty"]))
        try:
            saved = store.replace(merged, expected_version=current["version"])
        except records.VersionConflict:
            continue
        return to_out(remember(saved))
    raise ServiceUnavailable(detail="the record is being changed concurrently; retry", headers={"Retry-After": "1"})


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


def list_page(limit: int, next_token: str | None, specialty: str | None) -> dict[str, Any]:
    store = records.doctors()
    if specialty:
        key = specialty_key(specialty)
        scope = pagination.scope_of("doctors:by_specialty", key)
        index, condition = records.doctors_by_specialty_condition(key)
        items, last_key = store.query_page(index, condition, limit, pagination.decode(next_token, scope))
    else:
        scope = pagination.scope_of("doctors:list")
        items, last_key = store.scan_page(limit, pagination.decode(next_token, scope))
    return {"items": [to_out(i) for i in items], "next_token": pagination.encode(last_key, scope)}
