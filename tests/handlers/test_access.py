"""Authorization per route and per record (OWASP API1/API3/API5), generated from one table.

The world: doctors D1 (ours) and D2, patients P1 (ours) and P2, appointment A1 = P1 with D1 and
A2 = P2 with D2; locations L1 and L2 with a room each, R1 and R2 (not patient data: any user reads
them). Callers: staff; the doctor D1; the patient P1; and a user who is signed in but in no group.
Every route × caller × own/other record is tried; each must be allowed (2xx) or denied with 403 — or
404 where the route admits the role but the record is someone else's, so its existence never leaks.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests import days
from tests.claims import claims_of
from tests.days import at
from tests.handlers.conftest import empty_tables, event_for
from tests.handlers.test_appointments import DOCTOR, PATIENT

OK, FORBIDDEN, HIDDEN = "ok", 403, 404
ROLES = ("staff", "doctor", "patient", "nobody")


def claims(role: str, world: dict) -> dict[str, str]:
    sub = str(uuid.uuid5(uuid.NAMESPACE_URL, role))
    return {
        "staff": claims_of("staff", sub=sub),
        "doctor": claims_of("doctor", world["D1"], sub=sub),
        "patient": claims_of("patient", world["P1"], sub=sub),
        "nobody": {"sub": sub},
    }[role]


class LazyWorld(dict):
    """The records a case touches, made on first use — each test its own doctors, patients,
    appointments, series, time off, holds and waitlist entries, so tests never share a record (and may
    share one moto world, which is what takes time to make)."""

    def __init__(self, invoke):
        super().__init__(day=days.monday(weeks_later=1))
        self.invoke = invoke
        self["A1"]

    def make(self, function, resource, body, path=None):
        response = self.invoke(function, event_for("POST", resource, path, body=body))
        assert response["statusCode"] == 201, response
        return response["json"]["id"]

    def __missing__(self, key):
        n = key[1:]
        d, p = (lambda: self["D" + n]), (lambda: self["P" + n])
        makers = {
            "D": lambda: self.make("CreateDoctorFunction", "/doctors", {**DOCTOR, "family_name": f"Doc{n}"}),
            "P": lambda: self.make("RegisterPatientFunction", "/patients", {**PATIENT, "given_name": f"Pat{n}"}),
            "A": lambda: self.make(
                "BookAppointmentFunction",
                "/appointments",
                {"patient_id": p(), "doctor_id": d(), "start": at(self["day"], "09:00")},
            ),
            "S": lambda: self.make(
                "BookSeriesFunction",
                "/appointment-series",
                {
                    "patient_id": p(),
                    "doctor_id": d(),
                    "start": at(self["day"], "14:00"),
                    "repeat": {"every_weeks": 1, "count": 2},
                },
            ),
            "T": lambda: self.make(
                "CreateTimeOffFunction", "/doctors/{doctor_id}/time-off", away(self, 40), {"doctor_id": d()}
            ),
            "H": lambda: self.make(
                "PlaceHoldFunction", "/holds", {"patient_id": p(), "doctor_id": d(), "start": at(self["day"], "11:00")}
            ),
            "W": lambda: self.make(
                "JoinWaitlistFunction",
                "/waitlist",
                {"patient_id": p(), "doctor_id": d(), "from": at(self["day"], "09:00"), "to": at(self["day"], "10:00")},
            ),
            "L": lambda: self.make("CreateLocationFunction", "/locations", {**LOCATION, "name": f"Site{n}"}),
            "R": lambda: self.make("CreateResourceFunction", "/resources", room(self["L" + n])),
            "E": lambda: self.make(
                "CreateResourceFunction",
                "/resources",
                {**room(self["L" + n]), "kind": "ultrasound", "category": "equipment"},
            ),
        }
        self[key] = makers[key[0]]()
        return self[key]


LOCATION = {"name": "Site", "time_zone": "America/New_York"}


def room(location_id: str) -> dict:
    return {"location_id": location_id, "name": "Room", "kind": "exam-room", "category": "room"}


def away(w, days_ahead):
    start = w["day"] + timedelta(days=days_ahead)
    return {"start": at(start, "00:00"), "end": at(start + timedelta(days=2), "00:00"), "kind": "vacation"}


def window(w):
    return {"from": at(w["day"], "00:00"), "to": at(w["day"], "23:00")}


# (name, function, method, resource, path(world, own?), body(world, own?), query, expected by role for own / other)
CASES = [
    (
        "list patients",
        "ListPatientsFunction",
        "GET",
        "/patients",
        None,
        None,
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        None,
    ),
    (
        "register patient",
        "RegisterPatientFunction",
        "POST",
        "/patients",
        None,
        lambda w, own: PATIENT,
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        None,
    ),
    (
        "search patients",
        "SearchPatientsFunction",
        "POST",
        "/patients/search",
        None,
        lambda w, own: {"family_name_prefix": "ie"},
        None,
        {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        None,
    ),
    (
        "read patient",
        "GetPatientFunction",
        "GET",
        "/patients/{patient_id}",
        lambda w, own: {"patient_id": w["P1" if own else "P2"]},
        None,
        None,
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": HIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "update patient",
        "UpdatePatientFunction",
        "PATCH",
        "/patients/{patient_id}",
        lambda w, own: {"patient_id": w["P1" if own else "P2"]},
        lambda w, own: {"phone": "+15550100000"},
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "deactivate patient",
        "UpdatePatientFunction",
        "PATCH",
        "/patients/{patient_id}",
        lambda w, own: {"patient_id": w["P1" if own else "P2"]},
        lambda w, own: {"active": False},
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "patient's appointments",
        "PatientAppointmentsFunction",
        "GET",
        "/patients/{patient_id}/appointments",
        lambda w, own: {"patient_id": w["P1" if own else "P2"]},
        None,
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "patient's access log",
        "PatientAccessLogFunction",
        "GET",
        "/patients/{patient_id}/access-log",
        lambda w, own: {"patient_id": w["P1" if own else "P2"]},
        None,
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "create doctor",
        "CreateDoctorFunction",
        "POST",
        "/doctors",
        None,
        lambda w, own: DOCTOR,
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        None,
    ),
    (
        "list doctors",
        "ListDoctorsFunction",
        "GET",
        "/doctors",
        None,
        None,
        None,
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": OK},
        None,
    ),
    (
        "read doctor",
        "GetDoctorFunction",
        "GET",
        "/doctors/{doctor_id}",
        lambda w, own: {"doctor_id": w["D1" if own else "D2"]},
        None,
        None,
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": OK},
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": OK},
    ),
    (
        "update doctor",
        "UpdateDoctorFunction",
        "PATCH",
        "/doctors/{doctor_id}",
        lambda w, own: {"doctor_id": w["D1" if own else "D2"]},
        lambda w, own: {"specialty": "Cardiology"},
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "list doctors at a location",
        "ListDoctorsFunction",
        "GET",
        "/doctors",
        None,
        None,
        lambda w: {"location_id": w["L1"]},
        dict.fromkeys(ROLES, OK),
        None,
    ),
    (
        "doctor's schedule",
        "DoctorScheduleFunction",
        "GET",
        "/doctors/{doctor_id}/schedule",
        lambda w, own: {"doctor_id": w["D1" if own else "D2"]},
        None,
        window,
        {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "availability",
        "DoctorAvailabilityFunction",
        "GET",
        "/doctors/{doctor_id}/availability",
        lambda w, own: {"doctor_id": w["D1" if own else "D2"]},
        None,
        window,
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": OK},
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": OK},
    ),
    (
        "book",
        "BookAppointmentFunction",
        "POST",
        "/appointments",
        None,
        lambda w, own: {"patient_id": w["P1" if own else "P2"], "doctor_id": w["D1"], "start": at(w["day"], "10:00")},
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "read appointment",
        "GetAppointmentFunction",
        "GET",
        "/appointments/{appointment_id}",
        lambda w, own: {"appointment_id": w["A1" if own else "A2"]},
        None,
        None,
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": HIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "mark arrived",
        "UpdateAppointmentFunction",
        "PATCH",
        "/appointments/{appointment_id}",
        lambda w, own: {"appointment_id": w["A1" if own else "A2"]},
        lambda w, own: {"status": "arrived"},
        None,
        {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": HIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "reschedule",
        "UpdateAppointmentFunction",
        "PATCH",
        "/appointments/{appointment_id}",
        lambda w, own: {"appointment_id": w["A1" if own else "A2"]},
        lambda w, own: {"start": at(w["day"], "11:00")},
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": HIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "cancel",
        "CancelAppointmentFunction",
        "POST",
        "/appointments/{appointment_id}/cancel",
        lambda w, own: {"appointment_id": w["A1" if own else "A2"]},
        lambda w, own: {"reason": "cannot come"},
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "read settings",
        "GetSettingsFunction",
        "GET",
        "/settings",
        None,
        None,
        None,
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": OK},
        None,
    ),
    (
        "change settings",
        "UpdateSettingsFunction",
        "PATCH",
        "/settings",
        None,
        lambda w, own: {"hold_minutes": 7},
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        None,
    ),
    (
        "add time off",
        "CreateTimeOffFunction",
        "POST",
        "/doctors/{doctor_id}/time-off",
        lambda w, own: {"doctor_id": w["D1" if own else "D2"]},
        lambda w, own: away(w, 50),
        None,
        {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "list time off",
        "ListTimeOffFunction",
        "GET",
        "/doctors/{doctor_id}/time-off",
        lambda w, own: {"doctor_id": w["D1" if own else "D2"]},
        None,
        window,
        {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "delete time off",
        "DeleteTimeOffFunction",
        "DELETE",
        "/doctors/{doctor_id}/time-off/{time_off_id}",
        lambda w, own: {"doctor_id": w["D1" if own else "D2"], "time_off_id": w["T1" if own else "T2"]},
        None,
        None,
        {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "book series",
        "BookSeriesFunction",
        "POST",
        "/appointment-series",
        None,
        lambda w, own: {
            "patient_id": w["P1" if own else "P2"],
            "doctor_id": w["D1"],
            "start": at(w["day"], "15:00"),
            "repeat": {"every_weeks": 2, "count": 2},
        },
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "read series",
        "GetSeriesFunction",
        "GET",
        "/appointment-series/{series_id}",
        lambda w, own: {"series_id": w["S1" if own else "S2"]},
        None,
        None,
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": HIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "place hold",
        "PlaceHoldFunction",
        "POST",
        "/holds",
        None,
        lambda w, own: {"patient_id": w["P1" if own else "P2"], "doctor_id": w["D1"], "start": at(w["day"], "16:00")},
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "read hold",
        "GetHoldFunction",
        "GET",
        "/holds/{hold_id}",
        lambda w, own: {"hold_id": w["H1" if own else "H2"]},
        None,
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "confirm hold",
        "ConfirmHoldFunction",
        "POST",
        "/holds/{hold_id}/confirm",
        lambda w, own: {"hold_id": w["H1" if own else "H2"]},
        lambda w, own: {},
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "release hold",
        "ReleaseHoldFunction",
        "DELETE",
        "/holds/{hold_id}",
        lambda w, own: {"hold_id": w["H1" if own else "H2"]},
        None,
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "join waitlist",
        "JoinWaitlistFunction",
        "POST",
        "/waitlist",
        None,
        lambda w, own: {
            "patient_id": w["P1" if own else "P2"],
            "doctor_id": w["D1"],
            "from": at(w["day"], "09:00"),
            "to": at(w["day"], "12:00"),
        },
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "read waitlist entry",
        "GetWaitlistEntryFunction",
        "GET",
        "/waitlist/{entry_id}",
        lambda w, own: {"entry_id": w["W1" if own else "W2"]},
        None,
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "leave waitlist",
        "LeaveWaitlistFunction",
        "DELETE",
        "/waitlist/{entry_id}",
        lambda w, own: {"entry_id": w["W1" if own else "W2"]},
        None,
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "patient's waitlist",
        "PatientWaitlistFunction",
        "GET",
        "/patients/{patient_id}/waitlist",
        lambda w, own: {"patient_id": w["P1" if own else "P2"]},
        None,
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "create location",
        "CreateLocationFunction",
        "POST",
        "/locations",
        None,
        lambda w, own: LOCATION,
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        None,
    ),
    (
        "list locations",
        "ListLocationsFunction",
        "GET",
        "/locations",
        None,
        None,
        None,
        dict.fromkeys(ROLES, OK),
        None,
    ),
    (
        "read location",
        "GetLocationFunction",
        "GET",
        "/locations/{location_id}",
        lambda w, own: {"location_id": w["L1" if own else "L2"]},
        None,
        None,
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "update location",
        "UpdateLocationFunction",
        "PATCH",
        "/locations/{location_id}",
        lambda w, own: {"location_id": w["L1" if own else "L2"]},
        lambda w, own: {"phone": "+15550100000"},
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "create resource",
        "CreateResourceFunction",
        "POST",
        "/resources",
        None,
        lambda w, own: room(w["L1" if own else "L2"]),
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "list resources",
        "ListResourcesFunction",
        "GET",
        "/resources",
        None,
        None,
        lambda w: {"location_id": w["L1"], "kind": "exam-room"},
        dict.fromkeys(ROLES, OK),
        None,
    ),
    (
        "read resource",
        "GetResourceFunction",
        "GET",
        "/resources/{resource_id}",
        lambda w, own: {"resource_id": w["R1" if own else "R2"]},
        None,
        None,
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "earliest availability",
        "EarliestAvailabilityFunction",
        "GET",
        "/availability",
        None,
        None,
        lambda w: {**window(w), "location_id": w["L1"]},
        dict.fromkeys(ROLES, OK),
        None,
    ),
    (
        "location day",
        "LocationDayFunction",
        "GET",
        "/locations/{location_id}/day",
        lambda w, own: {"location_id": w["L1" if own else "L2"]},
        None,
        lambda w: {"date": w["day"].isoformat()},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "resource schedule",
        "ResourceScheduleFunction",
        "GET",
        "/resources/{resource_id}/schedule",
        lambda w, own: {"resource_id": w["R1" if own else "R2"]},
        None,
        window,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "update resource",
        "UpdateResourceFunction",
        "PATCH",
        "/resources/{resource_id}",
        lambda w, own: {"resource_id": w["R1" if own else "R2"]},
        lambda w, own: {"name": "Room (renamed)"},
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "cancel series",
        "CancelSeriesFunction",
        "POST",
        "/appointment-series/{series_id}/cancel",
        lambda w, own: {"series_id": w["S1" if own else "S2"]},
        lambda w, own: {"reason": "moving away"},
        None,
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
]


# The FHIR view (docs/fhir.md), each route like its native twin: (name, function, resource, path and query
# (world, own?), expected by role for own / other). Its errors are OperationOutcomes (see error_code).
FHIR_CASES = [
    (
        "fhir patient",
        "FhirReadPatientFunction",
        "/fhir/Patient/{patient_id}",
        lambda w, own: ({"patient_id": w["P1" if own else "P2"]}, None),
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": HIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "fhir practitioner",
        "FhirReadPractitionerFunction",
        "/fhir/Practitioner/{doctor_id}",
        lambda w, own: ({"doctor_id": w["D1" if own else "D2"]}, None),
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "fhir schedule",
        "FhirReadScheduleFunction",
        "/fhir/Schedule/{doctor_id}",
        lambda w, own: ({"doctor_id": w["D1" if own else "D2"]}, None),
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "fhir schedule search",
        "FhirSearchScheduleFunction",
        "/fhir/Schedule",
        lambda w, own: (None, {"actor": f"Practitioner/{w['D1' if own else 'D2']}"}),
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "fhir slot search",
        "FhirSearchSlotFunction",
        "/fhir/Slot",
        lambda w, own: (None, {"schedule": f"Schedule/{w['D1' if own else 'D2']}", "start": f"eq{w['day']}"}),
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "fhir appointment",
        "FhirReadAppointmentFunction",
        "/fhir/Appointment/{appointment_id}",
        lambda w, own: ({"appointment_id": w["A1" if own else "A2"]}, None),
        {"staff": OK, "doctor": OK, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": HIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "fhir appointments by patient",
        "FhirSearchAppointmentFunction",
        "/fhir/Appointment",
        lambda w, own: (None, {"patient": f"Patient/{w['P1' if own else 'P2']}"}),
        {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "fhir appointments by practitioner",
        "FhirSearchAppointmentFunction",
        "/fhir/Appointment",
        lambda w, own: (None, {"practitioner": f"Practitioner/{w['D1' if own else 'D2']}", "date": f"eq{w['day']}"}),
        {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
        {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
    ),
    (
        "fhir location",  # a site (own) or a room (other): not patient data, anyone signed in
        "FhirReadLocationFunction",
        "/fhir/Location/{location_id}",
        lambda w, own: ({"location_id": w["L1"] if own else w["R2"]}, None),
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "fhir location search",
        "FhirSearchLocationFunction",
        "/fhir/Location",
        lambda w, own: (None, {"partof": f"Location/{w['L1' if own else 'L2']}"}),
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "fhir device",
        "FhirReadDeviceFunction",
        "/fhir/Device/{device_id}",
        lambda w, own: ({"device_id": w["E1" if own else "E2"]}, None),
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
]


def error_code(response: dict) -> str:
    """The stable code of an error: problem+json's ``code``, or a FHIR OperationOutcome's ``details.coding``."""
    body = response["json"]
    if body.get("resourceType") == "OperationOutcome":
        assert response["headers"]["Content-Type"] == "application/fhir+json", response
        return body["issue"][0]["details"]["coding"][0]["code"]
    return body["code"]


@pytest.mark.parametrize(
    "name, function, resource, request_for, own, other", FHIR_CASES, ids=[case[0] for case in FHIR_CASES]
)
def test_fhir_route_role_and_record(module_invoke, name, function, resource, request_for, own, other):
    """The same matrix for the FHIR routes: every role, own and other record, its own records."""
    empty_tables()
    invoke, world = module_invoke, LazyWorld(module_invoke)
    for role in ROLES:
        for is_own, expected in ((True, own[role]), (False, other[role])):
            path, query = request_for(world, is_own)
            response = invoke(function, event_for("GET", resource, path, query=query, claims=claims(role, world)))
            where = f"{name}-{role}-{'own' if is_own else 'other'}"
            if expected == OK:
                assert response["statusCode"] == 200, (where, response)
            else:
                assert response["statusCode"] == expected, (where, response)
                assert error_code(response) == ("FORBIDDEN" if expected == FORBIDDEN else "NOT_FOUND"), where


# The FHIR scheduling operations (one route, POST /fhir/Appointment/{appointment_id}, the path value naming the
# operation): (name, operation, Parameters body (world, own?, the request's own time), expected by role for own /
# other). $find is anyone's (as GET /availability); $hold and $book are staff's and the patient's for themself (as
# POST /holds, POST /appointments), and cancelling through $book is its patient's (as POST .../cancel: another's
# appointment is hidden, 404).
def _proposal(w, own: bool, at_time: str) -> dict:
    n = "1" if own else "2"
    start = datetime.fromisoformat(at(w["day"], at_time))
    return {
        "resourceType": "Appointment",
        "status": "proposed",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=15)).isoformat(),
        "participant": [
            {"actor": {"reference": f"Practitioner/{w['D' + n]}"}, "status": "needs-action"},
            {"actor": {"reference": f"Patient/{w['P' + n]}"}, "status": "accepted"},
        ],
    }


def _booked_to_cancel(w, own: bool, at_time: str) -> dict:
    n = "1" if own else "2"
    booked = w.make(
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": w["P" + n], "doctor_id": w["D" + n], "start": at(w["day"], at_time)},
    )
    return {
        "resourceType": "Appointment",
        "id": booked,
        "status": "cancelled",
        "cancelationReason": {"text": "cannot come"},
        "start": at(w["day"], at_time),
        "end": (datetime.fromisoformat(at(w["day"], at_time)) + timedelta(minutes=15)).isoformat(),
        "participant": [{"actor": {"reference": f"Patient/{w['P' + n]}"}, "status": "accepted"}],
    }


BOOKERS_OWN = {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN}
BOOKERS_OTHER = {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}
FHIR_OPERATION_CASES = [
    (
        "fhir $find",
        "$find",
        lambda w, own, at_time: [
            {"name": "start", "valueDateTime": at(w["day"], "00:00")},
            {"name": "end", "valueDateTime": at(w["day"], "23:00")},
            {"name": "practitioner", "valueReference": {"reference": f"Practitioner/{w['D1' if own else 'D2']}"}},
        ],
        dict.fromkeys(ROLES, OK),
        dict.fromkeys(ROLES, OK),
    ),
    (
        "fhir $hold",
        "$hold",
        lambda w, own, at_time: [{"name": "appointment", "resource": _proposal(w, own, at_time)}],
        BOOKERS_OWN,
        BOOKERS_OTHER,
    ),
    (
        "fhir $book",
        "$book",
        lambda w, own, at_time: [{"name": "appointment", "resource": _proposal(w, own, at_time)}],
        BOOKERS_OWN,
        BOOKERS_OTHER,
    ),
    (
        "fhir $book cancelled",
        "$book",
        lambda w, own, at_time: [{"name": "appointment", "resource": _booked_to_cancel(w, own, at_time)}],
        BOOKERS_OWN,
        {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN},
    ),
]


@pytest.mark.parametrize(
    "name, operation, parameters_for, own, other", FHIR_OPERATION_CASES, ids=[case[0] for case in FHIR_OPERATION_CASES]
)
def test_fhir_operation_role_and_record(module_invoke, name, operation, parameters_for, own, other):
    """The same matrix for $find, $hold and $book: every role, on its own patient's time and another's; each
    request at a time of its own (a hold or a booking takes its time)."""
    empty_tables()
    invoke, world = module_invoke, LazyWorld(module_invoke)
    times = iter(f"{hour:02d}:{minute:02d}" for hour in (10, 11, 15, 16) for minute in (0, 15, 30, 45))
    for role in ROLES:
        for is_own, expected in ((True, own[role]), (False, other[role])):
            body = {"resourceType": "Parameters", "parameter": parameters_for(world, is_own, next(times))}
            event = event_for(
                "POST",
                "/fhir/Appointment/{appointment_id}",
                {"appointment_id": operation},
                body=body,
                claims=claims(role, world),
            )
            response = invoke("FhirAppointmentOperationFunction", event)
            where = f"{name}-{role}-{'own' if is_own else 'other'}"
            if expected == OK:
                assert response["statusCode"] == 200, (where, response)
            else:
                assert response["statusCode"] == expected, (where, response)
                assert error_code(response) == ("FORBIDDEN" if expected == FORBIDDEN else "NOT_FOUND"), where


def generated():
    for name, function, method, resource, path, body, query, own, other in CASES:
        for role in ROLES:
            yield pytest.param(
                function, method, resource, path, body, query, role, True, own[role], id=f"{name}-{role}-own"
            )
            if other is not None:
                yield pytest.param(
                    function, method, resource, path, body, query, role, False, other[role], id=f"{name}-{role}-other"
                )


@pytest.mark.parametrize("function,method,resource,path,body,query,role,own,expected", list(generated()))
def test_route_role_and_record(
    module_invoke, monkeypatch, function, method, resource, path, body, query, role, own, expected
):
    empty_tables()  # each test makes its own records; an empty world keeps moto's transactions cheap
    invoke, world = module_invoke, LazyWorld(module_invoke)
    request = event_for(
        method,
        resource,
        path(world, own) if path else None,
        body=body(world, own) if body else None,
        query=query(world) if query else None,
        claims=claims(role, world),
    )
    if "status" in json.loads(request["body"] or "{}"):  # a doctor marks an appointment only once it has begun
        from clinic.services import appointments

        begun = datetime.fromisoformat(at(world["day"], "09:05")).astimezone(UTC)
        monkeypatch.setattr(appointments, "now_utc", lambda: begun)
    response = invoke(function, request)
    if expected == OK:
        assert 200 <= response["statusCode"] < 300, response
    else:
        assert response["statusCode"] == expected, response
        assert response["json"]["code"] == ("FORBIDDEN" if expected == FORBIDDEN else "NOT_FOUND")


def test_the_matrix_covers_every_route_of_the_template():
    from local_stack import template as tpl

    covered = (
        {(c[2], c[3]) for c in CASES}
        | {("GET", c[2]) for c in FHIR_CASES}
        | ({("POST", "/fhir/Appointment/{appointment_id}")} if FHIR_OPERATION_CASES else set())
    )
    routes = {(r.method, r.path) for f in tpl.functions() for r in f.routes if r.authorized}
    assert routes == covered
