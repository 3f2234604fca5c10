"""The front desk's day at a location (GET /locations/{location_id}/day, API.md v1.2), in one call:
the doctors working there that day, the location's active rooms and equipment, and every appointment
there that day that is not cancelled, by start, each with its patient's name and birth date — every
patient listed is on their audit trail (action ``location.day``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clinic import audit
from clinic.data import records
from clinic.data.appointments import AppointmentStore
from clinic.domain.schedule import WEEKDAYS
from clinic.errors import NotFound
from clinic.services import allocation, appointments, doctors, require_id


def day_sheet(location_id: str, day: date) -> dict[str, Any]:
    location = allocation.location(require_id(location_id, "location"), fresh=True)
    if location is None:
        raise NotFound(detail="location not found")
    zone = ZoneInfo(location["time_zone"])
    start = datetime.combine(day, time(0, 0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
    weekday = WEEKDAYS[day.weekday()]
    working = [
        d
        for d in doctors.at_location(location["id"])
        if d.get("active", False)
        and any(span.get("location_id") == location["id"] for span in (d.get("working_hours") or {}).get(weekday, ()))
    ]
    resources = [r for r in allocation.resources_at(location["id"], fresh=True) if r.get("active", False)]
    booked = AppointmentStore().at_location(location["id"], start, end)
    patients = records.patients().get_many(sorted({a["patient_id"] for a in booked}))
    listed = []
    for appointment in booked:
        patient = patients.get(appointment["patient_id"])
        audit.touched(appointment["patient_id"])
        if patient is None:  # a patient record is never deleted; nothing to show if it were
            continue
        listed.append(
            {
                **appointments.to_out(appointment),
                "patient": {k: patient[k] for k in ("id", "given_name", "family_name", "birth_date")},
            }
        )
    return {
        "date": day.isoformat(),
        "location_id": location["id"],
        "time_zone": location["time_zone"],
        "doctors": sorted(
            ({k: d[k] for k in ("id", "given_name", "family_name", "specialty")} for d in working),
            key=lambda d: (d["family_name"], d["given_name"], d["id"]),
        ),
        "resources": [{"id": r["id"], "name": r["name"], "kind": r["kind"]} for r in resources],
        "appointments": listed,
    }
