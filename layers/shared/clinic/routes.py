"""Every route of the API, declared once.

One entry per route: method, path, the function that serves it, the roles it admits, the action it
leaves on a patient's audit trail, whether it takes an Idempotency-Key, and what it may do in
DynamoDB (named permissions, see ``clinic.data.permissions``). Everything else is derived from
this table or checked against it by a test:

- template.yaml's functions, API events, environments, IAM policies, log groups, alarms and
  dashboard (``infra/generate.py``, ``make template``);
- the access check every request passes first (``clinic.access.check_route``): a route that is
  not declared here is denied;
- the audit trail (``clinic.audit``): a declared route without an action is a declaration that it
  never touches patient data (a test checks that its permissions agree);
- which function serves which route (``clinic.api.endpoint`` looks its route up here by name);
- the OpenAPI document (``local_stack/openapi.py``).

Adding an endpoint: one line here, ``functions/<snake_name>/app.py``, and ``events/<snake_name>.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clinic.identity import DOCTORS, PATIENTS, STAFF

AUTHENTICATED = "authenticated"  # any valid token, whatever its groups
ANYONE: None = None  # no token needed
ANY_USER = frozenset({STAFF, DOCTORS, PATIENTS, AUTHENTICATED})
NOT_PATIENT_DATA: None = None  # the audit value of a route that never reads or changes patient data


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource path, e.g. /patients/{patient_id}
    function: str  # CamelCase: functions/<snake_case>/app.py, <function>Function in the template
    roles: frozenset[str] | None  # None: no token needed
    audit: str | None  # the audit action; None: never touches patient data
    permissions: tuple[str, ...]  # clinic.data.permissions names
    keyed: bool = False  # accepts an Idempotency-Key

    @property
    def logical_id(self) -> str:
        return f"{self.function}Function"

    @property
    def code_dir(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.function).lower()

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def all_permissions(self) -> tuple[str, ...]:
        """Its own, plus appending to the audit trail when audited, the idempotency records when keyed, and
        reading a doctor's record when doctors may call it (a deactivated doctor's token is refused)."""
        doctors_call = self.roles is not ANYONE and bool(self.roles & {DOCTORS, AUTHENTICATED})
        return tuple(
            dict.fromkeys(
                (
                    *self.permissions,
                    *(("audit.append",) if self.audit else ()),
                    *(("idempotency",) if self.keyed else ()),
                    *(("doctors.read",) if doctors_call else ()),
                )
            )
        )


def _roles(*names: str) -> frozenset[str]:
    return frozenset(names)


S, D, P = STAFF, DOCTORS, PATIENTS

ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "Health", ANYONE, NOT_PATIENT_DATA, ("health.probe",)),
    # ------------------------------------------------------------------ patients
    Route("POST", "/patients", "RegisterPatient", _roles(S), "patient.register", ("patients.create",), keyed=True),
    Route("GET", "/patients", "ListPatients", _roles(S), "patient.list", ("patients.list", "pagination")),
    Route(
        "POST",
        "/patients/search",
        "SearchPatients",
        _roles(S, D),
        "patient.search",
        (
            "patients.search",
            "patients.read_many",
            "links.query",
            "doctors.read",
            "settings.read",
            "appointments.by_patient",
            "pagination",
        ),
    ),
    Route(
        "GET",
        "/patients/{patient_id}",
        "GetPatient",
        _roles(S, P, D),
        "patient.read",
        ("patients.read", "links.read", "doctors.read", "settings.read", "appointments.by_patient"),
    ),
    Route("PATCH", "/patients/{patient_id}", "UpdatePatient", _roles(S, P), "patient.update", ("patients.update",)),
    Route(
        "GET",
        "/patients/{patient_id}/appointments",
        "PatientAppointments",
        _roles(S, P),
        "patient.appointments.read",
        ("patients.read", "appointments.by_patient", "pagination"),
    ),
    Route(
        "GET",
        "/patients/{patient_id}/access-log",
        "PatientAccessLog",
        _roles(S),
        "patient.access_log.read",
        ("patients.read", "audit.read", "pagination"),
    ),
    # ------------------------------------------------------------------ doctors
    Route(
        "POST",
        "/doctors",
        "CreateDoctor",
        _roles(S),
        NOT_PATIENT_DATA,
        ("doctors.create", "locations.check", "doctors.locations.add"),
        keyed=True,
    ),
    Route(
        "GET",
        "/doctors",
        "ListDoctors",
        ANY_USER,
        NOT_PATIENT_DATA,
        ("doctors.list", "doctors.by_location", "pagination"),
    ),
    Route("GET", "/doctors/{doctor_id}", "GetDoctor", ANY_USER, NOT_PATIENT_DATA, ("doctors.read",)),
    Route(
        "PATCH",
        "/doctors/{doctor_id}",
        "UpdateDoctor",
        _roles(S),
        NOT_PATIENT_DATA,
        ("doctors.update", "locations.check", "doctors.locations"),
    ),
    Route(
        "GET",
        "/doctors/{doctor_id}/schedule",
        "DoctorSchedule",
        _roles(S, D),
        "doctor.schedule.read",
        ("doctors.read", "appointments.by_doctor", "pagination"),
    ),
    Route(
        "GET",
        "/doctors/{doctor_id}/availability",
        "DoctorAvailability",
        ANY_USER,
        NOT_PATIENT_DATA,
        ("doctors.read_with_settings", "slots.read", "places.read", "resources.slots"),
    ),
    Route(
        "POST",
        "/doctors/{doctor_id}/time-off",
        "CreateTimeOff",
        _roles(S, D),
        "doctor.time_off.create",
        ("doctors.read", "doctors.time_off", "slots.read", "appointments.read_many"),
    ),
    Route(
        "GET",
        "/doctors/{doctor_id}/time-off",
        "ListTimeOff",
        _roles(S, D),
        NOT_PATIENT_DATA,
        ("doctors.read", "pagination"),
    ),
    Route(
        "DELETE",
        "/doctors/{doctor_id}/time-off/{time_off_id}",
        "DeleteTimeOff",
        _roles(S, D),
        NOT_PATIENT_DATA,
        ("doctors.read", "doctors.time_off"),
    ),
    # ------------------------------------------------------------------ locations, rooms and equipment
    Route("POST", "/locations", "CreateLocation", _roles(S), NOT_PATIENT_DATA, ("locations.create",), keyed=True),
    Route("GET", "/locations", "ListLocations", ANY_USER, NOT_PATIENT_DATA, ("locations.list", "pagination")),
    Route("GET", "/locations/{location_id}", "GetLocation", ANY_USER, NOT_PATIENT_DATA, ("locations.read",)),
    Route("PATCH", "/locations/{location_id}", "UpdateLocation", _roles(S), NOT_PATIENT_DATA, ("locations.update",)),
    Route("POST", "/resources", "CreateResource", _roles(S), NOT_PATIENT_DATA, ("resources.create",), keyed=True),
    Route("GET", "/resources", "ListResources", ANY_USER, NOT_PATIENT_DATA, ("resources.list", "pagination")),
    Route("GET", "/resources/{resource_id}", "GetResource", ANY_USER, NOT_PATIENT_DATA, ("resources.read",)),
    Route("PATCH", "/resources/{resource_id}", "UpdateResource", _roles(S), NOT_PATIENT_DATA, ("resources.update",)),
    # ------------------------------------------------------------------ clinic settings
    Route("GET", "/settings", "GetSettings", ANY_USER, NOT_PATIENT_DATA, ("settings.read",)),
    Route("PATCH", "/settings", "UpdateSettings", _roles(S), NOT_PATIENT_DATA, ("settings.update",)),
    # ------------------------------------------------------------------ appointments
    Route(
        "POST",
        "/appointments",
        "BookAppointment",
        _roles(S, P),
        "appointment.book",
        (
            "doctors.read",
            "settings.read",
            "settings.check",
            "appointments.book",
            "places.read",
            "places.check",
            "slots.read_many",
        ),
        keyed=True,
    ),
    Route(
        "GET",
        "/appointments/{appointment_id}",
        "GetAppointment",
        _roles(S, P, D),
        "appointment.read",
        ("appointments.read",),
    ),
    Route(
        "PATCH",
        "/appointments/{appointment_id}",
        "UpdateAppointment",
        _roles(S, D),
        "appointment.update",
        (
            "appointments.read",
            "doctors.read",
            "settings.read",
            "settings.check",
            "appointments.change",
            "appointments.status",
            "places.read",
            "places.check",
            "slots.read_many",
        ),
    ),
    Route(
        "POST",
        "/appointments/{appointment_id}/cancel",
        "CancelAppointment",
        _roles(S, P),
        "appointment.cancel",
        ("appointments.read", "settings.read", "settings.check", "appointments.cancel"),
        keyed=True,
    ),
    Route(
        "POST",
        "/appointment-series",
        "BookSeries",
        _roles(S, P),
        "series.book",
        (
            "doctors.read",
            "settings.read",
            "settings.check",
            "appointments.book",
            "slots.read_many",
            "places.read",
            "places.check",
        ),
        keyed=True,
    ),
    Route(
        "GET",
        "/appointment-series/{series_id}",
        "GetSeries",
        _roles(S, P, D),
        "series.read",
        ("appointments.by_series",),
    ),
    Route(
        "POST",
        "/appointment-series/{series_id}/cancel",
        "CancelSeries",
        _roles(S, P),
        "series.cancel",
        ("appointments.by_series", "settings.read", "settings.check", "appointments.cancel"),
        keyed=True,
    ),
    # ------------------------------------------------------------------ holds
    Route(
        "POST",
        "/holds",
        "PlaceHold",
        _roles(S, P),
        "hold.place",
        (
            "doctors.read",
            "settings.read",
            "settings.check",
            "quota.read",
            "holds.place",
            "places.read",
            "places.check",
            "slots.read_many",
        ),
    ),
    Route("GET", "/holds/{hold_id}", "GetHold", _roles(S, P), "hold.read", ("holds.read",)),
    Route(
        "POST",
        "/holds/{hold_id}/confirm",
        "ConfirmHold",
        _roles(S, P),
        "hold.confirm",
        ("holds.read", "doctors.read", "settings.read", "settings.check", "holds.confirm", "appointments.read"),
        keyed=True,
    ),
    Route("DELETE", "/holds/{hold_id}", "ReleaseHold", _roles(S, P), "hold.release", ("holds.read", "holds.end")),
    # ------------------------------------------------------------------ waitlist
    Route(
        "POST",
        "/waitlist",
        "JoinWaitlist",
        _roles(S, P),
        "waitlist.join",
        ("patients.read", "doctors.read", "settings.read", "waitlist.create"),
    ),
    Route("GET", "/waitlist/{entry_id}", "GetWaitlistEntry", _roles(S, P), "waitlist.read", ("waitlist.read",)),
    Route(
        "DELETE",
        "/waitlist/{entry_id}",
        "LeaveWaitlist",
        _roles(S, P),
        "waitlist.leave",
        ("waitlist.read", "waitlist.cancel", "holds.read", "holds.end"),
    ),
    Route(
        "GET",
        "/patients/{patient_id}/waitlist",
        "PatientWaitlist",
        _roles(S, P),
        "patient.waitlist.read",
        ("patients.read", "waitlist.by_patient", "pagination"),
    ),
    # ------------------------------------------------------------------ v1.2: across doctors, a location's day
    Route(
        "GET",
        "/availability",
        "EarliestAvailability",
        ANY_USER,
        NOT_PATIENT_DATA,
        (
            "settings.read",
            "doctors.list",
            "doctors.by_location",
            "places.read",
            "slots.by_site",
            "slots.read",
            "pagination",
        ),
    ),
    Route(
        "GET",
        "/locations/{location_id}/day",
        "LocationDay",
        _roles(S),
        "location.day",
        ("places.read", "doctors.by_location", "appointments.by_location", "patients.read_many"),
    ),
    Route(
        "GET",
        "/resources/{resource_id}/schedule",
        "ResourceSchedule",
        _roles(S),
        "resource.schedule.read",
        ("resources.read", "appointments.by_location", "pagination"),
    ),
    # ------------------------------------------------------------------ FHIR R4 view (read-only; docs/fhir.md)
    # Each read or search is its native twin: the same roles, record rules, audit and storage.
    Route("GET", "/fhir/metadata", "FhirMetadata", ANYONE, NOT_PATIENT_DATA, ()),
    Route(
        "GET",
        "/fhir/Patient/{patient_id}",
        "FhirReadPatient",
        _roles(S, P, D),
        "fhir.patient.read",
        ("patients.read", "links.read", "doctors.read", "settings.read", "appointments.by_patient"),
    ),
    Route(
        "GET", "/fhir/Practitioner/{doctor_id}", "FhirReadPractitioner", ANY_USER, NOT_PATIENT_DATA, ("doctors.read",)
    ),
    # a Schedule's id is a doctor's, or a room's or a device's (v1.2)
    Route(
        "GET",
        "/fhir/Schedule/{doctor_id}",
        "FhirReadSchedule",
        ANY_USER,
        NOT_PATIENT_DATA,
        ("doctors.read", "resources.read"),
    ),
    Route(
        "GET",
        "/fhir/Schedule",
        "FhirSearchSchedule",
        ANY_USER,
        NOT_PATIENT_DATA,
        ("doctors.read", "resources.read", "locations.read"),
    ),
    Route(
        "GET",
        "/fhir/Slot",
        "FhirSearchSlot",
        ANY_USER,
        NOT_PATIENT_DATA,
        ("doctors.read_with_settings", "slots.read", "places.read", "resources.slots"),
    ),
    Route(
        "GET",
        "/fhir/Appointment/{appointment_id}",
        "FhirReadAppointment",
        _roles(S, P, D),
        "fhir.appointment.read",
        ("appointments.read", "resources.by_location"),
    ),
    Route(
        "GET",
        "/fhir/Appointment",
        "FhirSearchAppointment",
        _roles(S, P, D),
        "fhir.appointment.search",
        (
            "patients.read",
            "appointments.by_patient",
            "doctors.read",
            "appointments.by_doctor",
            "pagination",
            "resources.by_location",
        ),
    ),
    # v1.2: sites and rooms (Location), equipment (Device)
    Route(
        "GET",
        "/fhir/Location/{location_id}",
        "FhirReadLocation",
        ANY_USER,
        NOT_PATIENT_DATA,
        ("locations.read", "resources.read"),
    ),
    Route(
        "GET",
        "/fhir/Location",
        "FhirSearchLocation",
        ANY_USER,
        NOT_PATIENT_DATA,
        ("locations.read", "locations.list", "resources.list", "pagination"),
    ),
    Route("GET", "/fhir/Device/{device_id}", "FhirReadDevice", ANY_USER, NOT_PATIENT_DATA, ("resources.read",)),
    # v1.2: the scheduling operations $find, $hold and $book (IHE ITI Scheduling). API Gateway (REST) takes no
    # "$" in a resource path (a path part is [A-Za-z0-9._-] or a {parameter}), and one resource has one path
    # parameter name: so the operations are the POST of the instance read's resource, the path value naming
    # the operation (POST /fhir/Appointment/$find arrives with appointment_id = "$find"). One function serves
    # the three; each records its own audit action (fhir.appointment.hold, .book, .cancel; $find none), and
    # only $hold and $book take an Idempotency-Key (clinic.services.fhir_operations).
    Route(
        "POST",
        "/fhir/Appointment/{appointment_id}",
        "FhirAppointmentOperation",
        ANY_USER,
        "fhir.appointment.operation",
        (
            # $find: GET /availability's (and one doctor's record, for practitioner)
            "settings.read",
            "doctors.list",
            "doctors.by_location",
            "doctors.read",
            "places.read",
            "slots.by_site",
            "slots.read",
            "pagination",
            # $hold: POST /holds's
            "settings.check",
            "quota.read",
            "holds.place",
            "places.check",
            "slots.read_many",
            # $book: POST /holds/{id}/confirm's, POST /appointments's, POST /appointments/{id}/cancel's
            "holds.read",
            "holds.confirm",
            "appointments.read",
            "appointments.book",
            "appointments.cancel",
        ),
        keyed=True,
    ),
)

BY_KEY: dict[tuple[str, str], Route] = {route.key: route for route in ROUTES}
BY_FUNCTION: dict[str, Route] = {route.function: route for route in ROUTES}


def find(method: str, path: str) -> Route | None:
    """The declared route for an API Gateway (method, resource path), or None: not declared."""
    return BY_KEY.get((method, path))
