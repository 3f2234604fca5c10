"""Authorization per route and per record (OWASP API1/API3/API5), generated from one table.

The world: doctors D1 (ours) and D2, patients P1 (ours) and P2, appointment A1 = P1 with D1 and
A2 = P2 with D2. Callers: staff; the doctor D1; the patient P1; and a user who is signed in but in
no group. Every route × caller × own/other record is tried; each must be allowed (2xx) or denied
with 403 — or 404 where the route admits the role but the record is someone else's, so its
existence never leaks.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.handlers.conftest import event_for
from tests.handlers.test_appointments import DOCTOR, PATIENT, at, next_monday

OK, FORBIDDEN, HIDDEN = "ok", 403, 404
ROLES = ("staff", "doctor", "patient", "nobody")


def claims(role: str, world: dict) -> dict[str, str]:
    sub = str(uuid.uuid5(uuid.NAMESPACE_URL, role))
    return {
        "staff": {"sub": sub, "cognito:groups": "staff"},
        "doctor": {"sub": sub, "cognito:groups": "doctors", "custom:doctor_id": world["D1"]},
        "patient": {"sub": sub, "cognito:groups": "patients", "custom:patient_id": world["P1"]},
        "nobody": {"sub": sub},
    }[role]


@pytest.fixture
def world(invoke):
    def make(function, resource, body):
        response = invoke(function, event_for("POST", resource, body=body))
        assert response["statusCode"] == 201, response
        return response["json"]["id"]

    w = {"D1": make("CreateDoctorFunction", "/doctors", DOCTOR),
         "D2": make("CreateDoctorFunction", "/doctors", {**DOCTOR, "family_name": "Other"}),
         "P1": make("RegisterPatientFunction", "/patients", PATIENT),
         "P2": make("RegisterPatientFunction", "/patients", {**PATIENT, "given_name": "Other"}),
         "day": next_monday(2)}
    w["A1"] = make("BookAppointmentFunction", "/appointments",
                   {"patient_id": w["P1"], "doctor_id": w["D1"], "start": at(w["day"], "09:00")})
    w["A2"] = make("BookAppointmentFunction", "/appointments",
                   {"patient_id": w["P2"], "doctor_id": w["D2"], "start": at(w["day"], "09:00")})
    for n in ("1", "2"):
        w["S" + n] = make("BookSeriesFunction", "/appointment-series",
                          {"patient_id": w["P" + n], "doctor_id": w["D" + n], "start": at(w["day"], "14:00"),
                           "repeat": {"every_weeks": 1, "count": 2}})
        response = invoke("CreateTimeOffFunction", event_for("POST", "/doctors/{doctor_id}/time-off",
                                                             {"doctor_id": w["D" + n]}, body=away(w, 40)))
        assert response["statusCode"] == 201, response
        w["T" + n] = response["json"]["id"]
    return w


def away(w, days_ahead):
    start = w["day"] + timedelta(days=days_ahead)
    return {"start": at(start, "00:00"), "end": at(start + timedelta(days=2), "00:00"), "kind": "vacation"}


def window(w):
    return {"from": at(w["day"], "00:00"), "to": at(w["day"], "23:00")}


# (name, function, method, resource, path(world, own?), body(world, own?), query, expected by role for own / other)
CASES = [
    ("list patients", "ListPatientsFunction", "GET", "/patients", None, None, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}, None),
    ("register patient", "RegisterPatientFunction", "POST", "/patients", None, lambda w, own: PATIENT, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}, None),
    ("search patients", "SearchPatientsFunction", "POST", "/patients/search", None,
     lambda w, own: {"family_name_prefix": "ie"}, None,
     {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN}, None),
    ("read patient", "GetPatientFunction", "GET", "/patients/{patient_id}",
     lambda w, own: {"patient_id": w["P1" if own else "P2"]}, None, None,
     {"staff": OK, "doctor": OK, "patient": OK, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": HIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN}),
    ("update patient", "UpdatePatientFunction", "PATCH", "/patients/{patient_id}",
     lambda w, own: {"patient_id": w["P1" if own else "P2"]}, lambda w, own: {"phone": "+15550100000"}, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN}),
    ("deactivate patient", "UpdatePatientFunction", "PATCH", "/patients/{patient_id}",
     lambda w, own: {"patient_id": w["P1" if own else "P2"]}, lambda w, own: {"active": False}, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN}),
    ("patient's appointments", "PatientAppointmentsFunction", "GET", "/patients/{patient_id}/appointments",
     lambda w, own: {"patient_id": w["P1" if own else "P2"]}, None, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN}),
    ("patient's access log", "PatientAccessLogFunction", "GET", "/patients/{patient_id}/access-log",
     lambda w, own: {"patient_id": w["P1" if own else "P2"]}, None, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}),
    ("create doctor", "CreateDoctorFunction", "POST", "/doctors", None, lambda w, own: DOCTOR, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}, None),
    ("list doctors", "ListDoctorsFunction", "GET", "/doctors", None, None, None,
     {"staff": OK, "doctor": OK, "patient": OK, "nobody": OK}, None),
    ("read doctor", "GetDoctorFunction", "GET", "/doctors/{doctor_id}",
     lambda w, own: {"doctor_id": w["D1" if own else "D2"]}, None, None,
     {"staff": OK, "doctor": OK, "patient": OK, "nobody": OK},
     {"staff": OK, "doctor": OK, "patient": OK, "nobody": OK}),
    ("update doctor", "UpdateDoctorFunction", "PATCH", "/doctors/{doctor_id}",
     lambda w, own: {"doctor_id": w["D1" if own else "D2"]}, lambda w, own: {"specialty": "Cardiology"}, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}),
    ("doctor's schedule", "DoctorScheduleFunction", "GET", "/doctors/{doctor_id}/schedule",
     lambda w, own: {"doctor_id": w["D1" if own else "D2"]}, None, window,
     {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}),
    ("availability", "DoctorAvailabilityFunction", "GET", "/doctors/{doctor_id}/availability",
     lambda w, own: {"doctor_id": w["D1" if own else "D2"]}, None, window,
     {"staff": OK, "doctor": OK, "patient": OK, "nobody": OK},
     {"staff": OK, "doctor": OK, "patient": OK, "nobody": OK}),
    ("book", "BookAppointmentFunction", "POST", "/appointments", None,
     lambda w, own: {"patient_id": w["P1" if own else "P2"], "doctor_id": w["D1"], "start": at(w["day"], "10:00")},
     None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}),
    ("read appointment", "GetAppointmentFunction", "GET", "/appointments/{appointment_id}",
     lambda w, own: {"appointment_id": w["A1" if own else "A2"]}, None, None,
     {"staff": OK, "doctor": OK, "patient": OK, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": HIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN}),
    ("mark arrived", "UpdateAppointmentFunction", "PATCH", "/appointments/{appointment_id}",
     lambda w, own: {"appointment_id": w["A1" if own else "A2"]}, lambda w, own: {"status": "arrived"}, None,
     {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": HIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}),
    ("reschedule", "UpdateAppointmentFunction", "PATCH", "/appointments/{appointment_id}",
     lambda w, own: {"appointment_id": w["A1" if own else "A2"]},
     lambda w, own: {"start": at(w["day"], "11:00")}, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": HIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}),
    ("cancel", "CancelAppointmentFunction", "POST", "/appointments/{appointment_id}/cancel",
     lambda w, own: {"appointment_id": w["A1" if own else "A2"]}, lambda w, own: {"reason": "cannot come"}, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN}),
    ("read settings", "GetSettingsFunction", "GET", "/settings", None, None, None,
     {"staff": OK, "doctor": OK, "patient": OK, "nobody": OK}, None),
    ("change settings", "UpdateSettingsFunction", "PATCH", "/settings", None, lambda w, own: {"hold_minutes": 7}, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}, None),
    ("add time off", "CreateTimeOffFunction", "POST", "/doctors/{doctor_id}/time-off",
     lambda w, own: {"doctor_id": w["D1" if own else "D2"]}, lambda w, own: away(w, 50), None,
     {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}),
    ("list time off", "ListTimeOffFunction", "GET", "/doctors/{doctor_id}/time-off",
     lambda w, own: {"doctor_id": w["D1" if own else "D2"]}, None, window,
     {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}),
    ("delete time off", "DeleteTimeOffFunction", "DELETE", "/doctors/{doctor_id}/time-off/{time_off_id}",
     lambda w, own: {"doctor_id": w["D1" if own else "D2"], "time_off_id": w["T1" if own else "T2"]}, None, None,
     {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}),
    ("book series", "BookSeriesFunction", "POST", "/appointment-series", None,
     lambda w, own: {"patient_id": w["P1" if own else "P2"], "doctor_id": w["D1"], "start": at(w["day"], "15:00"),
                     "repeat": {"every_weeks": 2, "count": 2}}, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}),
    ("read series", "GetSeriesFunction", "GET", "/appointment-series/{series_id}",
     lambda w, own: {"series_id": w["S1" if own else "S2"]}, None, None,
     {"staff": OK, "doctor": OK, "patient": OK, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": HIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN}),
    ("cancel series", "CancelSeriesFunction", "POST", "/appointment-series/{series_id}/cancel",
     lambda w, own: {"series_id": w["S1" if own else "S2"]}, lambda w, own: {"reason": "moving away"}, None,
     {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN}),
]


# The FHIR view (docs/fhir.md), each route like its native twin: (name, function, resource, path and query
# (world, own?), expected by role for own / other). Its errors are OperationOutcomes (see error_code).
FHIR_CASES = [
    ("fhir patient", "FhirReadPatientFunction", "/fhir/Patient/{patient_id}",
     lambda w, own: ({"patient_id": w["P1" if own else "P2"]}, None),
     {"staff": OK, "doctor": OK, "patient": OK, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": HIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN}),
    ("fhir practitioner", "FhirReadPractitionerFunction", "/fhir/Practitioner/{doctor_id}",
     lambda w, own: ({"doctor_id": w["D1" if own else "D2"]}, None),
     dict.fromkeys(ROLES, OK), dict.fromkeys(ROLES, OK)),
    ("fhir schedule", "FhirReadScheduleFunction", "/fhir/Schedule/{doctor_id}",
     lambda w, own: ({"doctor_id": w["D1" if own else "D2"]}, None),
     dict.fromkeys(ROLES, OK), dict.fromkeys(ROLES, OK)),
    ("fhir schedule search", "FhirSearchScheduleFunction", "/fhir/Schedule",
     lambda w, own: (None, {"actor": f"Practitioner/{w['D1' if own else 'D2']}"}),
     dict.fromkeys(ROLES, OK), dict.fromkeys(ROLES, OK)),
    ("fhir slot search", "FhirSearchSlotFunction", "/fhir/Slot",
     lambda w, own: (None, {"schedule": f"Schedule/{w['D1' if own else 'D2']}", "start": f"eq{w['day']}"}),
     dict.fromkeys(ROLES, OK), dict.fromkeys(ROLES, OK)),
    ("fhir appointment", "FhirReadAppointmentFunction", "/fhir/Appointment/{appointment_id}",
     lambda w, own: ({"appointment_id": w["A1" if own else "A2"]}, None),
     {"staff": OK, "doctor": OK, "patient": OK, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": HIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN}),
    ("fhir appointments by patient", "FhirSearchAppointmentFunction", "/fhir/Appointment",
     lambda w, own: (None, {"patient": f"Patient/{w['P1' if own else 'P2']}"}),
     {"staff": OK, "doctor": FORBIDDEN, "patient": OK, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": HIDDEN, "nobody": FORBIDDEN}),
    ("fhir appointments by practitioner", "FhirSearchAppointmentFunction", "/fhir/Appointment",
     lambda w, own: (None, {"practitioner": f"Practitioner/{w['D1' if own else 'D2']}", "date": f"eq{w['day']}"}),
     {"staff": OK, "doctor": OK, "patient": FORBIDDEN, "nobody": FORBIDDEN},
     {"staff": OK, "doctor": FORBIDDEN, "patient": FORBIDDEN, "nobody": FORBIDDEN}),
]


def error_code(response: dict) -> str:
    """The stable code of an error: problem+json's ``code``, or a FHIR OperationOutcome's ``details.coding``."""
    body = response["json"]
    if body.get("resourceType") == "OperationOutcome":
        assert response["headers"]["Content-Type"] == "application/fhir+json", response
        return body["issue"][0]["details"]["coding"][0]["code"]
    return body["code"]


@pytest.mark.parametrize("name, function, resource, request_for, own, other", FHIR_CASES,
                         ids=[case[0] for case in FHIR_CASES])
def test_fhir_route_role_and_record(invoke, aws, world, name, function, resource, request_for, own, other):
    """The same matrix for the FHIR routes: every role, own and other record, on one world per route."""
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


def generated():
    for name, function, method, resource, path, body, query, own, other in CASES:
        for role in ROLES:
            yield pytest.param(function, method, resource, path, body, query, role, True, own[role],
                               id=f"{name}-{role}-own")
            if other is not None:
                yield pytest.param(function, method, resource, path, body, query, role, False, other[role],
                                   id=f"{name}-{role}-other")


@pytest.mark.parametrize("function,method,resource,path,body,query,role,own,expected", list(generated()))
def test_route_role_and_record(invoke, aws, world, function, method, resource, path, body, query, role, own,
                               expected):
    request = event_for(method, resource, path(world, own) if path else None,
                        body=body(world, own) if body else None, query=query(world) if query else None,
                        claims=claims(role, world))
    response = invoke(function, request)
    if expected == OK:
        assert 200 <= response["statusCode"] < 300, response
    else:
        assert response["statusCode"] == expected, response
        assert response["json"]["code"] == ("FORBIDDEN" if expected == FORBIDDEN else "NOT_FOUND")


def test_a_doctors_search_finds_only_their_own_patients(invoke, aws, world):
    """Given P1 (an appointment with D1) and P2 (with D2), both matching the search,
    when staff and then D1 search, then staff see both and D1 sees only P1."""
    def found(role):
        response = invoke("SearchPatientsFunction", event_for("POST", "/patients/search", body={"family_name_prefix": "ie"},
                                                              claims=claims(role, world)))
        assert response["statusCode"] == 200, response
        return {p["id"] for p in response["json"]["items"]}

    assert found("staff") >= {world["P1"], world["P2"]}
    assert found("doctor") == {world["P1"]}


def test_a_doctors_search_reveals_nothing_about_other_patients(invoke, aws, world):
    """Given matches that D1 may not see (P2, and another patient of D2's) around D1's own P1, when D1
    pages through the search one item at a time, then D1 gets exactly P1 and a last page with no
    token — the same answer as if the hidden patients did not exist."""
    for family_name in ("Iexample", "Iexampler"):
        hidden = {"given_name": "Hidden", "family_name": family_name, "birth_date": "1960-01-01", "sex": "other"}
        assert invoke("RegisterPatientFunction", event_for("POST", "/patients", body=hidden))["statusCode"] == 201
    pages, token = [], None
    while True:
        body = {"family_name_prefix": "ie", "limit": 1, **({"next_token": token} if token else {})}
        response = invoke("SearchPatientsFunction", event_for("POST", "/patients/search", body=body,
                                                              claims=claims("doctor", world)))
        assert response["statusCode"] == 200, response
        pages.append([p["id"] for p in response["json"]["items"]])
        token = response["json"]["next_token"]
        if token is None:
            break
    assert [i for page in pages for i in page] == [world["P1"]]
    # a prefix only hidden patients match: no items and no token, exactly like no match at all
    only_hidden = invoke("SearchPatientsFunction", event_for("POST", "/patients/search",
                                                             body={"family_name_prefix": "iex", "limit": 1},
                                                             claims=claims("doctor", world)))
    assert only_hidden["json"] == {"items": [], "next_token": None}


def test_the_matrix_covers_every_route_of_the_template():
    from local_stack import template as tpl

    covered = {(c[2], c[3]) for c in CASES} | {("GET", c[2]) for c in FHIR_CASES}
    routes = {(r.method, r.path) for f in tpl.functions() for r in f.routes if r.authorized}
    assert routes == covered


def test_cors_answers_only_the_configured_origin(invoke, monkeypatch):
    """CORS only for the origin given as the CorsAllowedOrigin parameter (CORS_ALLOWED_ORIGIN)."""
    monkeypatch.setenv("CORS_ALLOWED_ORIGIN", "https://clinic.example.com")

    def ask(origin):
        request = event_for("GET", "/doctors")
        request["headers"]["Origin"] = origin
        request["multiValueHeaders"]["Origin"] = [origin]
        return invoke("ListDoctorsFunction", request)["headers"]

    allowed = ask("https://clinic.example.com")
    assert allowed.get("Access-Control-Allow-Origin") == "https://clinic.example.com"
    assert "Location" in allowed["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in ask("https://evil.example.net")
