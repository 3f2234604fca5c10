"""Patient use cases: register, read, update, list and search."""

from __future__ import annotations

from typing import Any

from clinic import access, audit, pagination
from clinic.data.appointments import AppointmentStore
from clinic.identity import Caller
from clinic.data import records
from clinic.domain.people import age_on, name_key, name_shard
from clinic.errors import NotFound, ServiceUnavailable
from clinic.models.common import now_utc, utc_iso
from clinic.models.patients import PatientCreate, PatientOut, PatientSearch, PatientUpdate
from clinic.services import new_id, require_id

_UPDATE_ATTEMPTS = 3


def _search_keys(item: dict[str, Any]) -> dict[str, Any]:
    family_key = name_key(item["family_name"])
    return {"name_shard": name_shard(item["family_name"]), "family_name_key": f"{family_key}#{item['id']}"}


def to_out(item: dict[str, Any]) -> dict[str, Any]:
    from datetime import date

    out = PatientOut.model_validate(
        {**item, "age": age_on(date.fromisoformat(item["birth_date"]), now_utc().date())}
    )
    return out.model_dump(mode="json")


def register(body: PatientCreate) -> dict[str, Any]:
    now = utc_iso(now_utc())
    item = {"id": new_id(), **body.model_dump(mode="json", exclude_none=True), "active": True,
            "created_at": now, "updated_at": now}
    item.update(_search_keys(item))
    audit.touched(item["id"])
    try:
        records.patients().create(item)
    except records.AlreadyExists:  # our own earlier attempt (same Idempotency-Key) committed
        return to_out(records.patients().get(item["id"]))
    return to_out(item)


def get(patient_id: str, who: Caller) -> dict[str, Any]:
    access.require_patient_access(who, patient_id, doctor_sees_patient=_has_appointment_with)
    return to_out(load(patient_id))


def _has_appointment_with(doctor_id: str, patient_id: str) -> bool:
    return AppointmentStore().has_appointment_with(patient_id, doctor_id)


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
            saved = store.replace(merged, expected_version=current["version"])
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
    scope = pagination.scope_of("patients:search", prefix, birth_date)
    index, condition = records.patient_search_condition(prefix[:1] if prefix else None, prefix, birth_date)
    start = pagination.decode(criteria.next_token, scope)
    if who.is_staff:
        items, last_key = records.patients().query_page(index, condition, criteria.limit, start)
        return _page(items, pagination.encode(last_key, scope))
    # A doctor finds only their own patients. The answer must not depend on the patients they may
    # not see — not even through next_token (a token after hidden matches would say "someone else
    # matches"). So read on until `limit` visible patients or the end of the matches, and resume
    # after the last *visible* one.
    visible: list[dict] = []
    while True:
        items, last_key = records.patients().query_page(index, condition, criteria.limit, start)
        for item in access.visible_patients(who, items, doctor_sees_patient=_has_appointment_with):
            visible.append(item)
            if len(visible) == criteria.limit:
                return _page(visible, pagination.encode(records.key_after(index, item), scope))
        if not last_key:
            return _page(visible, None)
        start = last_key
