"""Patient use cases: register, read, update, list and search."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from clinic import access, audit, pagination
from clinic.config import settings
from clinic.data import ledger, records
from clinic.domain.people import age_on, name_key, name_shard
from clinic.errors import NotFound, ServiceUnavailable
from clinic.identity import Caller
from clinic.models.common import now_utc, utc_iso
from clinic.models.patients import PatientCreate, PatientOut, PatientSearch, PatientUpdate
from clinic.services import new_id, require_id

_UPDATE_ATTEMPTS = 3


def _search_keys(item: dict[str, Any]) -> dict[str, Any]:
    family_key = name_key(item["family_name"])
    return {"name_shard": name_shard(item["family_name"]), "family_name_key": f"{family_key}#{item['id']}"}


def to_out(item: dict[str, Any]) -> dict[str, Any]:
    from datetime import date

    out = PatientOut.model_validate({**item, "age": age_on(date.fromisoformat(item["birth_date"]), now_utc().date())})
    return out.model_dump(mode="json")


def register(body: PatientCreate) -> dict[str, Any]:
    now = utc_iso(now_utc())
    item = {
        "id": new_id(),
        **body.model_dump(mode="json", exclude_none=True),
        "active": True,
        "created_at": now,
        "updated_at": now,
    }
    item.update(_search_keys(item))
    try:
        records.patients().create(item, audit.in_transaction(item["id"], 201))
    except records.AlreadyExists:  # our own earlier attempt (same Idempotency-Key) committed
        return to_out(records.patients().get(item["id"]))
    return to_out(item)


def get(patient_id: str, who: Caller) -> dict[str, Any]:
    access.require_patient_access(who, patient_id, doctor_sees_patient=_doctor_sees_patient)
    return to_out(load(patient_id))


def _doctor_is_active(doctor_id: str) -> bool:
    from clinic.services import doctors

    return doctors.is_active(doctor_id)


def _access_since() -> datetime:
    """The start of a doctor's access window: ``doctor_access_days`` before now, as set now."""
    from clinic.services import clinic_settings

    return now_utc() - timedelta(days=int(clinic_settings.fresh()["doctor_access_days"]))


def _doctor_sees_patient(doctor_id: str, patient_id: str) -> bool:
    """While the doctor is active and the patient has an appointment with them that is booked or
    arrived, or one that started within the last ``doctor_access_days`` days (API.md v1.2). The
    doctor–patient link (clinic.data.ledger: any appointment not cancelled) answers most refusals
    with one consistent read; then the patient's appointments with that doctor decide."""
    from clinic.data.appointments import AppointmentStore

    try:
        patient_id = require_id(patient_id, "patient")
    except NotFound:
        return False
    link = ledger.link(settings().slot_locks_table, doctor_id, patient_id)
    if not link or int(link.get("n", 0)) <= 0 or not _doctor_is_active(doctor_id):
        return False
    return AppointmentStore().links_doctor(patient_id, doctor_id, _access_since(), ledger.live_appointments(link))


def load(patient_id: str) -> dict[str, Any]:
    item = records.patients().get(require_id(patient_id, "patient"))
    if item is None:
        raise NotFound(detail="patient not found")
    audit.touched(item["id"])
    return item


def update(patient_id: str, patch: PatientUpdate, who: Caller) -> dict[str, Any]:
    access.require_patient_update(who, patient_id, set(patch.model_fields_set))
    changes = patch.model_dump(mode="json", exclude_unset=True)
    store = records.patients()
    for _ in range(_UPDATE_ATTEMPTS):
        current = load(patient_id)
        merged = {**current, **changes, "updated_at": utc_iso(now_utc())}
        merged = {k: v for k, v in merged.items() if v is not None}  # null clears an optional field
        merged.update(_search_keys(merged))
        try:
            saved = store.replace(merged, current["version"], audit.in_transaction(patient_id, 200))
        except records.VersionConflict:
            continue  # someone else updated it in between: merge again on the fresh record
        return to_out(saved)
    raise ServiceUnavailable(detail="the record is being changed concurrently; retry", headers={"Retry-After": "1"})


def list_page(limit: int, next_token: str | None) -> dict[str, Any]:
    scope = pagination.scope_of("patients:list")
    items, last_key = records.patients().scan_page(limit, pagination.decode(next_token, scope))
    return _page(items, pagination.encode(last_key, scope))


def _page(items: list[dict[str, Any]], next_token: str | None) -> dict[str, Any]:
    """A page of patients, each of them on their audit trail."""
    for item in items:
        audit.touched(item["id"])
    return {"items": [to_out(i) for i in items], "next_token": next_token}


def search(criteria: PatientSearch, who: Caller) -> dict[str, Any]:
    prefix = name_key(criteria.family_name_prefix) if criteria.family_name_prefix else None
    birth_date = criteria.birth_date.isoformat() if criteria.birth_date else None
    if who.is_staff:
        scope = pagination.scope_of("patients:search", prefix, birth_date)
        index, condition = records.patient_search_condition(prefix[:1] if prefix else None, prefix, birth_date)
        start = pagination.decode(criteria.next_token, scope)
        items, last_key = records.patients().query_page(index, condition, criteria.limit, start)
        return _page(items, pagination.encode(last_key, scope))
    return _search_own_patients(who.doctor_id or "", prefix, birth_date, criteria)


def _search_own_patients(
    doctor_id: str, prefix: str | None, birth_date: str | None, criteria: PatientSearch
) -> dict[str, Any]:
    """A doctor finds only their own patients: one Query of the doctor's links (clinic.data.ledger),
    then their records — so the cost grows with the doctor's own patients, and nothing in the answer
    (items or next_token) depends on anyone else. Sorted by patient id."""
    scope = pagination.scope_of("patients:search:doctor", doctor_id, prefix, birth_date)
    start = pagination.decode(criteria.next_token, scope)
    if not _doctor_is_active(doctor_id):
        return {"items": [], "next_token": None}
    from clinic.data.appointments import AppointmentStore

    table_name = settings().slot_locks_table
    store, since = AppointmentStore(), _access_since()
    found: list[dict[str, Any]] = []
    while True:
        links, last_key = ledger.linked_patients(table_name, doctor_id, 100, start)
        patients_by_id = records.patients().get_many([patient_id for patient_id, _ in links])
        for patient_id, live in links:
            patient = patients_by_id.get(patient_id)
            if patient is None or not _matches(patient, prefix, birth_date):
                continue
            if not store.links_doctor(patient_id, doctor_id, since, live):  # outside the doctor's access window
                continue
            found.append(patient)
            if len(found) == criteria.limit:
                return _page(found, pagination.encode(ledger.link_key(doctor_id, patient_id), scope))
        if not last_key:
            return _page(found, None)
        start = last_key


def _matches(patient: dict[str, Any], prefix: str | None, birth_date: str | None) -> bool:
    if prefix is not None and not name_key(patient["family_name"]).startswith(prefix):
        return False
    return birth_date is None or patient["birth_date"] == birth_date
