"""The FHIR scheduling operations over real HTTP (the local stack; API.md "FHIR R4 view, v1.2", docs/fhir.md):

- a real FHIR client library, fhirpy (pinned in requirements/dev.txt), finds, holds, books and cancels through
  $find, $hold and $book only — every answer valid R4 under the project's validator;
- 50 racing $book calls of one proposed Appointment (50 patients, one doctor, one room): exactly one booked,
  the other 49 answered 409 with an OperationOutcome whose issue code is conflict;
- $find answers exactly what GET /availability answers for the same query, page by page, with rooms.

The stack (tests/integration/conftest.py) starts empty; the records the operations work on (a site with one
exam room, doctors working there, patients) are made with the native API by staff."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome as OperationOutcomeError

from tests import days

pytestmark = pytest.mark.integration

FHIR_JSON = "application/fhir+json"
ALL_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHECK_UP = {"code": "check-up", "name": "Check-up", "duration_minutes": 30, "resource_kinds": ["exam-room"]}


@pytest.fixture(scope="module")
def clinic(stack) -> dict:
    """A site with one exam room; two doctors working there 09:00-17:00 UTC every day with a check-up that
    needs the room; a patient for the client flow."""
    staff = stack.headers("staff")

    def post(path: str, body: dict) -> str:
        made = requests.post(stack.url + path, json=body, headers=staff, timeout=60)
        assert made.status_code == 201, made.text
        return made.json()["id"]

    site = post("/locations", {"name": f"FHIR site {uuid.uuid4().hex[:6]}", "time_zone": "UTC"})
    room = post("/resources", {"location_id": site, "name": "Room", "kind": "exam-room", "category": "room"})
    hours = {d: [{"start": "09:00", "end": "17:00", "location_id": site}] for d in ALL_WEEK}
    doctor = {
        "given_name": "Fhir",
        "specialty": "Operations",
        "time_zone": "UTC",
        "slot_minutes": 15,
        "working_hours": hours,
        "appointment_types": [CHECK_UP],
    }
    doctors = [post("/doctors", {**doctor, "family_name": f"Doctor{i}"}) for i in range(2)]
    patient = post(
        "/patients", {"given_name": "Fhir", "family_name": "Client", "birth_date": "1990-01-01", "sex": "other"}
    )
    return {
        "site": site,
        "room": room,
        "doctors": doctors,
        "patient": patient,
        "day": days.monday(weeks_later=3, zone=UTC),
    }


def at(day, hhmm: str) -> str:
    """``day`` at ``hhmm`` UTC, as FHIR answers instants (the clinic here works in UTC)."""
    return days.at(day, hhmm, UTC).replace("+00:00", "Z")


def parameters(*pairs: dict) -> dict:
    return {"resourceType": "Parameters", "parameter": list(pairs)}


def find_parameters(clinic: dict, start: str, end: str, count: int = 20, **more) -> dict:
    pairs = [
        {"name": "start", "valueDateTime": start},
        {"name": "end", "valueDateTime": end},
        {"name": "location", "valueReference": {"reference": f"Location/{clinic['site']}"}},
        {"name": "visit-type", "valueCode": "check-up"},
        {"name": "_count", "valueInteger": count},
    ]
    for name, value in more.items():
        pairs.append({"name": name, "valueReference": {"reference": value}})
    return parameters(*pairs)


def with_patient(proposal: dict, patient: str) -> dict:
    return {**proposal, "participant": [*proposal["participant"], {"actor": {"reference": f"Patient/{patient}"}}]}


def resources(bundle, kind: str = "Appointment") -> list[dict]:
    return [dict(e["resource"]) for e in bundle.get("entry", []) if e["resource"]["resourceType"] == kind]


# ---------------------------------------------------------------------------- a real FHIR client
def test_a_fhir_client_finds_holds_books_and_cancels_through_the_operations_only(stack, clinic, fhir_validator):
    day = clinic["day"]
    me = stack.token("patient", clinic["patient"])
    client = SyncFHIRClient(f"{stack.url}/fhir", authorization=f"Bearer {me}")
    appointments = client.resources("Appointment")
    window = find_parameters(clinic, at(day, "09:00"), at(day, "12:00"), count=3)

    # $find: proposed Appointments, one per free slot, with the total
    found = appointments.execute("$find", data=window)
    fhir_validator.assert_valid(found)
    assert found["resourceType"] == "Bundle" and found["type"] == "searchset" and found["total"] >= 3
    proposals = resources(found)
    assert len(proposals) == 3 and {p["status"] for p in proposals} == {"proposed"}
    first = proposals[0]
    # $hold: the proposal with its Patient → pending, its id the hold's
    held = appointments.execute(
        "$hold", data=parameters({"name": "appointment", "resource": with_patient(first, clinic["patient"])})
    )
    fhir_validator.assert_valid(held)
    assert held["status"] == "pending" and (held["start"], held["end"]) == (first["start"], first["end"])
    assert f"Location/{clinic['room']}" in [p["actor"]["reference"] for p in held["participant"]]
    # the held time is no longer proposed
    again = resources(appointments.execute("$find", data=window))
    assert (first["start"], first["participant"][0]) not in [(p["start"], p["participant"][0]) for p in again]
    # $book of the pending one (with an Idempotency-Key, replayed as the same answer)
    keyed = SyncFHIRClient(
        f"{stack.url}/fhir", authorization=f"Bearer {me}", extra_headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    booking = parameters({"name": "appointment", "resource": dict(held)})
    booked = keyed.resources("Appointment").execute("$book", data=booking)
    fhir_validator.assert_valid(booked)
    assert booked["type"] == "collection"
    (appointment,) = resources(booked)
    assert appointment["status"] == "booked" and appointment["id"] != held["id"]
    assert keyed.resources("Appointment").execute("$book", data=booking) == booked
    # another $book of the same proposal: 409, an OperationOutcome with issue code conflict
    with pytest.raises(OperationOutcomeError) as refused:
        appointments.execute(
            "$book", data=parameters({"name": "appointment", "resource": with_patient(first, clinic["patient"])})
        )
    outcome = refused.value.resource
    fhir_validator.assert_valid(outcome)
    assert outcome["issue"][0]["code"] == "conflict"
    assert outcome["issue"][0]["details"]["coding"][0]["code"] in ("SLOT_UNAVAILABLE", "PATIENT_UNAVAILABLE")
    # the booking as FHIR reads it (the client's read), then cancelled by sending it back
    read = client.reference("Appointment", appointment["id"]).to_resource()
    assert read["status"] == "booked"
    sent_back = {**appointment, "status": "cancelled", "cancelationReason": {"text": "cannot come"}}
    cancelled = appointments.execute("$book", data=parameters({"name": "appointment", "resource": sent_back}))
    fhir_validator.assert_valid(cancelled)
    assert resources(cancelled)[0]["status"] == "cancelled"
    # the time is free again: $find proposes it
    free = resources(appointments.execute("$find", data=window))
    assert first["start"] in [p["start"] for p in free]


# ---------------------------------------------------------------------------- 50 racing $book calls
def test_fifty_racing_books_of_one_proposal_book_exactly_one(stack, clinic, fhir_validator):
    staff = stack.headers("staff")
    day = clinic["day"] + timedelta(days=1)
    patients = []
    for i in range(50):
        made = requests.post(
            f"{stack.url}/patients",
            json={"given_name": "Racer", "family_name": f"Fhir{i}", "birth_date": "1990-01-01", "sex": "unknown"},
            headers=staff,
            timeout=60,
        )
        assert made.status_code == 201, made.text
        patients.append(made.json()["id"])
    url = f"{stack.url}/fhir/Appointment/$book"
    found = requests.post(
        f"{stack.url}/fhir/Appointment/$find",
        json=find_parameters(
            clinic, at(day, "10:00"), at(day, "11:00"), count=1, practitioner=f"Practitioner/{clinic['doctors'][0]}"
        ),
        headers=staff,
        timeout=60,
    )
    assert found.status_code == 200, found.text
    (proposal,) = resources(found.json())

    def book(patient: str) -> requests.Response:
        body = parameters({"name": "appointment", "resource": with_patient(proposal, patient)})
        return requests.post(url, json=body, headers={**staff, "Content-Type": FHIR_JSON}, timeout=120)

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(book, patients))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] + [409] * 49, [r.text for r in answers if r.status_code not in (200, 409)]
    for refused in (r for r in answers if r.status_code == 409):
        assert refused.headers["Content-Type"] == FHIR_JSON
        outcome = refused.json()
        assert [i["code"] for i in outcome["issue"]] == ["conflict"], outcome
        assert outcome["issue"][0]["details"]["coding"][0]["code"] in ("SLOT_UNAVAILABLE", "RESOURCE_UNAVAILABLE")
    fhir_validator.assert_valid(next(r for r in answers if r.status_code == 409).json())
    (winner,) = [r.json() for r in answers if r.status_code == 200]
    fhir_validator.assert_valid(winner)
    # the doctor's schedule and the room's hold exactly one appointment then
    window = {"from": at(day, "00:00"), "to": at(day + timedelta(days=1), "00:00"), "limit": 100}
    schedule = requests.get(
        f"{stack.url}/doctors/{clinic['doctors'][0]}/schedule", params=window, headers=staff, timeout=60
    )
    at_that_time = [a for a in schedule.json()["items"] if a["start"] == proposal["start"]]
    assert [a["id"] for a in at_that_time] == [resources(winner)[0]["id"]]
    room = requests.get(f"{stack.url}/resources/{clinic['room']}/schedule", params=window, headers=staff, timeout=60)
    assert [a["id"] for a in room.json()["items"] if a["start"] == proposal["start"]] == [at_that_time[0]["id"]]


# ---------------------------------------------------------------------------- $find = GET /availability
def test_find_over_http_answers_what_get_availability_answers_page_by_page(stack, clinic, fhir_validator):
    staff = stack.headers("staff")
    day = clinic["day"] + timedelta(days=2)
    start, end = at(day, "08:00"), at(day + timedelta(days=1), "18:00")
    taken = requests.post(  # the room taken at 09:00 by one doctor: neither doctor is offered 09:00 then
        f"{stack.url}/appointments",
        json={
            "doctor_id": clinic["doctors"][1],
            "patient_id": clinic["patient"],
            "start": at(day, "09:00"),
            "appointment_type": "check-up",
        },
        headers=staff,
        timeout=60,
    )
    assert taken.status_code == 201, taken.text
    native_pages, token = [], None
    while True:
        query = {"from": start, "to": end, "location_id": clinic["site"], "appointment_type": "check-up", "limit": 9}
        answer = requests.get(
            f"{stack.url}/availability",
            params={**query, **({"next_token": token} if token else {})},
            headers=staff,
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        native_pages.append(answer.json()["items"])
        token = answer.json()["next_token"]
        if token is None:
            break
    found_pages, url = [], f"{stack.url}/fhir/Appointment/$find"
    while url:
        answer = requests.post(url, json=find_parameters(clinic, start, end, count=9), headers=staff, timeout=60)
        assert answer.status_code == 200 and answer.headers["Content-Type"] == FHIR_JSON, answer.text
        bundle = answer.json()
        fhir_validator.assert_valid(bundle)
        found_pages.append(bundle)
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
        if url:
            assert url.startswith(f"{stack.url}/fhir/Appointment/$find?") and dict(parse_qsl(urlsplit(url).query))

    def as_native(proposal: dict) -> dict:
        actors = [p["actor"]["reference"].split("/") for p in proposal["participant"]]
        return {
            "start": proposal["start"],
            "end": proposal["end"],
            "doctor_id": next(i for kind, i in actors if kind == "Practitioner"),
            "location_id": next(i for kind, i in actors if kind == "Location"),
            "appointment_type": proposal["serviceType"][0]["coding"][0]["code"],
        }

    assert [[as_native(p) for p in resources(b)] for b in found_pages] == native_pages
    assert len(native_pages) > 2 and {b["total"] for b in found_pages} == {sum(map(len, native_pages))}
    assert at(day, "09:00") not in {p["start"] for page in native_pages for p in page}
