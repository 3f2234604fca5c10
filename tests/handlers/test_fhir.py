"""The FHIR R4 view through its functions (docs/fhir.md): each route's mapping, search parameters and paging,
the unknown-parameter policy, errors as OperationOutcome, access and audit as on the native routes. Every FHIR
body a function answers — resources, Bundles (each entry too) and OperationOutcomes — passes the FHIR
validator (tests/fhir_validator.py)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from clinic.fhir import ERROR_CODE_SYSTEM
from tests import days
from tests.claims import claims_of
from tests.days import NY, at
from tests.handlers.conftest import event_for
from tests.handlers.test_appointments import DOCTOR, PATIENT

FHIR_JSON = "application/fhir+json"
HOST = "fhir.clinic.test"
BASE = f"http://{HOST}/fhir"
STAFF = claims_of("staff", sub="staff-fhir")
LONG = {"code": "long", "name": "Long visit", "duration_minutes": 30, "buffer_after_minutes": 10}


def doctor_claims(doctor_id: str) -> dict[str, str]:
    return claims_of("doctor", doctor_id, sub=f"doctor-{doctor_id}")


def patient_claims(patient_id: str) -> dict[str, str]:
    return claims_of("patient", patient_id, sub=f"patient-{patient_id}")


NOBODY = {"sub": "signed-in-no-group"}
FUNCTIONS = {
    "/fhir/metadata": "FhirMetadataFunction",
    "/fhir/Patient/{patient_id}": "FhirReadPatientFunction",
    "/fhir/Practitioner/{doctor_id}": "FhirReadPractitionerFunction",
    "/fhir/Schedule/{doctor_id}": "FhirReadScheduleFunction",
    "/fhir/Schedule": "FhirSearchScheduleFunction",
    "/fhir/Slot": "FhirSearchSlotFunction",
    "/fhir/Appointment/{appointment_id}": "FhirReadAppointmentFunction",
    "/fhir/Appointment": "FhirSearchAppointmentFunction",
    "/fhir/Location/{location_id}": "FhirReadLocationFunction",
    "/fhir/Location": "FhirSearchLocationFunction",
    "/fhir/Device/{device_id}": "FhirReadDeviceFunction",
}


def fhir_event(
    resource: str,
    path: dict[str, str] | None = None,
    query: list[tuple[str, str]] | None = None,
    claims: dict[str, str] | None = STAFF,
    headers: dict[str, str] | None = None,
) -> dict:
    """A GET on a FHIR route, its query given as (name, value) pairs (names may repeat), from HOST."""
    event = event_for("GET", resource, path, claims=claims or STAFF)
    if claims is None:  # no token: the gateway passes no authorizer
        del event["requestContext"]["authorizer"]
    multi: dict[str, list[str]] = {}
    for name, value in query or []:
        multi.setdefault(name, []).append(value)
    event["multiValueQueryStringParameters"] = multi or None
    event["queryStringParameters"] = {k: v[-1] for k, v in multi.items()} or None
    event["headers"] = {**event["headers"], "Host": HOST, **(headers or {})}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    return event


@pytest.fixture
def get(invoke):
    def _get(resource: str, path=None, query=None, claims=STAFF, headers=None) -> dict:
        return invoke(FUNCTIONS[resource], fhir_event(resource, path, query, claims, headers))

    return _get


def valid(response: dict, validator, status: int = 200) -> dict:
    """A FHIR answer: the status, application/fhir+json, and a body the FHIR validator accepts."""
    assert response["statusCode"] == status, response
    assert response["headers"]["Content-Type"] == FHIR_JSON, response["headers"]
    validator.assert_valid(response["json"])
    return response["json"]


def outcome(response: dict, validator, status: int, code: str, issue: str) -> dict:
    """An error: an OperationOutcome with the native status, FHIR's issue type and the native stable code."""
    body = valid(response, validator, status)
    assert body["resourceType"] == "OperationOutcome", body
    assert "Traceback" not in response["body"] and "clinic-local" not in response["body"]
    for entry in body["issue"]:
        assert entry["severity"] == "error" and entry["code"] == issue, body
        assert entry["details"]["coding"] == [
            {"system": ERROR_CODE_SYSTEM, "code": code, "display": entry["details"]["text"]}
        ], body
        assert entry["diagnostics"]
    return body


def next_query(bundle: dict) -> list[tuple[str, str]] | None:
    """The query of a Bundle's link next (an absolute URL under BASE), or None."""
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    if "next" not in links:
        return None
    parts = urlsplit(links["next"])
    assert f"{parts.scheme}://{parts.netloc}" == f"http://{HOST}", links["next"]
    return parse_qsl(parts.query)


def ids(bundle: dict, kind: str = "Appointment") -> list[str]:
    return [
        e["resource"]["id"]
        for e in bundle.get("entry", [])
        if e["search"]["mode"] == "match" and e["resource"]["resourceType"] == kind
    ]


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def world(invoke):
    """Doctor D (a 30-minute type "long" with a 10-minute buffer after) and D2; patient P (phone, e-mail,
    a condition) and P2; P's appointments on `day` in every status, P2's one with D2."""

    def post(function, resource, body, path=None):
        response = invoke(function, event_for("POST", resource, path, body=body, claims=STAFF))
        assert response["statusCode"] in (200, 201), response
        return response["json"]

    def patch(appointment_id, body):
        response = invoke(
            "UpdateAppointmentFunction",
            event_for(
                "PATCH", "/appointments/{appointment_id}", {"appointment_id": appointment_id}, body=body, claims=STAFF
            ),
        )
        assert response["statusCode"] == 200, response

    w = {
        "D": post("CreateDoctorFunction", "/doctors", {**DOCTOR, "appointment_types": [LONG]})["id"],
        "D2": post("CreateDoctorFunction", "/doctors", {**DOCTOR, "family_name": "Other"})["id"],
        "P": post(
            "RegisterPatientFunction",
            "/patients",
            {**PATIENT, "phone": "+15550100001", "email": "pat@example.org", "conditions": ["asthma"]},
        )["id"],
        "P2": post("RegisterPatientFunction", "/patients", {**PATIENT, "given_name": "Other"})["id"],
        "day": days.monday(weeks_later=1),
    }

    def book(start, patient="P", doctor="D", **fields):
        body = {"patient_id": w[patient], "doctor_id": w[doctor], "start": at(w["day"], start), **fields}
        return post("BookAppointmentFunction", "/appointments", body)["id"]

    w["booked"] = book("09:00", reason="check-up\tplease")
    w["arrived"] = book("10:00")
    w["fulfilled"] = book("10:15")
    w["noshow"] = book("10:30")
    w["cancelled"] = book("10:45")
    w["long"] = book("13:00", appointment_type="long")
    w["other"] = book("09:00", patient="P2", doctor="D2")
    patch(w["arrived"], {"status": "arrived"})
    patch(w["fulfilled"], {"status": "arrived"})
    patch(w["fulfilled"], {"status": "fulfilled"})
    patch(w["noshow"], {"status": "noshow"})
    post(
        "CancelAppointmentFunction",
        "/appointments/{appointment_id}/cancel",
        {"reason": "feeling better"},
        {"appointment_id": w["cancelled"]},
    )
    return w


def audit_records(aws, action: str) -> list[dict]:
    table = next(n for n in aws.list_tables()["TableNames"] if n.endswith("AuditTable"))
    items = aws.scan(TableName=table)["Items"]
    return [{k: next(iter(v.values())) for k, v in i.items()} for i in items if i["action"]["S"] == action]


# ---------------------------------------------------------------------------- metadata
def test_the_capability_statement_lists_exactly_what_the_routes_serve(get, fhir_validator):
    from clinic import routes
    from clinic.services.fhir import SEARCHES
    from clinic.services.fhir_operations import OPERATIONS

    response = get("/fhir/metadata", claims=None)  # no token needed
    statement = valid(response, fhir_validator)
    assert statement["kind"] == "instance" and statement["fhirVersion"] == "4.0.1"
    assert "json" in statement["format"] and statement["implementation"]["url"] == BASE
    (rest,) = statement["rest"]
    assert rest["mode"] == "server" and rest["security"]["service"][0]["coding"][0]["code"] == "OAuth"
    served: dict[str, set[str]] = {}
    operated: dict[str, set[str]] = {}
    for route in routes.ROUTES:
        parts = route.path.split("/")
        if parts[1] == "fhir" and parts[2] != "metadata":
            if route.method == "POST":  # the operations' route (clinic.services.fhir_operations)
                operated[parts[2]] = {name.lstrip("$") for name in OPERATIONS}
                continue
            served.setdefault(parts[2], set()).add("read" if len(parts) == 4 else "search-type")
    assert {r["type"]: {i["code"] for i in r["interaction"]} for r in rest["resource"]} == served
    for resource in rest["resource"]:
        names = {p["name"] for p in resource.get("searchParam", [])}
        assert names == set(SEARCHES.get(resource["type"], ())) - {"_page_token"}, resource["type"]
    # the operations, each with the IHE ITI Scheduling OperationDefinition it implements
    assert {r["type"]: {o["name"] for o in r.get("operation", [])} for r in rest["resource"] if "operation" in r} == (
        operated
    )
    (appointment,) = [r for r in rest["resource"] if r["type"] == "Appointment"]
    assert {o["name"]: o["definition"] for o in appointment["operation"]} == {
        name: f"https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-{name}"
        for name in ("find", "hold", "book")
    }


def test_the_base_url_on_api_gateways_own_domain_holds_the_stage(get, fhir_validator):
    host = "abc123.execute-api.us-east-1.amazonaws.com"
    event_headers = {"Host": host, "X-Forwarded-Proto": "https"}
    statement = valid(get("/fhir/metadata", claims=None, headers=event_headers), fhir_validator)
    assert statement["implementation"]["url"] == f"https://{host}/dev/fhir"


# ---------------------------------------------------------------------------- reads
def test_a_patient_maps_to_a_fhir_patient_without_conditions_with_the_native_access_and_audit(
    get, world, aws, fhir_validator
):
    patient = valid(get("/fhir/Patient/{patient_id}", {"patient_id": world["P"]}), fhir_validator)
    assert patient["resourceType"] == "Patient" and patient["id"] == world["P"]
    assert patient["name"] == [{"use": "official", "family": PATIENT["family_name"], "given": [PATIENT["given_name"]]}]
    assert (patient["gender"], patient["birthDate"], patient["active"]) == ("other", PATIENT["birth_date"], True)
    assert patient["telecom"] == [
        {"system": "phone", "value": "+15550100001"},
        {"system": "email", "value": "pat@example.org"},
    ]
    assert "asthma" not in json.dumps(patient)  # conditions have no place in Patient
    assert patient["meta"]["lastUpdated"].endswith("Z")
    bare = valid(get("/fhir/Patient/{patient_id}", {"patient_id": world["P2"]}), fhir_validator)
    assert "telecom" not in bare
    # the access and audit of GET /patients/{patient_id}
    read = {"patient_id": world["P"]}
    valid(get("/fhir/Patient/{patient_id}", read, claims=patient_claims(world["P"])), fhir_validator)
    valid(get("/fhir/Patient/{patient_id}", read, claims=doctor_claims(world["D"])), fhir_validator)  # linked
    outcome(
        get("/fhir/Patient/{patient_id}", read, claims=patient_claims(world["P2"])),
        fhir_validator,
        404,
        "NOT_FOUND",
        "not-found",
    )
    outcome(
        get("/fhir/Patient/{patient_id}", read, claims=doctor_claims(world["D2"])),
        fhir_validator,
        404,
        "NOT_FOUND",
        "not-found",
    )
    outcome(get("/fhir/Patient/{patient_id}", read, claims=NOBODY), fhir_validator, 403, "FORBIDDEN", "forbidden")
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        outcome(
            get("/fhir/Patient/{patient_id}", {"patient_id": unknown}), fhir_validator, 404, "NOT_FOUND", "not-found"
        )
    trail = [r for r in audit_records(aws, "fhir.patient.read") if r["subject"] == f"patient#{world['P']}"]
    assert sorted((r["outcome"], int(r["status"])) for r in trail) == [
        ("allowed", 200),
        ("allowed", 200),
        ("allowed", 200),
        ("denied", 403),
        ("denied", 404),
        ("denied", 404),
    ]


def test_a_doctor_maps_to_a_practitioner_and_a_schedule_searched_by_actor(get, world, fhir_validator):
    practitioner = valid(
        get("/fhir/Practitioner/{doctor_id}", {"doctor_id": world["D"]}, claims=patient_claims(world["P2"])),
        fhir_validator,
    )
    assert practitioner["name"][0]["family"] == DOCTOR["family_name"] and practitioner["active"] is True
    assert practitioner["qualification"] == [{"code": {"text": DOCTOR["specialty"]}}]
    schedule = valid(get("/fhir/Schedule/{doctor_id}", {"doctor_id": world["D"]}, claims=NOBODY), fhir_validator)
    assert schedule["id"] == world["D"] and schedule["active"] is True
    assert schedule["actor"][0]["reference"] == f"Practitioner/{world['D']}"
    assert schedule["specialty"] == [{"text": DOCTOR["specialty"]}]
    assert schedule["serviceType"][0]["coding"][0]["code"] == "long"
    assert "America/New_York" in schedule["comment"]
    for route, key in (("/fhir/Practitioner/{doctor_id}", "doctor_id"), ("/fhir/Schedule/{doctor_id}", "doctor_id")):
        outcome(get(route, {key: str(uuid.uuid4())}), fhir_validator, 404, "NOT_FOUND", "not-found")
    # Schedules are searched by actor
    bundle = valid(
        get("/fhir/Schedule", query=[("actor", f"Practitioner/{world['D2']}")], claims=NOBODY), fhir_validator
    )
    assert bundle["type"] == "searchset" and bundle["total"] == 1 and ids(bundle, "Schedule") == [world["D2"]]
    assert bundle["entry"][0]["fullUrl"] == f"{BASE}/Schedule/{world['D2']}"
    assert bundle["link"] == [{"relation": "self", "url": f"{BASE}/Schedule?actor=Practitioner/{world['D2']}"}]
    bare = valid(get("/fhir/Schedule", query=[("actor", world["D2"])]), fhir_validator)  # a bare id works too
    assert ids(bare, "Schedule") == [world["D2"]]
    outcome(
        get("/fhir/Schedule", query=[("actor", f"Practitioner/{uuid.uuid4()}")]),
        fhir_validator,
        404,
        "NOT_FOUND",
        "not-found",
    )
    outcome(
        get("/fhir/Schedule", query=[("actor", f"Patient/{world['P']}")]),
        fhir_validator,
        422,
        "VALIDATION_ERROR",
        "invalid",
    )
    outcome(get("/fhir/Schedule", query=[]), fhir_validator, 422, "VALIDATION_ERROR", "invalid")


def test_appointments_map_one_to_one_with_start_end_cancelation_reason_and_the_native_access(
    get, world, aws, fhir_validator, caplog
):
    from clinic.observability import logger

    caplog.clear()
    seen = {}
    for status in ("booked", "arrived", "fulfilled", "noshow", "cancelled"):
        appointment = valid(
            get("/fhir/Appointment/{appointment_id}", {"appointment_id": world[status]}), fhir_validator
        )
        seen[status] = appointment
        assert appointment["status"] == status
        assert appointment["start"].endswith(":00Z") and appointment["end"].endswith(":00Z")  # seconds, UTC
        assert instant(appointment["end"]) - instant(appointment["start"]) == timedelta(minutes=15)
        assert appointment["minutesDuration"] == 15
        assert appointment["participant"] == [
            {"actor": {"reference": f"Patient/{world['P']}"}, "required": "required", "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{world['D']}"}, "required": "required", "status": "accepted"},
        ]
        assert ("cancelationReason" in appointment) == (status == "cancelled")
    assert instant(seen["booked"]["start"]) == datetime.fromisoformat(at(world["day"], "09:00"))
    assert seen["cancelled"]["cancelationReason"] == {"text": "feeling better"}
    assert seen["booked"]["reasonCode"] == [{"text": "check-up\tplease"}]  # for callers allowed to read it …
    logged = [logger.registered_formatter.format(r) for r in caplog.records]  # the JSON lines CloudWatch gets
    assert any("request handled" in line for line in logged)
    assert not any("check-up" in line for line in logged)  # … and never in a log line
    typed = valid(get("/fhir/Appointment/{appointment_id}", {"appointment_id": world["long"]}), fhir_validator)
    assert typed["minutesDuration"] == 30 and typed["serviceType"][0]["coding"][0]["code"] == "long"
    # the access and audit of GET /appointments/{appointment_id}
    read = {"appointment_id": world["booked"]}
    for claims in (patient_claims(world["P"]), doctor_claims(world["D"])):
        valid(get("/fhir/Appointment/{appointment_id}", read, claims=claims), fhir_validator)
    for claims in (patient_claims(world["P2"]), doctor_claims(world["D2"])):
        outcome(
            get("/fhir/Appointment/{appointment_id}", read, claims=claims),
            fhir_validator,
            404,
            "NOT_FOUND",
            "not-found",
        )
    outcome(
        get("/fhir/Appointment/{appointment_id}", read, claims=NOBODY), fhir_validator, 403, "FORBIDDEN", "forbidden"
    )
    trail = [r for r in audit_records(aws, "fhir.appointment.read") if r["subject"] == f"patient#{world['P']}"]
    assert sorted(r["outcome"] for r in trail) == ["allowed"] * 8 + ["denied"] * 2  # not nobody's 403:
    # the route refused it before the appointment (and so its patient) was looked up
    assert {r["appointment_id"] for r in trail if r["outcome"] == "denied"} == {world["booked"]}


# ---------------------------------------------------------------------------- Appointment search
def test_a_patients_appointments_page_by_link_next_with_a_token_bound_to_the_query(get, world, aws, fhir_validator):
    query = [("patient", f"Patient/{world['P']}"), ("_count", "2")]
    pages, bundles = [], []
    while query is not None:
        bundle = valid(get("/fhir/Appointment", query=query, claims=patient_claims(world["P"])), fhir_validator)
        bundles.append(bundle)
        pages.append(ids(bundle))
        query = next_query(bundle)
    assert [len(p) for p in pages] == [2, 2, 2]
    every = ["booked", "arrived", "fulfilled", "noshow", "cancelled", "long"]  # every status, by start
    assert [i for page in pages for i in page] == [world[k] for k in every]
    assert all("total" not in b for b in bundles)  # paging: the total is not known for free
    token = dict(next_query(bundles[0]))["_page_token"]
    assert world["P"] not in token and "start_at" not in token  # opaque
    assert bundles[1]["link"][0]["url"].startswith(f"{BASE}/Appointment?patient=Patient/{world['P']}&_count=2")
    one_page = valid(get("/fhir/Appointment", query=[("patient", world["P"])]), fhir_validator)
    assert one_page["total"] == 6 and len(ids(one_page)) == 6
    trail = [r for r in audit_records(aws, "fhir.appointment.search") if r["subject"] == f"patient#{world['P']}"]
    assert len(trail) == 4 and {r["outcome"] for r in trail} == {"allowed"}
    # the token is bound to its query, and tamper-evident
    other = [
        ("patient", f"Patient/{world['P']}"),
        ("date", f"ge{world['day']}"),
        ("_count", "2"),
        ("_page_token", token),
    ]
    outcome(get("/fhir/Appointment", query=other), fhir_validator, 422, "VALIDATION_ERROR", "invalid")
    tampered = [
        ("patient", f"Patient/{world['P']}"),
        ("_count", "2"),
        ("_page_token", token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")),
    ]
    body = outcome(get("/fhir/Appointment", query=tampered), fhir_validator, 422, "VALIDATION_ERROR", "invalid")
    assert body["issue"][0]["diagnostics"] == "_page_token: _page_token is not valid for this request"


def test_date_prefixes_bound_the_start(get, world, fhir_validator):
    def found(*dates):
        query = [("patient", f"Patient/{world['P']}"), *[("date", d) for d in dates]]
        return ids(valid(get("/fhir/Appointment", query=query), fhir_validator))

    day = world["day"]
    assert found(f"ge{at(day, '10:00')}", f"lt{at(day, '10:30')}") == [world["arrived"], world["fulfilled"]]
    assert found(f"gt{at(day, '10:00')}", f"le{at(day, '10:30')}") == [world["fulfilled"], world["noshow"]]
    assert found(f"sa{at(day, '10:00')}", f"eb{at(day, '10:30')}") == [world["fulfilled"]]
    assert found(at(day, "10:15")) == [world["fulfilled"]]  # no prefix: eq, at the value's precision (a second)
    assert len(found(day.isoformat())) == 6  # a day (UTC): the appointments are 14:00-18:00Z
    assert len(found(f"eq{day.isoformat()[:7]}")) == 6  # a month
    assert found(f"ge{(day + timedelta(days=1)).isoformat()}") == []
    utc = datetime.fromisoformat(at(day, "13:00")).astimezone(UTC)
    assert found(f"ge{utc.strftime('%Y-%m-%dT%H:%MZ')}") == [world["long"]]  # minutes precision, Z


BAD_APPOINTMENT_SEARCHES = [
    ([("_count", "0")], "_count"),
    ([("_count", "101")], "_count"),
    ([("_count", "ten")], "_count"),
    ([("date", "2026-12-01T10:00:00")], "date"),  # a time without an offset
    ([("date", "ne2026-12-01")], "date"),  # an unsupported prefix
    ([("date", "2026-02-30")], "date"),  # no such day
    ([("date", "ge2026-12-02"), ("date", "lt2026-12-01")], "date"),  # an empty window
    ([("_page_token", "not-a-token")], "_page_token"),
    ([("practitioner", "Practitioner/x")], "patient"),  # both patient and practitioner
    ([("patient", "Patient/x")], "patient"),  # twice
]


def test_appointment_search_by_patient_has_the_native_access_audit_and_errors(get, world, aws, fhir_validator):
    mine = [("patient", f"Patient/{world['P']}")]
    outcome(
        get("/fhir/Appointment", query=mine, claims=patient_claims(world["P2"])),
        fhir_validator,
        404,
        "NOT_FOUND",
        "not-found",
    )
    outcome(
        get("/fhir/Appointment", query=mine, claims=doctor_claims(world["D"])),
        fhir_validator,
        403,
        "FORBIDDEN",
        "forbidden",
    )
    outcome(get("/fhir/Appointment", query=mine, claims=NOBODY), fhir_validator, 403, "FORBIDDEN", "forbidden")
    outcome(
        get("/fhir/Appointment", query=[("patient", f"Patient/{uuid.uuid4()}")]),
        fhir_validator,
        404,
        "NOT_FOUND",
        "not-found",
    )
    trail = [r for r in audit_records(aws, "fhir.appointment.search") if r["subject"] == f"patient#{world['P']}"]
    assert sorted((r["outcome"], int(r["status"])) for r in trail) == [("denied", 403), ("denied", 404)]
    # the route's role check (nobody) runs before any record is named: on no patient's trail
    refused = audit_records(aws, "fhir.appointment.search")
    assert any(r["subject"] == "none" and int(r["status"]) == 403 for r in refused)
    for query, field in BAD_APPOINTMENT_SEARCHES:
        body = outcome(
            get("/fhir/Appointment", query=[*mine, *query]), fhir_validator, 422, "VALIDATION_ERROR", "invalid"
        )
        assert body["issue"][0]["diagnostics"].startswith(f"{field}: "), (query, body)
    outcome(
        get("/fhir/Appointment", query=[("date", "ge2026-12-01")]), fhir_validator, 422, "VALIDATION_ERROR", "invalid"
    )  # neither patient nor practitioner


def test_a_doctors_appointments_are_the_schedule_without_cancelled(get, world, fhir_validator):
    window = [("date", f"ge{world['day']}"), ("date", f"lt{world['day'] + timedelta(days=1)}")]
    query = [("practitioner", f"Practitioner/{world['D']}"), *window]
    bundle = valid(get("/fhir/Appointment", query=query, claims=doctor_claims(world["D"])), fhir_validator)
    assert ids(bundle) == [world[k] for k in ("booked", "arrived", "fulfilled", "noshow", "long")]
    assert bundle["total"] == 5
    outcome(
        get("/fhir/Appointment", query=query, claims=doctor_claims(world["D2"])),
        fhir_validator,
        403,
        "FORBIDDEN",
        "forbidden",
    )  # another doctor's: decided from the token, like the native schedule
    outcome(
        get("/fhir/Appointment", query=query, claims=patient_claims(world["P"])),
        fhir_validator,
        403,
        "FORBIDDEN",
        "forbidden",
    )
    outcome(get("/fhir/Appointment", query=query[:2]), fhir_validator, 422, "VALIDATION_ERROR", "invalid")
    too_long = [query[0], ("date", f"ge{world['day']}"), ("date", f"lt{world['day'] + timedelta(days=32)}")]
    body = outcome(get("/fhir/Appointment", query=too_long), fhir_validator, 422, "VALIDATION_ERROR", "invalid")
    assert body["issue"][0]["diagnostics"].startswith("date: ")
    unknown = [("practitioner", f"Practitioner/{uuid.uuid4()}"), *window]
    outcome(get("/fhir/Appointment", query=unknown), fhir_validator, 404, "NOT_FOUND", "not-found")


# ---------------------------------------------------------------------------- Slot search
def native_slots(invoke, doctor_id, start, end, type_code=None):
    query = {"from": start, "to": end, **({"appointment_type": type_code} if type_code else {})}
    response = invoke(
        "DoctorAvailabilityFunction",
        event_for("GET", "/doctors/{doctor_id}/availability", {"doctor_id": doctor_id}, query=query, claims=STAFF),
    )
    assert response["statusCode"] == 200, response
    return [(s["start"], s["end"]) for s in response["json"]["slots"]]


def slots(bundle):
    return [
        (e["resource"]["start"], e["resource"]["end"])
        for e in bundle.get("entry", [])
        if e["search"]["mode"] == "match"
    ]


BAD_SLOT_SEARCHES = [
    ([("start", "ge2026-12-01")], "start"),  # no upper bound
    ([("start", "ge2026-12-01"), ("start", "lt2026-12-16")], "start"),  # over 14 days
    ([("start", "ge2026-12-01"), ("start", "lt2026-12-02"), ("schedule", "Schedule/x")], "schedule"),  # twice
    ([("start", "ge2026-12-01"), ("start", "lt2026-12-02"), ("status", "open")], "status"),
    ([("start", "ge2026-12-01"), ("start", "lt2026-12-02"), ("_count", "-1")], "_count"),
]


def test_free_slots_are_the_native_availability(get, invoke, world, fhir_validator):
    day, d = world["day"], world["D"]
    start, end = at(day, "00:00"), at(day + timedelta(days=1), "00:00")
    query = [("schedule", f"Schedule/{d}"), ("start", f"ge{start}"), ("start", f"lt{end}"), ("_count", "100")]
    bundle = valid(get("/fhir/Slot", query=query, claims=patient_claims(world["P2"])), fhir_validator)
    expected = native_slots(invoke, d, start, end)
    assert slots(bundle) == expected and bundle["total"] == len(expected) and expected
    assert datetime.fromisoformat(at(day, "09:00")) not in {instant(s) for s, _ in slots(bundle)}  # booked
    first = bundle["entry"][0]["resource"]
    assert first["status"] == "free" and first["schedule"] == {"reference": f"Schedule/{d}"}
    assert first["start"].endswith(":00Z") and bundle["entry"][0]["fullUrl"] == f"{BASE}/Slot/{first['id']}"
    # status=free is what there is; any other status matches nothing
    assert slots(valid(get("/fhir/Slot", query=[*query, ("status", "free")]), fhir_validator)) == expected
    assert "entry" not in valid(get("/fhir/Slot", query=[*query, ("status", "busy")]), fhir_validator)
    # a type: slots of its length, its buffers free, starting before the upper bound even if they end after it
    window = [("schedule", f"Schedule/{d}"), ("start", f"ge{at(day, '15:00')}"), ("start", f"lt{at(day, '16:00')}")]
    typed = valid(get("/fhir/Slot", query=[*window, ("service-type", "long")]), fhir_validator)
    starts = [instant(s).astimezone(NY).strftime("%H:%M") for s, _ in slots(typed)]
    assert starts == ["15:00", "15:15", "15:30", "15:45"]
    assert [s for s, _ in native_slots(invoke, d, at(day, "15:00"), at(day, "16:00"), "long")] == [
        s for s, _ in slots(typed)
    ][:3]  # the native window holds only what ends inside it
    assert typed["entry"][0]["resource"]["serviceType"][0]["coding"][0]["code"] == "long"
    # errors
    outcome(
        get("/fhir/Slot", query=[*window, ("service-type", "nope")]), fhir_validator, 422, "VALIDATION_ERROR", "invalid"
    )
    for bad, field in BAD_SLOT_SEARCHES:
        body = outcome(
            get("/fhir/Slot", query=[("schedule", f"Schedule/{d}"), *bad]),
            fhir_validator,
            422,
            "VALIDATION_ERROR",
            "invalid",
        )
        assert body["issue"][0]["diagnostics"].startswith(f"{field}: "), (bad, body)
    unknown = [("schedule", f"Schedule/{uuid.uuid4()}"), ("start", "ge2030-01-07"), ("start", "lt2030-01-08")]
    outcome(get("/fhir/Slot", query=unknown), fhir_validator, 404, "NOT_FOUND", "not-found")


def test_slots_over_fourteen_days_page_by_link_next_and_reach_past_the_upper_bound(get, invoke, world, fhir_validator):
    d, lower = world["D"], datetime.fromisoformat(at(world["day"], "00:00"))
    upper = lower + timedelta(days=14)

    def every_page(query):
        found, pages = [], []
        while query is not None:
            bundle = valid(get("/fhir/Slot", query=query), fhir_validator)
            found += slots(bundle)
            pages.append(bundle)
            query = next_query(bundle)
        return found, pages

    query = [
        ("schedule", f"Schedule/{d}"),
        ("start", f"ge{lower.isoformat()}"),
        ("start", f"lt{upper.isoformat()}"),
        ("_count", "100"),
    ]
    found, pages = every_page(query)
    middle = lower + timedelta(days=7)
    expected = native_slots(invoke, d, lower.isoformat(), middle.isoformat()) + native_slots(
        invoke, d, middle.isoformat(), upper.isoformat()
    )
    assert found == expected and len(pages) == -(-len(expected) // 100) > 1
    assert pages[0]["total"] == len(expected)
    # 14 days from 11:50: the last 30-minute slot starts at 11:30 before the upper bound and ends after it
    lower = datetime.fromisoformat(at(world["day"], "11:50"))
    upper = lower + timedelta(days=14)
    query = [
        ("schedule", f"Schedule/{d}"),
        ("start", f"ge{lower.isoformat()}"),
        ("start", f"lt{upper.isoformat()}"),
        ("service-type", "long"),
        ("_count", "100"),
    ]
    found, pages = every_page(query)
    assert instant(found[-1][0]) < upper < instant(found[-1][1])
    assert len(found) == len(set(found)) == pages[0]["total"]


# ---------------------------------------------------------------------------- unknown parameters
def test_unknown_parameters_are_ignored_with_a_warning_or_refused_when_strict(get, world, fhir_validator):
    query = [("patient", f"Patient/{world['P']}"), ("_sort", "-date"), ("date:missing", "false"), ("foo", "bar")]
    bundle = valid(get("/fhir/Appointment", query=query), fhir_validator)
    assert len(ids(bundle)) == 6  # the search ran as if they were not there
    (warning,) = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    issues = warning["resource"]["issue"]
    assert {i["severity"] for i in issues} == {"warning"} and {i["code"] for i in issues} == {"not-supported"}
    assert [i["diagnostics"].split()[2] for i in issues] == ["_sort", "date:missing", "foo"]
    assert bundle["link"][0]["url"] == f"{BASE}/Appointment?patient=Patient/{world['P']}"  # as understood
    strict = {"Prefer": "return=representation, handling=strict"}
    body = valid(get("/fhir/Appointment", query=query, headers=strict), fhir_validator, 400)
    assert body["resourceType"] == "OperationOutcome" and {i["code"] for i in body["issue"]} == {"not-supported"}
    assert body["issue"][0]["details"]["coding"][0]["code"] == "VALIDATION_ERROR"
    assert "bar" not in json.dumps(body)  # names are quoted back, values never
    lenient = valid(
        get(
            "/fhir/Slot",
            query=[("schedule", f"Schedule/{world['D']}"), ("start", f"eq{world['day']}"), ("identifier", "x")],
            headers={"Prefer": "handling=lenient"},
        ),
        fhir_validator,
    )
    assert lenient["entry"][-1]["search"]["mode"] == "outcome"
    strict_ok = valid(get("/fhir/Schedule", query=[("actor", world["D"])], headers=strict), fhir_validator)
    assert ids(strict_ok, "Schedule") == [world["D"]]  # strict with known parameters only: a normal answer


# ---------------------------------------------------------------------------- errors
def test_a_storage_fault_is_a_503_operation_outcome_and_native_routes_keep_problem_json(
    get, invoke, fhir_validator, monkeypatch
):
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

    native = invoke("GetDoctorFunction", event_for("GET", "/doctors/{doctor_id}", {"doctor_id": str(uuid.uuid4())}))
    assert native["statusCode"] == 404 and native["headers"]["Content-Type"] == "application/problem+json"
    assert native["json"]["code"] == "NOT_FOUND"

    def throttled(client, operation, params):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, operation)

    monkeypatch.setattr(BaseClient, "_make_api_call", throttled)
    response = get("/fhir/Practitioner/{doctor_id}", {"doctor_id": str(uuid.uuid4())})
    outcome(response, fhir_validator, 503, "SERVICE_UNAVAILABLE", "transient")
    assert response["headers"]["Retry-After"] == "1" and response["headers"]["X-Request-Id"]
