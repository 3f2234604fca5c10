"""Native records → FHIR R4 resources. Pure: the native API's JSON answers in, FHIR JSON out.

Every mapping decision (and what is deliberately not mapped) is written down in docs/fhir.md; in short:

- ids are the native UUIDs; references are relative (``Patient/<id>``), never displayed patient names;
- instants leave in UTC with seconds and ``Z``; ``meta.lastUpdated`` is the record's ``updated_at``;
- Patient: name, gender (= ``sex``, the same four codes), birthDate, telecom, active; ``conditions`` and
  ``age`` have no place in Patient and are not mapped;
- Practitioner: name, active, the specialty as ``qualification.code.text`` (Practitioner has no specialty
  element, and no PractitionerRole is served);
- Schedule: one per doctor, id = the doctor's id, ``actor`` the Practitioner, ``specialty``, the doctor's
  appointment types as ``serviceType``;
- Slot: a free bookable time of a Schedule, status ``free``;
- Appointment: statuses one to one, both participants ``required``/``accepted``, ``minutesDuration``,
  ``start``/``end`` always (app-2, app-3), ``reasonCode.text`` = ``reason``, ``cancelationReason.text`` only
  when cancelled, ``serviceType`` = the appointment type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from clinic.fhir import APPOINTMENT_TYPE_SYSTEM

# booked → booked, arrived → arrived, ...: the native lifecycle is a subset of FHIR's AppointmentStatus
APPOINTMENT_STATUS = {s: s for s in ("booked", "arrived", "fulfilled", "cancelled", "noshow")}


def instant(value: str | datetime) -> str:
    """A FHIR instant: UTC, seconds always, milliseconds when there are any, ``Z``."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    moment = moment.astimezone(UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _text(value: str | None) -> str | None:
    """Free text as a FHIR string: FHIR strings are never empty or only whitespace."""
    if value is None or not value.strip():
        return None
    return value.strip()


def _meta(record: dict[str, Any]) -> dict[str, Any]:
    return {"lastUpdated": instant(record["updated_at"])}


def _name(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"use": "official", "family": record["family_name"], "given": [record["given_name"]]}]


def appointment_type_concept(code: str, name: str | None = None) -> dict[str, Any]:
    """A doctor's appointment type as a CodeableConcept (codes are unique per doctor)."""
    coding = {"system": APPOINTMENT_TYPE_SYSTEM, "code": code}
    if name:
        coding["display"] = name
    concept: dict[str, Any] = {"coding": [coding]}
    if name:
        concept["text"] = name
    return concept


def patient(record: dict[str, Any]) -> dict[str, Any]:
    """A native patient (``GET /patients/{id}``'s answer) as a FHIR Patient."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": record["id"],
        "meta": _meta(record),
        "active": bool(record["active"]),
        "name": _name(record),
        "gender": record["sex"],
        "birthDate": record["birth_date"],
    }
    telecom = [
        {"system": system, "value": record[field]}
        for system, field in (("phone", "phone"), ("email", "email"))
        if record.get(field)
    ]
    if telecom:
        resource["telecom"] = telecom
    return resource


def practitioner(record: dict[str, Any]) -> dict[str, Any]:
    """A native doctor as a FHIR Practitioner."""
    return {
        "resourceType": "Practitioner",
        "id": record["id"],
        "meta": _meta(record),
        "active": bool(record["active"]),
        "name": _name(record),
        "qualification": [{"code": {"text": record["specialty"]}}],
    }


def schedule(record: dict[str, Any]) -> dict[str, Any]:
    """A native doctor's calendar as a FHIR Schedule: one per doctor, with the doctor's id."""
    resource: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": record["id"],
        "meta": _meta(record),
        "active": bool(record["active"]),
        "actor": [
            {"reference": f"Practitioner/{record['id']}", "display": f"{record['given_name']} {record['family_name']}"}
        ],
        "specialty": [{"text": record["specialty"]}],
        "comment": (
            f"Working hours are in the {record['time_zone']} time zone, on a {record['slot_minutes']}-minute "
            "grid; free times are the Slots of this Schedule."
        ),
    }
    types = [appointment_type_concept(t["code"], t["name"]) for t in record.get("appointment_types") or []]
    if types:
        resource["serviceType"] = types
    return resource


def _compact(moment: str) -> str:
    """2026-12-01T14:00:00Z → 20261201T1400 (for ids: letters, digits, '-' and '.' only)."""
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(UTC)
    return parsed.strftime("%Y%m%dT%H%M")


def slot(doctor_id: str, free: dict[str, str], type_code: str | None = None) -> dict[str, Any]:
    """A free time (``GET /doctors/{id}/availability``'s ``slots[]``) as a FHIR Slot of the doctor's
    Schedule. Its id names the doctor, the start and the length, so the same time has the same id."""
    start, end = instant(free["start"]), instant(free["end"])
    minutes = int(
        (
            datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))
        ).total_seconds()
        // 60
    )
    resource: dict[str, Any] = {
        "resourceType": "Slot",
        "id": f"{doctor_id}.{_compact(start)}.{minutes}",
        "schedule": {"reference": f"Schedule/{doctor_id}"},
        "status": "free",
        "start": start,
        "end": end,
    }
    if type_code:
        resource["serviceType"] = [appointment_type_concept(type_code)]
    return resource


def appointment(record: dict[str, Any]) -> dict[str, Any]:
    """A native appointment (``GET /appointments/{id}``'s answer) as a FHIR Appointment. ``reason`` is
    free text that may be PHI: it is in the resource, for callers allowed to read the appointment, as in
    the native answer, and never in a log line."""
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": record["id"],
        "meta": _meta(record),
        "status": APPOINTMENT_STATUS[record["status"]],
        "start": instant(record["start"]),
        "end": instant(record["end"]),
        "minutesDuration": int(record["duration_minutes"]),
        "created": instant(record["created_at"]),
        "participant": [
            {"actor": {"reference": f"Patient/{record['patient_id']}"}, "required": "required", "status": "accepted"},
            {
                "actor": {"reference": f"Practitioner/{record['doctor_id']}"},
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    cancellation = _text(record.get("cancellation_reason")) if record["status"] == "cancelled" else None
    if cancellation:
        resource["cancelationReason"] = {"text": cancellation}
    reason = _text(record.get("reason"))
    if reason:
        resource["reasonCode"] = [{"text": reason}]
    if record.get("appointment_type"):
        resource["serviceType"] = [appointment_type_concept(record["appointment_type"])]
    return resource
