"""The audit trail: every read and write of a patient's data, allowed or not, leaves a record.

Written by the entrypoint after the use case has answered, from the route, the caller, the ids in
the path, the request body and the answer — so no handler can forget it, and denials are recorded
too. One item per patient touched (the history of one patient is then one Query), holding ids and
codes only: who (sub, role), what (action, record ids), when, the request id and the outcome.

The table is append-only: application roles may only PutItem (with attribute_not_exists, so a
record is never overwritten), and the table's resource policy denies UpdateItem, DeleteItem,
BatchWriteItem and PartiQL writes to everyone. If the record cannot be written, the request fails
with 503: patient data is never handed out unaudited.
"""

from __future__ import annotations

import json
import uuid
from contextvars import ContextVar
from typing import Any, Iterable

from clinic.config import settings
from clinic.data.dynamo import client, table
from clinic.identity import Caller
from clinic.models.common import now_utc, utc_iso

# (method, resource) → action name, for every route that reads or writes a patient's data.
ACTIONS: dict[tuple[str, str], str] = {
    ("POST", "/patients"): "patient.register",
    ("GET", "/patients"): "patient.list",
    ("POST", "/patients/search"): "patient.search",
    ("GET", "/patients/{patient_id}"): "patient.read",
    ("PATCH", "/patients/{patient_id}"): "patient.update",
    ("GET", "/patients/{patient_id}/appointments"): "patient.appointments.read",
    ("GET", "/patients/{patient_id}/access-log"): "patient.access_log.read",
    ("GET", "/doctors/{doctor_id}/schedule"): "doctor.schedule.read",
    ("POST", "/appointments"): "appointment.book",
    ("GET", "/appointments/{appointment_id}"): "appointment.read",
    ("PATCH", "/appointments/{appointment_id}"): "appointment.update",
    ("POST", "/appointments/{appointment_id}/cancel"): "appointment.cancel",
}

NO_PATIENT = "none"  # subject of a record that names no valid patient id (e.g. a denied list)
_MAX_TRANSACTION = 100

# Set by the access rules when they hide a record (404), so the trail can say "denied".
denied: ContextVar[bool] = ContextVar("denied", default=False)
# Patients whose records the use case loaded (e.g. through an appointment), so a request that fails
# or is denied after loading one is still on that patient's trail.
loaded_patients: ContextVar[tuple[str, ...]] = ContextVar("loaded_patients", default=())


def start_request() -> None:
    """Forget the previous request's marks (a warm Lambda runs many requests in one context)."""
    denied.set(False)
    loaded_patients.set(())


def loaded_patient(patient_id: str) -> None:
    loaded_patients.set((*loaded_patients.get(), patient_id))


def _uuid(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value))) if value else None
    except ValueError:
        return None


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def patients_touched(resource: str, path: dict[str, str], request: Any, answer: Any, ok: bool) -> list[str]:
    found: list[str | None] = [_uuid(path.get("patient_id")), *map(_uuid, loaded_patients.get())]
    if isinstance(request, dict):
        found.append(_uuid(request.get("patient_id")))
    if ok and isinstance(answer, dict):
        records = answer.get("items") if isinstance(answer.get("items"), list) else [answer]
        for record in records:
            if not isinstance(record, dict):
                continue
            if resource.startswith("/patients") and "birth_date" in record:
                found.append(_uuid(record.get("id")))  # a patient record
            found.append(_uuid(record.get("patient_id")))  # an appointment
    unique = list(dict.fromkeys(p for p in found if p))
    return unique or [NO_PATIENT]


def outcome_of(status: int, answer: Any) -> str:
    if status < 400:
        return "allowed"
    code = answer.get("code") if isinstance(answer, dict) else None
    if status in (401, 403) or denied.get():
        return "denied"
    return f"failed:{code or status}"


def build_records(event: dict[str, Any], who: Caller, response: dict[str, Any]) -> list[dict[str, Any]]:
    method, resource = event.get("httpMethod", ""), event.get("resource", "")
    action = ACTIONS.get((method, resource))
    if action is None:
        return []
    path = event.get("pathParameters") or {}
    status = int(response.get("statusCode", 500))
    answer = _json(response.get("body"))
    request_id = (event.get("requestContext") or {}).get("requestId") or str(uuid.uuid4())
    at = utc_iso(now_utc())
    ids = {
        "appointment_id": _uuid(path.get("appointment_id"))
        or (_uuid(answer.get("id")) if isinstance(answer, dict) and resource.startswith("/appointments") and status < 300 else None),
        "doctor_id": _uuid(path.get("doctor_id")),
    }
    common = {
        "at": f"{at}#{request_id}", "recorded_at": at, "action": action, "outcome": outcome_of(status, answer),
        "status": status, "actor_sub": who.sub or "anonymous", "actor_role": who.role, "request_id": request_id,
        **{k: v for k, v in ids.items() if v},
    }
    touched = patients_touched(resource, path, _json(event.get("body")), answer, status < 300)
    return [{"subject": f"patient#{p}" if p != NO_PATIENT else NO_PATIENT, "patient_id": p, **common}
            for p in touched]


def write(records: Iterable[dict[str, Any]]) -> None:
    records = list(records)
    name = settings().audit_table
    if not records or not name:
        return
    if len(records) == 1:
        table(name).put_item(Item=records[0], ConditionExpression="attribute_not_exists(subject)")
        return
    for start in range(0, len(records), _MAX_TRANSACTION):
        chunk = records[start:start + _MAX_TRANSACTION]
        client().transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": item, "ConditionExpression": "attribute_not_exists(subject)"}}
            for item in chunk
        ])


def history(patient_id: str, limit: int, start_key: dict | None) -> tuple[list[dict[str, Any]], dict | None]:
    """One patient's access records, newest first."""
    from boto3.dynamodb.conditions import Key

    from clinic.data.dynamo import plain

    args: dict[str, Any] = {"KeyConditionExpression": Key("subject").eq(f"patient#{patient_id}"),
                            "ScanIndexForward": False, "Limit": limit}
    if start_key:
        args["ExclusiveStartKey"] = start_key
    answer = table(settings().audit_table).query(**args)
    return plain(answer.get("Items", [])), answer.get("LastEvaluatedKey")
