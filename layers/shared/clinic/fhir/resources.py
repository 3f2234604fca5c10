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
  when cancelled, ``serviceType`` = the appointment type; its site, rooms (``Location``) and equipment
  (``Device``) as participants too (v1.2);
- Location: a site (``mode`` instance, ``physicalType`` ``si``), or a room (``physicalType`` ``ro``,
  ``partOf`` its site); Device: a piece of equipment (``location`` its site); a room's or a device's
  calendar is a Schedule with the resource's id;
- the scheduling operations (``$find``, ``$hold``, ``$book``): a free slot as a ``proposed`` Appointment, a
  hold as a ``pending`` one (its id the hold's, its expiry an extension), a booking as the Appointment.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from clinic.fhir import (
    APPOINTMENT_TYPE_SYSTEM,
    HOLD_EXPIRES_EXTENSION,
    RESOURCE_KIND_SYSTEM,
    TIMEZONE_EXTENSION,
)

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


def _participant(reference: str, status: str = "accepted", display: str | None = None) -> dict[str, Any]:
    actor: dict[str, Any] = {"reference": reference}
    if display:
        actor["display"] = display
    return {"actor": actor, "required": "required", "status": status}


def resource_reference(resource_id: str, category: str | None) -> str:
    """A room is a Location, a piece of equipment a Device."""
    return f"{'Device' if category == 'equipment' else 'Location'}/{resource_id}"


def _places(record: dict[str, Any], categories: dict[str, str], status: str) -> list[dict[str, Any]]:
    """The site (a Location) and the rooms (Locations) and equipment (Devices) a booking or hold takes."""
    found = []
    if record.get("location_id"):
        found.append(_participant(f"Location/{record['location_id']}", status))
    for taken in record.get("resources") or []:
        found.append(_participant(resource_reference(taken["id"], categories.get(taken["id"])), status))
    return found


def appointment(record: dict[str, Any], categories: dict[str, str] | None = None) -> dict[str, Any]:
    """A native appointment (``GET /appointments/{id}``'s answer) as a FHIR Appointment. ``reason`` is
    free text that may be PHI: it is in the resource, for callers allowed to read the appointment, as in
    the native answer, and never in a log line. ``categories`` (resource id → room | equipment) tells a room
    (a Location participant) from a piece of equipment (a Device)."""
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
            _participant(f"Patient/{record['patient_id']}"),
            _participant(f"Practitioner/{record['doctor_id']}"),
            *_places(record, categories or {}, "accepted"),
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


def proposal_id(doctor_id: str, start: str, end: str) -> str:
    """A proposed appointment's id: the doctor, the UTC start and the length (the same time, the same id;
    like a Slot's). Proposals are not stored: the id names a time, it is not a record to read."""
    return slot(doctor_id, {"start": start, "end": end})["id"]


def proposed(free: dict[str, Any]) -> dict[str, Any]:
    """A free slot across doctors (``GET /availability``'s ``items[]``) as a ``proposed`` Appointment: the
    Practitioner and the site (when the working hours name one), each ``needs-action``; no patient yet.
    Which room or device a booking would take is decided when it is booked, so none is named here."""
    start, end = instant(free["start"]), instant(free["end"])
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": proposal_id(free["doctor_id"], start, end),
        "status": "proposed",
        "start": start,
        "end": end,
        "minutesDuration": _minutes(start, end),
        "participant": [
            _participant(f"Practitioner/{free['doctor_id']}", "needs-action"),
            *([_participant(f"Location/{free['location_id']}", "needs-action")] if free.get("location_id") else []),
        ],
    }
    if free.get("appointment_type"):
        resource["serviceType"] = [appointment_type_concept(free["appointment_type"])]
    return resource


def pending(hold: dict[str, Any], categories: dict[str, str] | None = None) -> dict[str, Any]:
    """A hold (``GET /holds/{id}``'s answer) as a ``pending`` Appointment whose id is the hold's; when it
    expires (and the time is free again) is the extension ``hold-expires``. A hold that is no longer held
    (released, expired, confirmed) is ``cancelled``."""
    held = hold["status"] == "held"
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": hold["id"],
        "extension": [{"url": HOLD_EXPIRES_EXTENSION, "valueInstant": instant(hold["expires_at"])}],
        "status": "pending" if held else "cancelled",
        "start": instant(hold["start"]),
        "end": instant(hold["end"]),
        "minutesDuration": int(hold["duration_minutes"]),
        "created": instant(hold["created_at"]),
        "participant": [
            _participant(f"Patient/{hold['patient_id']}", "tentative"),
            _participant(f"Practitioner/{hold['doctor_id']}", "tentative"),
            *_places(hold, categories or {}, "tentative"),
        ],
    }
    if hold.get("appointment_type"):
        resource["serviceType"] = [appointment_type_concept(hold["appointment_type"])]
    return resource


def _minutes(start: str, end: str) -> int:
    parsed = [datetime.fromisoformat(v.replace("Z", "+00:00")) for v in (start, end)]
    return int((parsed[1] - parsed[0]).total_seconds() // 60)


# ---------------------------------------------------------------------- sites, rooms and equipment
SITE = {"system": "http://terminology.hl7.org/CodeSystem/location-physical-type", "code": "si", "display": "Site"}
ROOM = {"system": "http://terminology.hl7.org/CodeSystem/location-physical-type", "code": "ro", "display": "Room"}


def _kind(kind: str) -> dict[str, Any]:
    return {"coding": [{"system": RESOURCE_KIND_SYSTEM, "code": kind}], "text": kind}


def site(record: dict[str, Any]) -> dict[str, Any]:
    """A native location (``GET /locations/{id}``'s answer) as a FHIR Location: a site, ``mode`` instance,
    ``physicalType`` si; its IANA time zone in FHIR's ``timezone`` extension."""
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": record["id"],
        "meta": _meta(record),
        "extension": [{"url": TIMEZONE_EXTENSION, "valueCode": record["time_zone"]}],
        "status": "active" if record["active"] else "inactive",
        "name": record["name"],
        "mode": "instance",
        "physicalType": {"coding": [SITE], "text": "Site"},
    }
    if record.get("phone"):
        resource["telecom"] = [{"system": "phone", "value": record["phone"]}]
    address = record.get("address")
    if address:
        resource["address"] = {
            "line": [address["line"]],
            "city": address["city"],
            "postalCode": address["postal_code"],
            "country": address["country"],
        }
    return resource


def room(record: dict[str, Any]) -> dict[str, Any]:
    """A native resource of category room as a FHIR Location: ``physicalType`` ro, ``partOf`` its site,
    its kind as ``type``."""
    return {
        "resourceType": "Location",
        "id": record["id"],
        "meta": _meta(record),
        "status": "active" if record["active"] else "inactive",
        "name": record["name"],
        "mode": "instance",
        "type": [_kind(record["kind"])],
        "physicalType": {"coding": [ROOM], "text": "Room"},
        "partOf": {"reference": f"Location/{record['location_id']}"},
    }


def device(record: dict[str, Any]) -> dict[str, Any]:
    """A native resource of category equipment as a FHIR Device: its name, its kind as ``type``, ``location``
    its site."""
    return {
        "resourceType": "Device",
        "id": record["id"],
        "meta": _meta(record),
        "status": "active" if record["active"] else "inactive",
        "deviceName": [{"name": record["name"], "type": "user-friendly-name"}],
        "type": _kind(record["kind"]),
        "location": {"reference": f"Location/{record['location_id']}"},
    }


def resource_schedule(record: dict[str, Any]) -> dict[str, Any]:
    """A room's or a device's calendar as a FHIR Schedule, with the resource's id (as a doctor's Schedule has
    the doctor's)."""
    return {
        "resourceType": "Schedule",
        "id": record["id"],
        "meta": _meta(record),
        "active": bool(record["active"]),
        "actor": [{"reference": resource_reference(record["id"], record["category"]), "display": record["name"]}],
        "serviceType": [_kind(record["kind"])],
        "comment": (
            f"The calendar of a {record['category']} ({record['kind']}): bookings take it with an appointment "
            "type that needs its kind; its bookings are listed to staff by GET /resources/{id}/schedule."
        ),
    }
