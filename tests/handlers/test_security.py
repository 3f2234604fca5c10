"""The security issue's items, proven at the handler level (each function invoked in-process on API
Gateway events against moto), one moto world for the module (tests/handlers/shared_world.py):

1. audit records come only from trusted sources (the path, and what the services marked), never from
   a request body;
4. building an audit record can never fail silently;
5. identity claims are read exactly;
6. a doctor's access to a patient ends with the last appointment linking them, and with the doctor's
   deactivation; the doctor's search costs one Query of the doctor's links;
7. configuration fails closed, and the template never holds the pagination secret in plain text.

(Item 2, hostile input, and item 3, its property test, are tests/handlers/test_hostile_input.py.)

Each test's docstring says what the v1 code (commit 280d38c) did instead.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections import Counter

import pytest

from local_stack import template as tpl
from tests import days
from tests.claims import PATIENT_ISSUER, WORKFORCE_ISSUER, claims_of
from tests.days import at
from tests.handlers.conftest import event_for
from tests.handlers.shared_world import audit_records, forget_audit_records, module_world, new_sub, request_id
from tests.handlers.test_appointments import DOCTOR, PATIENT

STAFF = claims_of("staff", sub="security-staff")


def as_patient(patient_id: str) -> dict[str, str]:
    return claims_of("patient", patient_id, sub=new_sub("patient"))


def as_doctor(doctor_id: str) -> dict[str, str]:
    return claims_of("doctor", doctor_id, sub=new_sub("doctor"))


@pytest.fixture(scope="module")
def _world_and_invoker():
    with module_world() as (client, invoker):
        yield client, invoker


@pytest.fixture(scope="module")
def aws(_world_and_invoker):
    return _world_and_invoker[0]


@pytest.fixture(scope="module")
def invoke(_world_and_invoker):
    return _world_and_invoker[1]


@pytest.fixture(autouse=True)
def _fresh_audit_table(aws):
    """Each test starts with an empty audit table (moto copies every table in full for each transaction, so
    a trail that grows over the module slows every booking); each test looks only at its own requests."""
    forget_audit_records()


def create(invoke, function: str, resource: str, body: dict, path: dict | None = None) -> str:
    response = invoke(function, event_for("POST", resource, path, body=body, claims=STAFF))
    assert response["statusCode"] == 201, response
    return response["json"]["id"]


@pytest.fixture(scope="module")
def world(invoke):
    w = {
        "D1": create(invoke, "CreateDoctorFunction", "/doctors", DOCTOR),
        "P1": create(invoke, "RegisterPatientFunction", "/patients", PATIENT),
        "day": days.monday(weeks_later=1),
    }
    w["A1"] = create(
        invoke,
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": w["P1"], "doctor_id": w["D1"], "start": at(w["day"], "09:00")},
    )
    return w


@pytest.fixture
def victim(invoke):
    """A patient of their own for each test, whose trail starts with their registration."""
    return create(invoke, "RegisterPatientFunction", "/patients", {**PATIENT, "given_name": "Victim"})


def trail(invoke, patient_id: str) -> list[dict]:
    """GET /patients/{id}/access-log as staff, every page."""
    items, token = [], None
    while True:
        query = {"limit": "100", **({"next_token": token} if token else {})}
        response = invoke(
            "PatientAccessLogFunction",
            event_for(
                "GET", "/patients/{patient_id}/access-log", {"patient_id": patient_id}, query=query, claims=STAFF
            ),
        )
        assert response["statusCode"] == 200, response
        items += response["json"]["items"]
        token = response["json"]["next_token"]
        if not token:
            return items


def assert_not_on_trail(invoke, aws, patient_id: str, *events: dict) -> None:
    """Neither the audit table (scanned) nor the patient's access log holds a record of these requests
    on this patient."""
    ids = {request_id(e) for e in events}
    scanned = [r for r in audit_records(aws) if r["request_id"] in ids]
    assert scanned, "every one of these requests is audited"
    assert not [r for r in scanned if r["patient_id"] == patient_id or r["subject"] == f"patient#{patient_id}"]
    assert not [r for r in trail(invoke, patient_id) if r["request_id"] in ids]


# ------------------------------------------------------------------------------------------------ 1
def test_a_patient_reading_their_own_record_with_another_patients_id_in_the_body_touches_only_their_own_trail(
    invoke, aws, world, victim
):
    """Given P1 reading GET /patients/{P1} with the body {"patient_id": <victim>} (GET takes no body, but
    nothing stops a client from sending one), then the read is on P1's trail and nothing is on the
    victim's. v1 read patient ids out of every request body (audit.patients_touched) and wrote the
    read onto the victim's trail as well."""
    read = event_for(
        "GET",
        "/patients/{patient_id}",
        {"patient_id": world["P1"]},
        body={"patient_id": victim},
        claims=as_patient(world["P1"]),
    )
    response = invoke("GetPatientFunction", read)
    assert response["statusCode"] == 200 and response["json"]["id"] == world["P1"]
    assert_not_on_trail(invoke, aws, victim, read)
    (own,) = [r for r in trail(invoke, world["P1"]) if r["request_id"] == request_id(read)]
    assert (own["action"], own["outcome"], own["actor_role"]) == ("patient.read", "allowed", "patients")


@pytest.mark.parametrize(
    "function, method, resource, path_of, body_of",
    [
        (
            "BookAppointmentFunction",
            "POST",
            "/appointments",
            None,
            lambda w, v: {"patient_id": v, "doctor_id": w["D1"], "start": at(w["day"], "10:00")},
        ),
        (
            "BookSeriesFunction",
            "POST",
            "/appointment-series",
            None,
            lambda w, v: {
                "patient_id": v,
                "doctor_id": w["D1"],
                "start": at(w["day"], "10:00"),
                "repeat": {"every_weeks": 1, "count": 2},
            },
        ),
        (
            "SearchPatientsFunction",
            "POST",
            "/patients/search",
            None,
            lambda w, v: {"family_name_prefix": "ie", "patient_id": v},
        ),
        ("RegisterPatientFunction", "POST", "/patients", None, lambda w, v: {**PATIENT, "id": v, "patient_id": v}),
        (
            "CancelAppointmentFunction",
            "POST",
            "/appointments/{appointment_id}/cancel",
            lambda w: {"appointment_id": str(uuid.uuid4())},
            lambda w, v: {"reason": "x", "patient_id": v},
        ),
        ("ListPatientsFunction", "GET", "/patients", None, lambda w, v: {"patient_id": v}),
    ],
)
def test_a_caller_in_no_group_naming_a_patient_in_the_body_is_recorded_under_none(
    invoke, aws, world, victim, function, method, resource, path_of, body_of
):
    """Given a signed-in user in no group, when they send bodies naming the victim to every kind of
    audited route, then each attempt is refused (403) and recorded under subject ``none`` with role
    ``none`` — and nothing is on the victim's trail. v1 took the body's ``patient_id`` as a patient
    touched and put each attempt on the victim's trail (probed for the booking), so anyone with a token
    could write onto any patient's history."""
    request = event_for(
        method,
        resource,
        path_of(world) if path_of else None,
        body=body_of(world, victim),
        claims={"sub": new_sub("nobody")},
    )
    response = invoke(function, request)
    assert response["statusCode"] == 403 and response["json"]["code"] == "FORBIDDEN"
    records = audit_records(aws, request_id(request))
    assert [(r["subject"], r["patient_id"], r["actor_role"], r["outcome"], r["status"]) for r in records] == [
        ("none", "none", "none", "denied", "403")
    ]
    assert_not_on_trail(invoke, aws, victim, request)


def test_a_patient_booking_for_someone_else_leaves_no_record_on_that_someones_trail(invoke, aws, world, victim):
    """Given P1 booking (one appointment, then a series) for the victim, then each is 403 and recorded
    as P1's denied attempt under ``none``, nothing on the victim's trail, nothing booked. v1 wrote the
    attempt onto the victim's trail (the body's patient_id)."""
    requests = []
    for function, resource, extra in (
        ("BookAppointmentFunction", "/appointments", {}),
        ("BookSeriesFunction", "/appointment-series", {"repeat": {"every_weeks": 1, "count": 2}}),
    ):
        request = event_for(
            "POST",
            resource,
            body={"patient_id": victim, "doctor_id": world["D1"], "start": at(world["day"], "11:00"), **extra},
            claims=as_patient(world["P1"]),
        )
        response = invoke(function, request)
        assert response["statusCode"] == 403 and response["json"]["code"] == "FORBIDDEN", response
        (record,) = audit_records(aws, request_id(request))
        assert (record["subject"], record["actor_role"], record["outcome"]) == ("none", "patients", "denied")
        requests.append(request)
    assert_not_on_trail(invoke, aws, victim, *requests)
    listed = invoke(
        "PatientAppointmentsFunction",
        event_for("GET", "/patients/{patient_id}/appointments", {"patient_id": victim}, claims=STAFF),
    )
    assert listed["json"]["items"] == []


def test_a_staff_booking_names_the_patient_it_acted_for(invoke, aws, world, victim):
    """The counterpart (trusted source: the service marks the patient once the caller may act for
    them): staff booking for the victim is on the victim's trail, allowed, with the appointment id."""
    request = event_for(
        "POST",
        "/appointments",
        body={"patient_id": victim, "doctor_id": world["D1"], "start": at(world["day"], "11:30")},
        claims=STAFF,
    )
    response = invoke("BookAppointmentFunction", request)
    assert response["statusCode"] == 201, response
    (record,) = [r for r in trail(invoke, victim) if r["request_id"] == request_id(request)]
    assert (record["action"], record["outcome"], record["appointment_id"]) == (
        "appointment.book",
        "allowed",
        response["json"]["id"],
    )


def test_the_fast_snapshot_sees_what_the_scanning_one_sees(invoke, aws, world):
    """shared_world.snapshot reads moto's memory (the property test takes hundreds); it holds the same
    tables and items as helpers.snapshot's Scans, and a write changes both."""
    from tests.handlers import helpers, shared_world

    def counts(snap):
        return {name: len(items) for name, items in snap.items()}

    before, scanned = shared_world.snapshot(), helpers.snapshot(aws)
    assert counts(before) == counts(scanned) and sum(counts(before).values()) > 0
    create(invoke, "RegisterPatientFunction", "/patients", {**PATIENT, "given_name": "Snap"})
    after = shared_world.snapshot()
    assert after != before and counts(after) == counts(helpers.snapshot(aws)) != counts(scanned)


# ------------------------------------------------------------------------------------------------ 4
def _builder_fails(monkeypatch):
    from clinic import audit

    counted = []

    def broken(*_args, **_kwargs):
        raise KeyError("a bug while building the records")

    real_count = audit.count
    monkeypatch.setattr(audit, "build_records", broken)
    monkeypatch.setattr(audit, "count", lambda name, **d: (counted.append(name), real_count(name, **d)))
    return counted


@pytest.mark.parametrize(
    "claims_of, status, outcome, role",
    [
        (lambda w: STAFF, 200, "allowed", "staff"),
        (lambda w: as_patient(str(uuid.uuid4())), 404, "failed", "patients"),
        (lambda w: {"sub": "someone-in-no-group"}, 403, "denied", "none"),
    ],
)
def test_when_building_the_records_fails_a_minimal_record_is_still_written_and_counted(
    invoke, aws, world, monkeypatch, claims_of, status, outcome, role
):
    """Given a bug in the record builder, when anyone reads a patient (allowed, hidden or refused),
    then the answer is still given, a minimal record (route, actor, outcome, marked incomplete) is
    written, and AuditWriteFailed is counted. v1 only caught storage errors around the audit write:
    the builder's exception escaped the handler (an invocation error, API Gateway's 502) and no
    record was written at all.

    (A hidden record reads "failed" here, not "denied": the denial mark lives in the marks the broken
    builder would have read; the minimal record says only what the status says.)"""
    counted = _builder_fails(monkeypatch)
    claims = claims_of(world)
    request = event_for("GET", "/patients/{patient_id}", {"patient_id": world["P1"]}, claims=claims)
    response = invoke("GetPatientFunction", request)
    assert response["statusCode"] == status, response
    (record,) = audit_records(aws, request_id(request))
    assert record == {
        "subject": "none",
        "patient_id": "none",
        "at": record["at"],
        "recorded_at": record["recorded_at"],
        "action": "patient.read",
        "outcome": outcome,
        "status": str(status),
        "actor_sub": claims["sub"],
        "actor_role": role,
        "request_id": request_id(request),
        "incomplete": True,
    }
    assert counted == ["AuditWriteFailed"]


def test_when_building_the_record_inside_a_booking_fails_nothing_is_booked_and_the_attempt_is_recorded(
    invoke, aws, world, victim, monkeypatch
):
    """Given a bug in the record builder, a booking (whose record is written inside its own
    transaction) fails closed: 500, nothing booked, and a minimal record of the attempt. (v1 wrote
    the booking's record after the transaction and let the builder's exception escape.)"""
    counted = _builder_fails(monkeypatch)
    request = event_for(
        "POST",
        "/appointments",
        body={"patient_id": victim, "doctor_id": world["D1"], "start": at(world["day"], "13:00")},
        claims=STAFF,
    )
    response = invoke("BookAppointmentFunction", request)
    assert response["statusCode"] == 500 and response["json"]["code"] == "INTERNAL_ERROR"
    (record,) = audit_records(aws, request_id(request))
    assert (record["action"], record["outcome"], record["incomplete"]) == ("appointment.book", "failed", True)
    assert "AuditWriteFailed" in counted
    monkeypatch.undo()
    listed = invoke(
        "PatientAppointmentsFunction",
        event_for("GET", "/patients/{patient_id}/appointments", {"patient_id": victim}, claims=STAFF),
    )
    assert listed["json"]["items"] == []


# ------------------------------------------------------------------------------------------------ 5
@pytest.mark.parametrize(
    "groups", ["nurse,staff", "staff x", "[staff doctors]", "Staff", " staff", "staff,", "staff doctors"]
)
def test_groups_are_read_exactly(invoke, aws, world, groups):
    """Given a token whose cognito:groups is not exactly a list of this service's group names, when it
    asks for a staff-only route (a patient's access log), then 403 and the patient's trail records
    the denied attempt with role ``none``. v1 split the claim on commas, spaces and brackets and
    stripped it, so "nurse,staff", "staff x", "[staff doctors]", " staff", "staff," and "staff doctors"
    were all staff and read the access log (200, probed). ("Staff" was refused by v1 too: names were
    already case-sensitive.)"""
    claims = claims_of("staff", sub=new_sub("odd-groups"), **{"cognito:groups": groups})
    request = event_for("GET", "/patients/{patient_id}/access-log", {"patient_id": world["P1"]}, claims=claims)
    response = invoke("PatientAccessLogFunction", request)
    assert response["statusCode"] == 403 and response["json"]["code"] == "FORBIDDEN", response
    (record,) = [r for r in trail(invoke, world["P1"]) if r["request_id"] == request_id(request)]
    assert (record["actor_role"], record["outcome"], record["actor_sub"]) == ("none", "denied", claims["sub"])


def test_exact_group_names_still_work(invoke, aws, world):
    for groups in ("staff", "staff,doctors", "doctors,staff"):
        claims = claims_of("doctor", world["D1"], sub=new_sub("staff"), **{"cognito:groups": groups})
        response = invoke(
            "PatientAccessLogFunction",
            event_for("GET", "/patients/{patient_id}/access-log", {"patient_id": world["P1"]}, claims=claims),
        )
        assert response["statusCode"] == 200, (groups, response)


ACCESS_LOG = ("PatientAccessLogFunction", "GET", "/patients/{patient_id}/access-log")


@pytest.mark.parametrize(
    "pool, groups, route, role",
    [
        # a patient-pool user put in a "staff" group (the patient pool has no MFA): not staff
        ("patient", "staff", ACCESS_LOG, "none"),
        ("patient", "staff,patients", ACCESS_LOG, "patients"),  # only what its pool grants
        ("patient", "staff", ("ListPatientsFunction", "GET", "/patients"), "none"),
        # a patient-pool user in "doctors", with a doctor id: not that doctor
        ("patient", "doctors", ("DoctorScheduleFunction", "GET", "/doctors/{doctor_id}/schedule"), "none"),
        # a workforce user in "patients", with a patient id: not that patient
        ("staff", "patients", ("GetPatientFunction", "GET", "/patients/{patient_id}"), "none"),
    ],
)
def test_a_group_from_the_other_pool_grants_nothing(invoke, world, pool, groups, route, role):
    """Given a token from one user pool whose cognito:groups names a group of the other pool, when it
    asks for a route only that group may use, then 403, and a patient's trail records the denied
    attempt in the role the token's own pool gives. Before issue 18 the functions ignored ``iss``: a
    "staff" group in either pool was staff."""
    function, method, resource = route
    ids = {"custom:patient_id": world["P1"], "custom:doctor_id": world["D1"]}
    claims = claims_of(pool, world["P1"] if pool == "patient" else None, sub=new_sub("other-pool"), **ids)
    claims["cognito:groups"] = groups
    params = {
        k: world["P1" if k == "patient_id" else "D1"] for k in ("patient_id", "doctor_id") if f"{{{k}}}" in resource
    }
    day = days.monday()
    query = {"from": at(day, "00:00"), "to": at(day, "23:00")} if resource.endswith("/schedule") else None
    request = event_for(method, resource, params or None, query=query, claims=claims)
    response = invoke(function, request)
    assert response["statusCode"] == 403 and response["json"]["code"] == "FORBIDDEN", response
    if "patient_id" in params:
        (record,) = [r for r in trail(invoke, world["P1"]) if r["request_id"] == request_id(request)]
        assert (record["actor_role"], record["outcome"]) == (role, "denied")


def test_the_patient_pool_staff_event_is_refused_as_api_gateway_would_send_it(invoke, world):
    """events/list_patients-patient_pool_staff.json: claims exactly as API Gateway passes them for a
    patient-pool user put in a "staff" group. The same claims from the workforce pool list patients."""
    from tests.handlers.helpers import event

    refused = event("list_patients-patient_pool_staff")
    assert refused["requestContext"]["authorizer"]["claims"]["iss"] == PATIENT_ISSUER
    response = invoke("ListPatientsFunction", refused)
    assert response["statusCode"] == 403 and response["json"]["code"] == "FORBIDDEN", response
    workforce = dict(refused["requestContext"]["authorizer"]["claims"], iss=WORKFORCE_ISSUER)
    response = invoke("ListPatientsFunction", event("list_patients-patient_pool_staff", claims=workforce))
    assert response["statusCode"] == 200, response


# ------------------------------------------------------------------------------------------------ 6
class DynamoCalls:
    """Every DynamoDB call made while active: (operation, table logical id, index name)."""

    def __init__(self, monkeypatch):
        from botocore.client import BaseClient

        self.names = {t.name: t.logical_id for t in tpl.tables()}
        self.calls: list[tuple[str, str, str | None]] = []
        original = BaseClient._make_api_call

        def record(client, operation, params):
            if client.meta.service_model.service_name == "dynamodb":
                tables = (
                    [params["TableName"]]
                    if "TableName" in params
                    else list(params.get("RequestItems", ()))
                    or [next(iter(i.values()))["TableName"] for i in params.get("TransactItems", ())]
                )
                for name in tables:
                    self.calls.append((operation, self.names.get(name, name), params.get("IndexName")))
            return original(client, operation, params)

        monkeypatch.setattr(BaseClient, "_make_api_call", record)

    def take(self) -> list[tuple[str, str, str | None]]:
        taken, self.calls = self.calls, []
        return taken


@pytest.fixture
def practice(invoke):
    """A doctor of their own, three of their patients (Kline, Klein, Klee), a patient of another
    doctor's and one with no appointment, all matching the prefix "kl"."""
    doctor = create(invoke, "CreateDoctorFunction", "/doctors", DOCTOR)
    other_doctor = create(invoke, "CreateDoctorFunction", "/doctors", DOCTOR)
    day = days.monday(weeks_later=2)
    names = ("Kline", "Klein", "Klee", "Klimt", "Klum")
    patients = [create(invoke, "RegisterPatientFunction", "/patients", {**PATIENT, "family_name": n}) for n in names]
    appointments = {}
    for i, patient in enumerate(patients[:3]):
        appointments[patient] = create(
            invoke,
            "BookAppointmentFunction",
            "/appointments",
            {"patient_id": patient, "doctor_id": doctor, "start": at(day, f"{9 + i:02d}:00")},
        )
    create(
        invoke,
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": patients[3], "doctor_id": other_doctor, "start": at(day, "09:00")},
    )
    return {
        "doctor": doctor,
        "mine": patients[:3],
        "others": patients[3:],
        "appointments": appointments,
        "day": day,
        "claims": as_doctor(doctor),
        "other_doctor": other_doctor,
    }


def reads(invoke, practice, patient: str) -> int:
    return invoke(
        "GetPatientFunction",
        event_for("GET", "/patients/{patient_id}", {"patient_id": patient}, claims=practice["claims"]),
    )["statusCode"]


def search(invoke, practice, limit: int = 20, token: str | None = None, **criteria) -> dict:
    body = {"family_name_prefix": "kl", **criteria, "limit": limit, **({"next_token": token} if token else {})}
    response = invoke(
        "SearchPatientsFunction", event_for("POST", "/patients/search", body=body, claims=practice["claims"])
    )
    assert response["statusCode"] == 200, response
    return response["json"]


def found(invoke, practice) -> set[str]:
    return {p["id"] for p in search(invoke, practice)["items"]}


def set_active(invoke, doctor: str, active: bool) -> None:
    response = invoke(
        "UpdateDoctorFunction",
        event_for("PATCH", "/doctors/{doctor_id}", {"doctor_id": doctor}, body={"active": active}, claims=STAFF),
    )
    assert response["statusCode"] == 200 and response["json"]["active"] is active, response


def test_a_doctors_access_ends_with_the_last_linking_appointment_and_with_their_deactivation(invoke, aws, practice):
    """Book → the doctor reads the patient (and finds them); cancel → 404 (and not found); book again
    → reads; deactivate the doctor → 403 on both routes (v1.2: a deactivated doctor's token is refused
    on every route); reactivate → reads. v1 let a doctor see any patient with whom they had *ever* had
    an appointment, cancelled ones included, and never checked that the doctor was still active
    (probed: 200 after the cancel, 200 after deactivation)."""
    patient = practice["mine"][0]
    appointment = practice["appointments"][patient]
    assert reads(invoke, practice, patient) == 200 and patient in found(invoke, practice)

    cancelled = invoke(
        "CancelAppointmentFunction",
        event_for(
            "POST",
            "/appointments/{appointment_id}/cancel",
            {"appointment_id": appointment},
            body={"reason": "moved away"},
            claims=STAFF,
        ),
    )
    assert cancelled["statusCode"] == 200, cancelled
    assert reads(invoke, practice, patient) == 404 and patient not in found(invoke, practice)

    create(
        invoke,
        "BookAppointmentFunction",
        "/appointments",
        {"patient_id": patient, "doctor_id": practice["doctor"], "start": at(practice["day"], "14:00")},
    )
    assert reads(invoke, practice, patient) == 200 and patient in found(invoke, practice)

    set_active(invoke, practice["doctor"], False)
    assert reads(invoke, practice, patient) == 403
    refused = invoke(
        "SearchPatientsFunction",
        event_for("POST", "/patients/search", body={"family_name_prefix": "kl"}, claims=practice["claims"]),
    )
    assert refused["statusCode"] == 403 and refused["json"]["code"] == "FORBIDDEN", refused
    set_active(invoke, practice["doctor"], True)
    assert reads(invoke, practice, patient) == 200 and found(invoke, practice) == set(practice["mine"])
    # the denied reads (404 after the cancel, 403 while deactivated) are on the patient's trail as this doctor's
    denials = [r for r in trail(invoke, patient) if r["action"] == "patient.read" and r["outcome"] == "denied"]
    assert len(denials) == 2 and {r["actor_role"] for r in denials} == {"doctors"}


@pytest.mark.parametrize("limit", [1, 2, 3, 4])
def test_a_doctors_search_pages_through_their_own_patients_with_one_query_of_their_links(
    invoke, aws, practice, monkeypatch, limit
):
    """Given a doctor with three linked patients among five matches, when they page with limit 1..4,
    then the pages hold exactly their three patients, none twice, each page at most ``limit``, ending
    with next_token null; each request is one Query of the doctor's links and never touches the
    patients' name index, nor their appointments: each link counts the pair's booked appointments (the
    doctor's access window, v1.2, needs no read of them). v1 queried the name index (every matching
    patient of the clinic) and then each match's appointments (probed: Query by_family_name, Query
    patient_appointments): its cost grew with the clinic, not with the doctor."""
    calls = DynamoCalls(monkeypatch)
    seen, token, pages = [], None, 0
    while True:
        page = search(invoke, practice, limit=limit, token=token)
        made = calls.take()
        queries = Counter((op, table, index) for op, table, index in made if op == "Query")
        assert queries == Counter({("Query", "SlotLocksTable", None): 1}), made
        assert not [c for c in made if c[1] == "PatientsTable" and c[0] in ("Query", "Scan")], made
        assert len(page["items"]) <= limit
        seen += [p["id"] for p in page["items"]]
        pages += 1
        token = page["next_token"]
        if token is None:
            break
        assert pages <= 4, "the pages end"
    assert sorted(seen) == sorted(practice["mine"]) and len(seen) == len(set(seen))
    # the criteria still apply within the doctor's patients
    assert {p["family_name"] for p in search(invoke, practice, family_name_prefix="klei")["items"]} == {"Klein"}
    assert search(invoke, practice, family_name_prefix="klim") == {"items": [], "next_token": None}


def test_a_doctors_next_token_does_not_serve_another_doctor_or_search(invoke, aws, practice):
    """A next_token is bound to the doctor and the criteria it was issued for (422 otherwise)."""
    token = search(invoke, practice, limit=1)["next_token"]
    assert token
    other = {**practice, "claims": as_doctor(practice["other_doctor"])}
    for who, criteria in ((other, {}), (practice, {"family_name_prefix": "kle"})):
        body = {"family_name_prefix": "kl", **criteria, "limit": 1, "next_token": token}
        response = invoke(
            "SearchPatientsFunction", event_for("POST", "/patients/search", body=body, claims=who["claims"])
        )
        assert response["statusCode"] in (400, 422) and response["json"]["code"] == "VALIDATION_ERROR", response


# ------------------------------------------------------------------------------------------------ 7
def _import_fresh(logical_id: str):
    """Import the function's module anew, as a cold start does (under a name of its own)."""
    function = tpl.function(logical_id)
    name = f"fresh_{logical_id}_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, function.code_dir / f"{function.module}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic looks generic models' modules up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


@pytest.fixture
def in_lambda(monkeypatch):
    """A Lambda environment: the function's own template variables, with distinctive values."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "clinic-test-function")
    monkeypatch.delenv("PAGINATION_SECRET", raising=False)
    monkeypatch.delenv("PAGINATION_SECRET_ARN", raising=False)
    shared = set(tpl.load()["Globals"]["Function"]["Environment"]["Variables"])

    def own(function: tpl.Function) -> set[str]:
        """Its own variables, and the pools' issuers (in the Globals, needed by every route with a token)."""
        return {k for k in function.environment if k not in shared or k.endswith("_ISSUER")}

    def environment(logical_id: str, *, without: tuple[str, ...]) -> dict[str, str]:
        given = {}
        for key in {k for f in tpl.functions() for k in own(f)}:
            monkeypatch.delenv(key, raising=False)
        for key in own(tpl.function(logical_id)):
            if key not in without:
                given[key] = f"value-of-{key.lower()}-{uuid.uuid4().hex[:6]}"
                monkeypatch.setenv(key, given[key])
        return given

    return environment


@pytest.mark.parametrize(
    "logical_id, without, missing",
    [
        ("GetPatientFunction", ("AUDIT_TABLE",), ["AUDIT_TABLE"]),
        (
            "BookAppointmentFunction",
            ("SLOT_LOCKS_TABLE", "IDEMPOTENCY_TABLE"),
            ["IDEMPOTENCY_TABLE", "SLOT_LOCKS_TABLE"],
        ),
        ("ListPatientsFunction", ("PAGINATION_SECRET_ARN",), ["PAGINATION_SECRET_ARN"]),
        (
            "PatientAccessLogFunction",
            ("PATIENTS_TABLE", "PAGINATION_SECRET_ARN"),
            ["PAGINATION_SECRET_ARN", "PATIENTS_TABLE"],
        ),
        # a route that needs a token, without a pool's issuer (it could not tell whose group is whose)
        ("GetPatientFunction", ("WORKFORCE_ISSUER",), ["WORKFORCE_ISSUER"]),
        ("ListDoctorsFunction", ("PATIENT_ISSUER", "WORKFORCE_ISSUER"), ["PATIENT_ISSUER", "WORKFORCE_ISSUER"]),
        # a background function too: no schedule without the stack's key, no event without the bus
        ("ScheduleTimersFunction", ("SCHEDULE_KMS_KEY_ARN",), ["SCHEDULE_KMS_KEY_ARN"]),
        ("PublishEventsFunction", ("EVENT_BUS_NAME",), ["EVENT_BUS_NAME"]),
    ],
)
def test_in_lambda_a_function_missing_a_variable_does_not_start(in_lambda, caplog, logical_id, without, missing):
    """Given a Lambda environment without a table, the pagination secret, the bus or the schedules' key
    the function needs, importing the function raises ConfigurationError after exactly one log line
    naming the missing variables and no value. v1 started anyway (probed) with empty names: the audit
    write was skipped silently (``if not records or not name: return``) and next_token was signed with
    an empty key."""
    from clinic.config import ConfigurationError
    from clinic.observability import logger

    given = in_lambda(logical_id, without=without)
    caplog.clear()
    with pytest.raises(ConfigurationError) as raised:
        _import_fresh(logical_id)
    lines = [logger.registered_formatter.format(r) for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert len(lines) == 1, lines
    (line,) = lines
    assert "configuration incomplete" in line and all(name in line for name in missing)
    assert all(value not in line and value not in str(raised.value) for value in given.values())
    assert all(name in str(raised.value) for name in missing)


def test_in_lambda_a_route_without_a_token_starts_without_the_issuers(in_lambda):
    in_lambda("HealthFunction", without=("WORKFORCE_ISSUER", "PATIENT_ISSUER"))
    assert callable(_import_fresh("HealthFunction").lambda_handler)


def test_in_lambda_a_complete_environment_starts(in_lambda, caplog):
    for logical_id in (
        "GetPatientFunction",
        "ListPatientsFunction",
        "BookAppointmentFunction",
        "ScheduleTimersFunction",
    ):
        in_lambda(logical_id, without=())
        assert callable(_import_fresh(logical_id).lambda_handler)


def test_the_template_never_sets_a_plaintext_pagination_secret():
    """Every function that paginates reads the secret's ARN (a Secrets Manager secret), and no function
    (nor the Globals) is given the secret itself. v1's Globals set PAGINATION_SECRET to
    {{resolve:secretsmanager:…}}: CloudFormation resolves that at deploy time into the functions'
    configuration, where anyone who may read it sees the key in plain text."""
    from clinic import routes

    template = tpl.load()
    resources = template["Resources"]
    global_env = ((template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}
    assert "PAGINATION_SECRET" not in (global_env.get("Variables") or {})
    paginating = {r.logical_id for r in routes.ROUTES if "pagination" in r.permissions}
    assert paginating
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        variables = (resource["Properties"].get("Environment") or {}).get("Variables") or {}
        assert "PAGINATION_SECRET" not in variables, name
        if name in paginating:
            assert variables.get("PAGINATION_SECRET_ARN") == {"Ref": "PaginationSecret"}, name
    assert resources["PaginationSecret"]["Type"] == "AWS::SecretsManager::Secret"
    assert "SecretString" not in resources["PaginationSecret"]["Properties"]  # generated, never written down
