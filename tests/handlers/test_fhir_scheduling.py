"""The FHIR view, v1.2 (API.md "FHIR R4 view, v1.2"; docs/fhir.md): sites and rooms as Location, equipment as
Device, Schedules of rooms and devices, an Appointment's site, rooms and equipment as participants, and the
scheduling operations $find, $hold and $book (IHE ITI Scheduling) over the native use cases — through the
functions, every FHIR body (each Bundle entry too) checked by the FHIR validator.

- $find answers exactly what GET /availability answers for the same query, page by page (rooms, types,
  locations, specialties, _count and the page token), one proposed Appointment per slot, with the total;
- $hold and $book: the native rules, codes (409 → issue conflict with the native code in details), access,
  audit actions of their own, and Idempotency-Key on $hold and $book only."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from clinic.fhir import ERROR_CODE_SYSTEM, HOLD_EXPIRES_EXTENSION
from tests import days
from tests.claims import claims_of
from tests.handlers import test_rooms
from tests.handlers.conftest import event_for

site = test_rooms.site  # the fixture: two sites (rooms, an ultrasound), doctors working there and nowhere, patients

FHIR_JSON = "application/fhir+json"
HOST = "fhir.clinic.test"
BASE = f"http://{HOST}/fhir"
STAFF = claims_of("staff", sub="staff-fhir-ops")
OPERATION = "/fhir/Appointment/{appointment_id}"


def patient_claims(patient_id: str) -> dict[str, str]:
    return claims_of("patient", patient_id, sub=f"patient-{patient_id}")


def doctor_claims(doctor_id: str) -> dict[str, str]:
    return claims_of("doctor", doctor_id, sub=f"doctor-{doctor_id}")


def fhir_get(invoke, function, resource, path=None, query=None, claims=STAFF):
    event = event_for("GET", resource, path, claims=claims)
    multi: dict[str, list[str]] = {}
    for name, value in query or []:
        multi.setdefault(name, []).append(value)
    event["multiValueQueryStringParameters"] = multi or None
    event["queryStringParameters"] = {k: v[-1] for k, v in multi.items()} or None
    event["headers"] = {**event["headers"], "Host": HOST}
    return invoke(function, event)


def operate(invoke, operation, parameters, claims=STAFF, headers=None, query=None):
    """POST /fhir/Appointment/<operation> with a Parameters body (as fhirpy sends it: application/json)."""
    body = {"resourceType": "Parameters", "parameter": parameters}
    event = event_for("POST", OPERATION, {"appointment_id": operation}, body=body, claims=claims, query=query)
    event["headers"] = {**event["headers"], "Host": HOST, **(headers or {})}
    return invoke("FhirAppointmentOperationFunction", event)


def valid(response, validator, status=200):
    assert response["statusCode"] == status, response
    assert response["headers"]["Content-Type"] == FHIR_JSON, response["headers"]
    validator.assert_valid(response["json"])
    return response["json"]


def outcome(response, validator, status, code, issue):
    body = valid(response, validator, status)
    assert body["resourceType"] == "OperationOutcome", body
    assert {i["code"] for i in body["issue"]} == {issue}, body
    assert body["issue"][0]["details"]["coding"][0] == {
        "system": ERROR_CODE_SYSTEM,
        "code": code,
        "display": body["issue"][0]["details"]["text"],
    }
    return body


def entries(bundle, kind="Appointment"):
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == kind]


def find_parameters(start, end, **more):
    parameters = [{"name": "start", "valueDateTime": start}, {"name": "end", "valueDateTime": end}]
    names = {"location": "valueReference", "practitioner": "valueReference"}
    for name, value in more.items():
        name = name.replace("_", "-") if name != "_count" else name
        if name in names:
            parameters.append({"name": name, "valueReference": {"reference": value}})
        elif name == "_count":
            parameters.append({"name": name, "valueInteger": value})
        else:
            parameters.append({"name": name, "valueString": value})
    return parameters


def with_patient(proposal: dict, patient_id: str) -> dict:
    return {
        **proposal,
        "participant": [
            *proposal["participant"],
            {"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"},
        ],
    }


def audit_actions(aws) -> list[dict]:
    table = next(n for n in aws.list_tables()["TableNames"] if n.endswith("AuditTable"))
    return [{k: next(iter(v.values())) for k, v in i.items()} for i in aws.scan(TableName=table)["Items"]]


# ---------------------------------------------------------------------------- Location, Device, Schedule
def test_sites_are_locations_rooms_are_locations_within_them_and_equipment_is_a_device(invoke, site, fhir_validator):
    downtown = valid(
        fhir_get(invoke, "FhirReadLocationFunction", "/fhir/Location/{location_id}", {"location_id": site["downtown"]}),
        fhir_validator,
    )
    assert downtown["mode"] == "instance" and downtown["physicalType"]["coding"][0]["code"] == "si"
    assert downtown["name"] == "Downtown" and downtown["status"] == "active" and "partOf" not in downtown
    assert downtown["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/timezone", "valueCode": "America/New_York"}
    ]
    room = valid(
        fhir_get(invoke, "FhirReadLocationFunction", "/fhir/Location/{location_id}", {"location_id": site["room_a"]}),
        fhir_validator,
    )
    assert room["physicalType"]["coding"][0]["code"] == "ro" and room["partOf"] == {
        "reference": f"Location/{site['downtown']}"
    }
    assert room["type"][0]["coding"][0]["code"] == "exam-room"
    device = valid(
        fhir_get(invoke, "FhirReadDeviceFunction", "/fhir/Device/{device_id}", {"device_id": site["echo"]}),
        fhir_validator,
    )
    assert device["deviceName"] == [{"name": "Echo", "type": "user-friendly-name"}]
    assert device["location"] == {"reference": f"Location/{site['downtown']}"} and device["status"] == "active"
    # a device is no Location, a room no Device, nothing is either
    for function, resource, key, value in (
        ("FhirReadLocationFunction", "/fhir/Location/{location_id}", "location_id", site["echo"]),
        ("FhirReadDeviceFunction", "/fhir/Device/{device_id}", "device_id", site["room_a"]),
        ("FhirReadDeviceFunction", "/fhir/Device/{device_id}", "device_id", str(uuid.uuid4())),
        ("FhirReadLocationFunction", "/fhir/Location/{location_id}", "location_id", "not-a-uuid"),
    ):
        outcome(fhir_get(invoke, function, resource, {key: value}), fhir_validator, 404, "NOT_FOUND", "not-found")


def test_locations_are_searched_sites_first_then_rooms_by_name_and_page_by_link_next(invoke, site, fhir_validator):
    def every_page(query):
        found, bundles = [], []
        while query is not None:
            bundle = valid(
                fhir_get(
                    invoke,
                    "FhirSearchLocationFunction",
                    "/fhir/Location",
                    query=query,
                    claims=patient_claims(site["patients"][0]),
                ),
                fhir_validator,
            )
            bundles.append(bundle)
            found += [(r["name"], r["physicalType"]["coding"][0]["code"]) for r in entries(bundle, "Location")]
            nxt = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
            query = None
            if nxt:
                assert nxt.startswith(f"{BASE}/Location?")
                query = parse_qsl(urlsplit(nxt).query)
        return found, bundles

    everything, bundles = every_page([])
    assert everything == [("Downtown", "si"), ("Uptown", "si"), ("Room A", "ro"), ("Room B", "ro"), ("Room U", "ro")]
    assert bundles[0]["total"] == 5
    paged, bundles = every_page([("_count", "2")])
    assert paged == everything and len(bundles) >= 3 and all("total" not in b for b in bundles)
    rooms, _ = every_page([("partof", f"Location/{site['downtown']}")])
    assert rooms == [("Room A", "ro"), ("Room B", "ro")]  # the ultrasound is a Device
    outcome(
        fhir_get(
            invoke, "FhirSearchLocationFunction", "/fhir/Location", query=[("partof", f"Location/{uuid.uuid4()}")]
        ),
        fhir_validator,
        404,
        "NOT_FOUND",
        "not-found",
    )
    outcome(
        fhir_get(invoke, "FhirSearchLocationFunction", "/fhir/Location", query=[("_page_token", "forged")]),
        fhir_validator,
        422,
        "VALIDATION_ERROR",
        "invalid",
    )


def test_rooms_and_devices_have_schedules_with_their_ids(invoke, site, fhir_validator):
    read = "/fhir/Schedule/{doctor_id}"
    room = valid(fhir_get(invoke, "FhirReadScheduleFunction", read, {"doctor_id": site["room_a"]}), fhir_validator)
    assert room["actor"] == [{"reference": f"Location/{site['room_a']}", "display": "Room A"}]
    echo = valid(fhir_get(invoke, "FhirReadScheduleFunction", read, {"doctor_id": site["echo"]}), fhir_validator)
    assert echo["id"] == site["echo"] and echo["actor"][0]["reference"] == f"Device/{site['echo']}"
    doctor = valid(fhir_get(invoke, "FhirReadScheduleFunction", read, {"doctor_id": site["doctor"]}), fhir_validator)
    assert doctor["actor"][0]["reference"] == f"Practitioner/{site['doctor']}"
    outcome(
        fhir_get(invoke, "FhirReadScheduleFunction", read, {"doctor_id": site["downtown"]}),
        fhir_validator,
        404,
        "NOT_FOUND",
        "not-found",
    )  # a site keeps no calendar of its own

    def searched(actor):
        return fhir_get(invoke, "FhirSearchScheduleFunction", "/fhir/Schedule", query=[("actor", actor)])

    found = valid(searched(f"Location/{site['room_b']}"), fhir_validator)
    assert [s["id"] for s in entries(found, "Schedule")] == [site["room_b"]] and found["total"] == 1
    assert [s["id"] for s in entries(valid(searched(f"Device/{site['echo']}"), fhir_validator), "Schedule")] == [
        site["echo"]
    ]
    assert [s["id"] for s in entries(valid(searched(site["echo"]), fhir_validator), "Schedule")] == [site["echo"]]
    assert valid(searched(f"Location/{site['downtown']}"), fhir_validator)["total"] == 0  # a site: none
    outcome(searched(f"Device/{site['room_a']}"), fhir_validator, 404, "NOT_FOUND", "not-found")
    outcome(searched(f"Location/{uuid.uuid4()}"), fhir_validator, 404, "NOT_FOUND", "not-found")
    outcome(searched(f"Patient/{site['patients'][0]}"), fhir_validator, 422, "VALIDATION_ERROR", "invalid")


def test_an_appointment_names_its_site_rooms_and_equipment_as_participants(invoke, site, fhir_validator):
    from tests.handlers.test_rooms import book

    scan = book(invoke, site, "09:00", type_code="scan")
    assert scan["statusCode"] == 201, scan
    read = fhir_get(
        invoke,
        "FhirReadAppointmentFunction",
        "/fhir/Appointment/{appointment_id}",
        {"appointment_id": scan["json"]["id"]},
    )
    appointment = valid(read, fhir_validator)
    actors = [p["actor"]["reference"] for p in appointment["participant"]]
    assert actors == [
        f"Patient/{site['patients'][0]}",
        f"Practitioner/{site['doctor']}",
        f"Location/{site['downtown']}",
        f"Location/{site['room_a']}",
        f"Device/{site['echo']}",
    ]
    assert {p["status"] for p in appointment["participant"]} == {"accepted"}
    searched = valid(
        fhir_get(
            invoke,
            "FhirSearchAppointmentFunction",
            "/fhir/Appointment",
            query=[("patient", f"Patient/{site['patients'][0]}")],
        ),
        fhir_validator,
    )
    assert entries(searched)[0]["participant"] == appointment["participant"]


# ---------------------------------------------------------------------------- $find = GET /availability
def native_pages(invoke, query: dict, claims=STAFF) -> list[dict]:
    pages, token = [], None
    while True:
        response = invoke(
            "EarliestAvailabilityFunction",
            event_for(
                "GET", "/availability", query={**query, **({"next_token": token} if token else {})}, claims=claims
            ),
        )
        assert response["statusCode"] == 200, response
        pages.append(response["json"])
        token = response["json"]["next_token"]
        if token is None:
            return pages


def find_pages(invoke, validator, parameters, claims=STAFF) -> list[dict]:
    bundles, query = [], None
    while True:
        bundle = valid(operate(invoke, "$find", parameters, claims=claims, query=query), validator)
        assert bundle["type"] == "searchset" and bundle["link"][0] == {
            "relation": "self",
            "url": f"{BASE}/Appointment/$find",
        }
        bundles.append(bundle)
        nxt = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
        if nxt is None:
            return bundles
        assert nxt.startswith(f"{BASE}/Appointment/$find?_page_token=")
        query = dict(parse_qsl(urlsplit(nxt).query))


def as_native(proposal: dict) -> dict:
    practitioner = next(p for p in proposal["participant"] if p["actor"]["reference"].startswith("Practitioner/"))
    location = [p for p in proposal["participant"] if p["actor"]["reference"].startswith("Location/")]
    return {
        "start": proposal["start"],
        "end": proposal["end"],
        "doctor_id": practitioner["actor"]["reference"].split("/")[1],
        "location_id": location[0]["actor"]["reference"].split("/")[1] if location else None,
        "appointment_type": proposal["serviceType"][0]["coding"][0]["code"] if "serviceType" in proposal else None,
    }


def test_find_answers_exactly_what_get_availability_answers_page_by_page(invoke, site, fhir_validator):
    from tests.handlers.test_rooms import book

    day = site["day"]
    # some time taken: a room Downtown, a doctor's morning, a hold
    assert book(invoke, site, "09:00", type_code="scan")["statusCode"] == 201
    assert book(invoke, site, "09:30", patient=1, doctor="second")["statusCode"] == 201
    start, end = days.at(day, "08:00"), days.at(day + timedelta(days=1), "12:00")
    queries = [
        ({}, {}),
        ({"location_id": site["downtown"]}, {"location": f"Location/{site['downtown']}"}),
        ({"appointment_type": "scan"}, {"visit_type": "scan"}),
        (
            {"appointment_type": "check-up", "location_id": site["downtown"]},
            {"visit_type": "check-up", "location": f"Location/{site['downtown']}"},
        ),
        ({"specialty": "radiology"}, {"specialty": "radiology"}),
        (
            {"location_id": site["uptown"], "appointment_type": "check-up"},
            {"location": f"Location/{site['uptown']}", "visit_type": "check-up"},
        ),
    ]
    for native_query, find_query in queries:
        for size in (7, 100):
            native = native_pages(invoke, {"from": start, "to": end, "limit": str(size), **native_query})
            found = find_pages(invoke, fhir_validator, find_parameters(start, end, _count=size, **find_query))
            assert [[as_native(p) for p in entries(b)] for b in found] == [page["items"] for page in native], (
                native_query,
                size,
            )
            every = [item for page in native for item in page["items"]]
            assert {b["total"] for b in found} == {len(every)}, native_query
            for bundle in found:
                assert {p["status"] for p in entries(bundle)} == {"proposed"}
                assert all("fullUrl" not in e for e in bundle.get("entry", []))  # proposals are not records
    # a practitioner: the same slots, of that doctor only (as GET /doctors/{id}/availability)
    native = [i for p in native_pages(invoke, {"from": start, "to": end, "limit": "100"}) for i in p["items"]]
    mine = find_pages(
        invoke, fhir_validator, find_parameters(start, end, _count=5, practitioner=f"Practitioner/{site['third']}")
    )
    assert [as_native(p) for b in mine for p in entries(b)] == [i for i in native if i["doctor_id"] == site["third"]]
    # a patient sees what the native search shows a patient (the minimum notice binds them)
    patient = patient_claims(site["patients"][2])
    native = native_pages(invoke, {"from": start, "to": end, "limit": "100"}, claims=patient)
    found = find_pages(invoke, fhir_validator, find_parameters(start, end, _count=100), claims=patient)
    assert [as_native(p) for b in found for p in entries(b)] == [i for p in native for i in p["items"]]


def test_find_refuses_what_the_native_search_refuses_and_warns_of_what_it_ignores(invoke, site, fhir_validator):
    day = site["day"]
    start, end = days.at(day, "08:00"), days.at(day, "18:00")
    bad = [
        ([{"name": "end", "valueDateTime": end}], "start"),
        ([{"name": "start", "valueDateTime": "2026-12-01T10:00:00"}, {"name": "end", "valueDateTime": end}], "start"),
        (find_parameters(start, days.at(day + timedelta(days=15), "08:00")), "end"),
        (find_parameters(start, end, _count=0), "_count"),
        (find_parameters(start, end, _count=101), "_count"),
        (find_parameters(end, start), "start"),
        (find_parameters(start, end, location="Location/nope"), "location"),
        (find_parameters(start, end, visit_type="Not A Code"), "visit-type"),
        ([*find_parameters(start, end), {"name": "_page_token", "valueString": "forged"}], "_page_token"),
        ([*find_parameters(start, end), *find_parameters(start, end)[:1]], "start"),
    ]
    for parameters, field in bad:
        body = outcome(operate(invoke, "$find", parameters), fhir_validator, 422, "VALIDATION_ERROR", "invalid")
        assert body["issue"][0]["diagnostics"].startswith(f"{field}: "), (parameters, body)
    outcome(
        operate(invoke, "$find", find_parameters(start, end, practitioner=f"Practitioner/{uuid.uuid4()}")),
        fhir_validator,
        404,
        "NOT_FOUND",
        "not-found",
    )
    lenient = valid(
        operate(
            invoke, "$find", [*find_parameters(start, end, _count=1), {"name": "organization", "valueString": "x"}]
        ),
        fhir_validator,
    )
    assert lenient["entry"][-1]["search"]["mode"] == "outcome" and "organization" in json.dumps(lenient["entry"][-1])
    strict = operate(
        invoke,
        "$find",
        [*find_parameters(start, end), {"name": "organization", "valueString": "x"}],
        headers={"Prefer": "handling=strict"},
    )
    outcome(strict, fhir_validator, 400, "VALIDATION_ERROR", "not-supported")
    # an operation that is not served; a body that is no Parameters
    outcome(operate(invoke, "$everything", find_parameters(start, end)), fhir_validator, 404, "NOT_FOUND", "not-found")
    wrong = event_for("POST", OPERATION, {"appointment_id": "$find"}, body={"resourceType": "Bundle"}, claims=STAFF)
    outcome(invoke("FhirAppointmentOperationFunction", wrong), fhir_validator, 422, "VALIDATION_ERROR", "invalid")


# ---------------------------------------------------------------------------- $hold and $book
def first_proposal(invoke, site, validator, visit_type="scan", claims=STAFF, at="09:00", doctor="doctor"):
    day = site["day"]
    parameters = find_parameters(
        days.at(day, at),
        days.at(day, "12:00"),
        _count=1,
        visit_type=visit_type,
        practitioner=f"Practitioner/{site[doctor]}",
    )
    (proposal,) = entries(valid(operate(invoke, "$find", parameters, claims=claims), validator))
    return proposal


def test_hold_then_book_confirms_the_hold_with_its_rooms_and_audit_actions_of_their_own(
    invoke, site, aws, fhir_validator
):
    patient = site["patients"][3]
    me = patient_claims(patient)
    proposal = first_proposal(invoke, site, fhir_validator, claims=me)
    assert [p["actor"]["reference"] for p in proposal["participant"]] == [
        f"Practitioner/{site['doctor']}",
        f"Location/{site['downtown']}",
    ]
    held = valid(
        operate(invoke, "$hold", [{"name": "appointment", "resource": with_patient(proposal, patient)}], claims=me),
        fhir_validator,
    )
    assert held["status"] == "pending" and (held["start"], held["end"]) == (proposal["start"], proposal["end"])
    native = invoke("GetHoldFunction", event_for("GET", "/holds/{hold_id}", {"hold_id": held["id"]}, claims=me))
    assert native["statusCode"] == 200 and native["json"]["status"] == "held"
    assert held["extension"] == [{"url": HOLD_EXPIRES_EXTENSION, "valueInstant": native["json"]["expires_at"]}]
    assert [p["actor"]["reference"] for p in held["participant"]] == [
        f"Patient/{patient}",
        f"Practitioner/{site['doctor']}",
        f"Location/{site['downtown']}",
        f"Location/{site['room_a']}",
        f"Device/{site['echo']}",
    ]
    # the time is held: a direct booking of the same proposal by another patient is refused
    other = site["patients"][4]
    taken = operate(invoke, "$book", [{"name": "appointment", "resource": with_patient(proposal, other)}])
    body = outcome(taken, fhir_validator, 409, "SLOT_UNAVAILABLE", "conflict")
    assert "Traceback" not in json.dumps(body)
    # book the pending one: the hold is confirmed; the answer holds the booked Appointment
    booked = valid(
        operate(
            invoke,
            "$book",
            [{"name": "appointment", "resource": {**held, "reasonCode": [{"text": "scan"}]}}],
            claims=me,
        ),
        fhir_validator,
    )
    assert booked["resourceType"] == "Bundle" and booked["type"] == "collection"
    (appointment,) = entries(booked)
    assert (
        appointment["status"] == "booked" and booked["entry"][0]["fullUrl"] == f"{BASE}/Appointment/{appointment['id']}"
    )
    assert appointment["participant"][2:] == [
        {"actor": {"reference": ref}, "required": "required", "status": "accepted"}
        for ref in (f"Location/{site['downtown']}", f"Location/{site['room_a']}", f"Device/{site['echo']}")
    ]
    native = invoke(
        "GetAppointmentFunction",
        event_for("GET", "/appointments/{appointment_id}", {"appointment_id": appointment["id"]}),
    )
    assert native["json"]["status"] == "booked" and native["json"]["reason"] == "scan"
    assert (
        invoke("GetHoldFunction", event_for("GET", "/holds/{hold_id}", {"hold_id": held["id"]}))["json"][
            "appointment_id"
        ]
        == appointment["id"]
    )
    # booking the pending one again: the hold is confirmed already
    again = operate(invoke, "$book", [{"name": "appointment", "resource": held}], claims=me)
    outcome(again, fhir_validator, 409, "INVALID_TRANSITION", "conflict")
    # on the patient's trail, with the operations' own actions
    trail = [(r["action"], int(r["status"])) for r in audit_actions(aws) if r["subject"] == f"patient#{patient}"]
    assert ("fhir.appointment.hold", 200) in trail and ("fhir.appointment.book", 200) in trail
    assert ("fhir.appointment.book", 409) in trail
    assert not [r for r in audit_actions(aws) if r["action"] == "fhir.appointment.operation"]  # $find: none


def test_book_a_proposal_directly_then_cancel_it_by_sending_it_back_cancelled(invoke, site, aws, fhir_validator):
    patient = site["patients"][5]
    proposal = first_proposal(invoke, site, fhir_validator, visit_type="check-up", doctor="third")
    booked = valid(
        operate(invoke, "$book", [{"name": "appointment", "resource": with_patient(proposal, patient)}]),
        fhir_validator,
    )
    (appointment,) = entries(booked)
    assert appointment["status"] == "booked" and appointment["serviceType"][0]["coding"][0]["code"] == "check-up"
    assert appointment["participant"][3]["actor"]["reference"] == f"Location/{site['room_a']}"  # the first free room
    # sent back cancelled without a reason: 422; with one: cancelled
    no_reason = {**appointment, "status": "cancelled"}
    outcome(
        operate(invoke, "$book", [{"name": "appointment", "resource": no_reason}]),
        fhir_validator,
        422,
        "VALIDATION_ERROR",
        "invalid",
    )
    cancelled = valid(
        operate(
            invoke,
            "$book",
            [{"name": "appointment", "resource": {**no_reason, "cancelationReason": {"text": "feeling better"}}}],
            claims=patient_claims(patient),
        ),
        fhir_validator,
    )
    (gone,) = entries(cancelled)
    assert gone["status"] == "cancelled" and gone["cancelationReason"] == {"text": "feeling better"}
    again = operate(
        invoke,
        "$book",
        [{"name": "appointment", "resource": {**no_reason, "cancelationReason": {"text": "twice"}}}],
    )
    outcome(again, fhir_validator, 409, "INVALID_TRANSITION", "conflict")
    actions = {(r["action"], int(r["status"])) for r in audit_actions(aws) if r["subject"] == f"patient#{patient}"}
    assert {
        ("fhir.appointment.book", 200),
        ("fhir.appointment.cancel", 200),
        ("fhir.appointment.cancel", 409),
    } <= actions


def test_the_writes_keep_the_native_rules_access_and_codes(invoke, site, fhir_validator):
    patient, other = site["patients"][0], site["patients"][1]
    proposal = first_proposal(invoke, site, fhir_validator, visit_type="check-up")

    def hold(resource, claims=STAFF, operation="$hold"):
        return operate(invoke, operation, [{"name": "appointment", "resource": resource}], claims=claims)

    mine = with_patient(proposal, patient)
    # roles: staff, or the patient for themself (as POST /holds and POST /appointments)
    for claims in (doctor_claims(site["doctor"]), {"sub": "nobody"}, patient_claims(other)):
        for operation in ("$hold", "$book"):
            outcome(hold(mine, claims, operation), fhir_validator, 403, "FORBIDDEN", "forbidden")
    # what a write must be given
    invalid = [
        ({**mine, "status": "booked"}, "appointment.status"),
        (proposal, "appointment.participant"),  # no Patient
        ({**mine, "end": days.at(site["day"], "23:00")}, "appointment.end"),  # not the type's length
        (
            {**mine, "participant": [*mine["participant"], {"actor": {"reference": "Group/1"}}]},
            "appointment.participant",
        ),
        ({**mine, "start": "2027-01-01T10:00:00"}, "appointment.start"),
        ({**mine, "resourceType": "Patient"}, "appointment.resourceType"),
        ({**mine, "participant": "everyone"}, "appointment.participant"),
    ]
    for resource, field in invalid:
        body = outcome(hold(resource), fhir_validator, 422, "VALIDATION_ERROR", "invalid")
        assert body["issue"][0]["diagnostics"].startswith(f"{field}: "), (field, body)
    extra = operate(
        invoke,
        "$hold",
        [{"name": "appointment", "resource": mine}, {"name": "patient-reference", "valueString": "x"}],
    )
    outcome(extra, fhir_validator, 422, "VALIDATION_ERROR", "invalid")  # a write takes nothing it does not read
    # the booking rules' own codes: outside working hours → 422 processing, with the native code
    evening = {**mine, "start": days.at(site["day"], "20:00"), "end": days.at(site["day"], "20:30")}
    outcome(hold(evening), fhir_validator, 422, "OUTSIDE_WORKING_HOURS", "processing")
    # a room chosen by the client that is busy → RESOURCE_UNAVAILABLE; a room elsewhere → 422
    from tests.handlers.test_rooms import book

    assert book(invoke, site, "09:00", patient=2, doctor="second", resource_ids=[site["room_b"]])["statusCode"] == 201
    chosen = {**mine, "participant": [*mine["participant"], {"actor": {"reference": f"Location/{site['room_b']}"}}]}
    outcome(hold(chosen, operation="$book"), fhir_validator, 409, "RESOURCE_UNAVAILABLE", "conflict")
    elsewhere = {**mine, "participant": [*mine["participant"], {"actor": {"reference": f"Location/{site['room_u']}"}}]}
    outcome(hold(elsewhere, operation="$book"), fhir_validator, 422, "VALIDATION_ERROR", "invalid")
    # a pending Appointment that is no hold of the caller's: 404 as on GET /holds/{id}
    ghost = {**mine, "status": "pending", "id": str(uuid.uuid4())}
    outcome(hold(ghost, operation="$book"), fhir_validator, 404, "NOT_FOUND", "not-found")


def test_hold_and_book_take_an_idempotency_key_and_find_does_not(invoke, site, fhir_validator):
    patient = site["patients"][1]
    proposal = first_proposal(invoke, site, fhir_validator, visit_type="check-up", doctor="second")
    resource = with_patient(proposal, patient)
    key = {"Idempotency-Key": f"fhir-{uuid.uuid4()}"}
    first = operate(invoke, "$hold", [{"name": "appointment", "resource": resource}], headers=key)
    again = operate(invoke, "$hold", [{"name": "appointment", "resource": resource}], headers=key)
    held = valid(first, fhir_validator)
    assert valid(again, fhir_validator) == held and again["headers"]["Idempotent-Replayed"] == "true"
    assert again["headers"]["Content-Type"] == FHIR_JSON
    other = operate(invoke, "$hold", [{"name": "appointment", "resource": {**resource, "id": "changed"}}], headers=key)
    outcome(other, fhir_validator, 422, "IDEMPOTENCY_KEY_REUSED", "processing")
    booked = operate(invoke, "$book", [{"name": "appointment", "resource": held}], headers=key)
    replay = operate(invoke, "$book", [{"name": "appointment", "resource": held}], headers=key)
    assert valid(replay, fhir_validator) == valid(booked, fhir_validator)
    assert replay["headers"]["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in booked["headers"]
    day = site["day"]
    parameters = find_parameters(days.at(day, "08:00"), days.at(day, "18:00"), _count=3)
    found = operate(invoke, "$find", parameters, headers=key)
    assert valid(found, fhir_validator)["type"] == "searchset" and "Idempotent-Replayed" not in found["headers"]


def test_a_keyed_hold_whose_answer_was_lost_finds_its_own_hold(invoke, site, aws, fhir_validator):
    """The first $hold committed, then its invocation died before the idempotency record was completed (the
    record is gone with it): the retry with the same key derives the same hold id, is refused the time its own
    hold holds, and answers that hold instead of a conflict."""
    patient = site["patients"][2]
    proposal = first_proposal(invoke, site, fhir_validator, visit_type="check-up", doctor="third")
    resource = with_patient(proposal, patient)
    key = {"Idempotency-Key": f"lost-{uuid.uuid4()}"}
    first = valid(
        operate(invoke, "$hold", [{"name": "appointment", "resource": resource}], headers=key), fhir_validator
    )
    table = next(n for n in aws.list_tables()["TableNames"] if n.endswith("IdempotencyTable"))
    for item in aws.scan(TableName=table)["Items"]:
        aws.delete_item(TableName=table, Key={"id": item["id"]})
    retried = operate(invoke, "$hold", [{"name": "appointment", "resource": resource}], headers=key)
    assert valid(retried, fhir_validator)["id"] == first["id"] and "Idempotent-Replayed" not in retried["headers"]
    other = operate(invoke, "$hold", [{"name": "appointment", "resource": resource}])  # no key: a conflict
    outcome(other, fhir_validator, 409, "SLOT_UNAVAILABLE", "conflict")
