"""Rooms and equipment booked with the doctor (API.md v1.2, "Rooms and equipment", "Locations",
"Earliest availability across doctors"), through the functions on warm containers:

- a type that needs kinds takes one free active resource of each at the interval's location, in the
  booking's own transaction, or the request's choice (resource_ids); none free → 409
  RESOURCE_UNAVAILABLE, nothing booked; a working interval without a location → 422;
- a closed location takes no booking and offers no slot; a deactivated resource is not taken again;
- holds and confirms carry their rooms; a reschedule keeps its rooms where free, or swaps them;
  cancelling frees them at once;
- availability offers only starts with every kind free; GET /availability merges every doctor's own
  availability, by start then doctor, paginated;
- the day sheet and a resource's schedule.

Days come from tests/days.py (two days ahead or more, in the doctors' zone and in UTC)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests import days
from tests.claims import claims_of
from tests.handlers.conftest import event_for
from tests.handlers.helpers import problem, snapshot

NY = "America/New_York"
STAFF = claims_of("staff", sub="staff-rooms")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
CHECK_UP = {"code": "check-up", "name": "Check-up", "duration_minutes": 30, "resource_kinds": ["exam-room"]}
SCAN = {
    "code": "scan",
    "name": "Ultrasound scan",
    "duration_minutes": 30,
    "buffer_after_minutes": 10,
    "resource_kinds": ["exam-room", "ultrasound"],
}
PATIENT = {"given_name": "Pat", "family_name": "Room", "birth_date": "1980-05-05", "sex": "other"}


def post(invoke, function, resource, body, path=None, claims=STAFF):
    response = invoke(function, event_for("POST", resource, path, body=body, claims=claims))
    assert response["statusCode"] == 201, response
    return response["json"]


@pytest.fixture
def site(invoke):
    """Downtown (two exam rooms and an ultrasound) and Uptown (one room), in New York; a doctor working at
    Downtown in the mornings and Uptown in the afternoons, and one at no particular place."""
    downtown = post(invoke, "CreateLocationFunction", "/locations", {"name": "Downtown", "time_zone": NY})["id"]
    uptown = post(invoke, "CreateLocationFunction", "/locations", {"name": "Uptown", "time_zone": NY})["id"]

    def resource(location, name, kind, category="room"):
        body = {"location_id": location, "name": name, "kind": kind, "category": category}
        return post(invoke, "CreateResourceFunction", "/resources", body)["id"]

    room_a, room_b = resource(downtown, "Room A", "exam-room"), resource(downtown, "Room B", "exam-room")
    echo = resource(downtown, "Echo", "ultrasound", "equipment")
    room_u = resource(uptown, "Room U", "exam-room")
    hours = {
        d: [
            {"start": "09:00", "end": "12:00", "location_id": downtown},
            {"start": "13:00", "end": "17:00", "location_id": uptown},
        ]
        for d in WEEKDAYS
    }
    doctor = {
        "given_name": "Doc",
        "family_name": "Sited",
        "specialty": "Radiology",
        "time_zone": NY,
        "slot_minutes": 15,
        "working_hours": hours,
        "appointment_types": [CHECK_UP, SCAN],
    }
    first = post(invoke, "CreateDoctorFunction", "/doctors", doctor)["id"]
    second = post(invoke, "CreateDoctorFunction", "/doctors", {**doctor, "family_name": "Second"})["id"]
    mornings = {d: [{"start": "09:00", "end": "12:00", "location_id": downtown}] for d in WEEKDAYS}
    third = post(
        invoke, "CreateDoctorFunction", "/doctors", {**doctor, "family_name": "Third", "working_hours": mornings}
    )["id"]
    nowhere = post(
        invoke,
        "CreateDoctorFunction",
        "/doctors",
        {
            **doctor,
            "family_name": "Nowhere",
            "working_hours": {d: [{"start": "09:00", "end": "17:00"}] for d in WEEKDAYS},
        },
    )["id"]
    patients = [
        post(invoke, "RegisterPatientFunction", "/patients", {**PATIENT, "given_name": f"P{i}"})["id"] for i in range(6)
    ]
    return {
        "downtown": downtown,
        "uptown": uptown,
        "room_a": room_a,
        "room_b": room_b,
        "echo": echo,
        "room_u": room_u,
        "doctor": first,
        "second": second,
        "third": third,
        "nowhere": nowhere,
        "patients": patients,
        "day": days.monday(),
    }


def book(invoke, site, hhmm, *, patient=0, doctor="doctor", type_code="check-up", day=None, **fields):
    body = {
        "patient_id": site["patients"][patient],
        "doctor_id": site[doctor],
        "start": days.at(day or site["day"], hhmm),
        "appointment_type": type_code,
        **fields,
    }
    return invoke("BookAppointmentFunction", event_for("POST", "/appointments", body=body, claims=STAFF))


def rooms_of(answer) -> list[str]:
    return [r["id"] for r in answer["json"]["resources"]]


# ============================================================================ booking takes rooms
def test_a_booking_of_a_type_that_needs_a_room_takes_the_first_free_one_at_its_location(invoke, site):
    first = book(invoke, site, "09:00", patient=0)
    assert first["statusCode"] == 201, first
    assert first["json"]["location_id"] == site["downtown"] and rooms_of(first) == [site["room_a"]]
    assert first["json"]["resources"] == [{"id": site["room_a"], "kind": "exam-room"}]
    second = book(invoke, site, "09:00", patient=1, doctor="second")
    assert rooms_of(second) == [site["room_b"]]  # Room A is taken then: the next by name
    before = snapshot_client()
    third = book(invoke, site, "09:15", patient=2, doctor="second", day=site["day"])  # the second doctor is busy
    problem(third, 409, "SLOT_UNAVAILABLE")
    assert snapshot_client() == before


def test_none_free_is_resource_unavailable_and_books_nothing(invoke, site):
    assert book(invoke, site, "09:00", patient=0)["statusCode"] == 201
    assert book(invoke, site, "09:00", patient=1, doctor="second")["statusCode"] == 201
    before = snapshot_client()
    refused = problem(book(invoke, site, "09:15", patient=2, doctor="third"), 409, "RESOURCE_UNAVAILABLE")
    assert refused["detail"]
    assert snapshot_client() == before
    # the afternoon is at Uptown, whose one room is free
    afternoon = book(invoke, site, "14:00", patient=2)
    assert afternoon["json"]["location_id"] == site["uptown"] and rooms_of(afternoon) == [site["room_u"]]


def test_a_type_that_needs_two_kinds_takes_one_of_each_and_its_buffer_holds_them(invoke, site):
    scan = book(invoke, site, "09:00", patient=0, type_code="scan")
    assert scan["json"]["resources"] == [
        {"id": site["room_a"], "kind": "exam-room"},
        {"id": site["echo"], "kind": "ultrasound"},
    ]
    # the ultrasound is busy until 09:40 (its 10-minute buffer after): another scan at 09:30 is refused
    problem(book(invoke, site, "09:30", patient=1, doctor="second", type_code="scan"), 409, "RESOURCE_UNAVAILABLE")
    assert book(invoke, site, "09:45", patient=1, doctor="second", type_code="scan")["statusCode"] == 201


def test_the_request_may_choose_its_rooms_and_a_bad_choice_is_refused(invoke, site):
    chosen = book(invoke, site, "10:00", patient=0, resource_ids=[site["room_b"]])
    assert rooms_of(chosen) == [site["room_b"]]
    for ids, message in (
        ([site["room_u"]], "another location"),  # a room of the other site
        ([site["echo"]], "wrong kind"),
        ([site["room_a"], site["room_b"]], "two of one kind"),
        ([str(__import__("uuid").uuid4())], "unknown"),
    ):
        refused = problem(book(invoke, site, "11:00", patient=1, resource_ids=ids), 422, "VALIDATION_ERROR")
        assert refused["errors"][0]["field"] == "resource_ids", message
    # a chosen room that is busy: 409, not another room
    problem(
        book(invoke, site, "10:00", patient=2, doctor="second", resource_ids=[site["room_b"]]),
        409,
        "RESOURCE_UNAVAILABLE",
    )
    # a type that needs none, given rooms: 422
    plain = {
        "patient_id": site["patients"][3],
        "doctor_id": site["doctor"],
        "start": days.at(site["day"], "11:30"),
        "resource_ids": [site["room_a"]],
    }
    problem(invoke("BookAppointmentFunction", event_for("POST", "/appointments", body=plain)), 422, "VALIDATION_ERROR")


def test_a_type_that_needs_rooms_cannot_be_booked_where_no_location_is_worked(invoke, site):
    refused = problem(book(invoke, site, "09:00", doctor="nowhere"), 422, "VALIDATION_ERROR")
    assert refused["errors"][0]["field"] == "start"


def test_a_closed_location_takes_no_booking_and_offers_no_slot_and_a_deactivated_room_is_not_taken(invoke, site):
    closed = invoke(
        "UpdateLocationFunction",
        event_for("PATCH", "/locations/{location_id}", {"location_id": site["uptown"]}, body={"active": False}),
    )
    assert closed["statusCode"] == 200
    problem(book(invoke, site, "14:00"), 422, "VALIDATION_ERROR")
    plain = {
        "patient_id": site["patients"][0],
        "doctor_id": site["doctor"],
        "start": days.at(site["day"], "14:00"),
        "duration_minutes": 15,
    }
    problem(invoke("BookAppointmentFunction", event_for("POST", "/appointments", body=plain)), 422, "VALIDATION_ERROR")
    slots = availability(invoke, site, "doctor")
    assert slots and all(s["location_id"] == site["downtown"] for s in slots)
    # Room A deactivated: the next booking takes Room B; with B taken, none is free
    off = invoke(
        "UpdateResourceFunction",
        event_for("PATCH", "/resources/{resource_id}", {"resource_id": site["room_a"]}, body={"active": False}),
    )
    assert off["statusCode"] == 200
    assert rooms_of(book(invoke, site, "09:00", patient=1)) == [site["room_b"]]
    problem(book(invoke, site, "09:00", patient=2, doctor="second"), 409, "RESOURCE_UNAVAILABLE")


# ============================================================================ holds, reschedules, cancels
def test_a_hold_keeps_its_room_and_confirming_books_exactly_it(invoke, site):
    body = {
        "patient_id": site["patients"][0],
        "doctor_id": site["doctor"],
        "start": days.at(site["day"], "09:00"),
        "appointment_type": "check-up",
    }
    held = post(invoke, "PlaceHoldFunction", "/holds", body)
    assert held["location_id"] == site["downtown"] and held["resources"] == [
        {"id": site["room_a"], "kind": "exam-room"}
    ]
    assert rooms_of(book(invoke, site, "09:00", patient=1, doctor="second")) == [site["room_b"]]
    confirmed = invoke(
        "ConfirmHoldFunction", event_for("POST", "/holds/{hold_id}/confirm", {"hold_id": held["id"]}, body={})
    )
    assert confirmed["statusCode"] == 201 and rooms_of(confirmed) == [site["room_a"]]
    assert confirmed["json"]["location_id"] == site["downtown"]


def test_a_reschedule_keeps_its_room_where_free_swaps_it_where_not_and_moves_sites(invoke, site):
    moving = book(invoke, site, "09:00", patient=0)["json"]
    assert moving["resources"][0]["id"] == site["room_a"]

    def move(hhmm, **fields):
        return invoke(
            "UpdateAppointmentFunction",
            event_for(
                "PATCH",
                "/appointments/{appointment_id}",
                {"appointment_id": moving["id"]},
                body={"start": days.at(site["day"], hhmm), **fields},
            ),
        )

    kept = move("09:15")  # overlapping its own time: Room A is still free for it
    assert kept["statusCode"] == 200 and rooms_of(kept) == [site["room_a"]]
    book(invoke, site, "10:00", patient=1, doctor="second")  # takes Room A at 10:00
    swapped = move("10:00")
    assert swapped["statusCode"] == 200 and rooms_of(swapped) == [site["room_b"]]
    across = move("14:00")  # the afternoon is at Uptown: its room
    assert across["json"]["location_id"] == site["uptown"] and rooms_of(across) == [site["room_u"]]
    # and every room it left is free again
    assert rooms_of(book(invoke, site, "10:00", patient=2)) == [site["room_b"]]


def test_cancelling_frees_the_room_at_once(invoke, site):
    first = book(invoke, site, "09:00", patient=0)["json"]
    book(invoke, site, "09:00", patient=1, doctor="second")
    cancelled = invoke(
        "CancelAppointmentFunction",
        event_for(
            "POST", "/appointments/{appointment_id}/cancel", {"appointment_id": first["id"]}, body={"reason": "r"}
        ),
    )
    assert cancelled["statusCode"] == 200
    again = book(invoke, site, "09:00", patient=2, doctor="third")
    assert again["statusCode"] == 201 and rooms_of(again) == [site["room_a"]]


# ============================================================================ availability
def availability(invoke, site, doctor, type_code=None, day=None):
    day = day or site["day"]
    query = {"from": days.at(day, "00:00"), "to": days.at(day + timedelta(days=1), "00:00")}
    if type_code:
        query["appointment_type"] = type_code
    response = invoke(
        "DoctorAvailabilityFunction",
        event_for("GET", "/doctors/{doctor_id}/availability", {"doctor_id": site[doctor]}, query=query),
    )
    assert response["statusCode"] == 200, response
    return response["json"]["slots"]


def test_availability_offers_a_type_only_where_each_kind_has_a_free_resource(invoke, site):
    ten = _utc(days.at(site["day"], "10:00"))
    starts = lambda type_code=None: {s["start"][:16] for s in availability(invoke, site, "second", type_code)}
    assert ten in starts("check-up")
    assert all(s["location_id"] for s in availability(invoke, site, "second", "check-up"))
    book(invoke, site, "10:00", patient=0)  # Room A at 10:00
    assert ten in starts("check-up")  # Room B is still free
    book(invoke, site, "10:00", patient=1, doctor="third")  # Room B too
    assert ten not in starts("check-up")  # no room free at 10:00
    assert ten in starts()  # though the doctor is: a visit that needs no room is offered


def _utc(moment: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromisoformat(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def earliest(invoke, site, claims=STAFF, **query):
    day = site["day"]
    base = {"from": days.at(day, "00:00"), "to": days.at(day + timedelta(days=2), "00:00"), **query}
    response = invoke("EarliestAvailabilityFunction", event_for("GET", "/availability", query=base, claims=claims))
    assert response["statusCode"] == 200, response
    return response["json"]


def all_pages(invoke, site, **query):
    items, token = [], None
    while True:
        page = earliest(invoke, site, **query, **({"next_token": token} if token else {}))
        items += page["items"]
        token = page["next_token"]
        if not token:
            return items


def test_earliest_availability_merges_every_doctors_own_slots_by_start_then_doctor(invoke, site):
    book(invoke, site, "09:00", patient=0)  # Room A at 09:00 with the first doctor
    for type_code, location in ((None, None), ("check-up", site["downtown"]), ("scan", None), (None, site["uptown"])):
        query = {k: v for k, v in (("appointment_type", type_code), ("location_id", location)) if v}
        merged = all_pages(invoke, site, limit="7", **query)
        expected = []
        for doctor in ("doctor", "second", "third", "nowhere"):
            for two in (0, 1):
                for slot in availability(invoke, site, doctor, type_code, day=site["day"] + timedelta(days=two)):
                    if location is None or slot["location_id"] == location:
                        expected.append({**slot, "doctor_id": site[doctor], "appointment_type": type_code})
        expected.sort(key=lambda s: (s["start"], s["doctor_id"]))
        assert merged == expected, (type_code, location)


def test_earliest_availability_by_specialty_and_for_a_patient_hides_what_the_notice_forbids(invoke, site):
    assert {s["doctor_id"] for s in all_pages(invoke, site, specialty="radiology")} == {
        site["doctor"],
        site["second"],
        site["third"],
        site["nowhere"],
    }
    assert all_pages(invoke, site, specialty="Dermatology") == []
    patient = claims_of("patient", site["patients"][0], sub="p-rooms")
    assert earliest(invoke, site, claims=patient)["items"]


# ============================================================================ the day sheet, a room's schedule
def test_the_day_sheet_lists_the_days_doctors_rooms_and_appointments_with_their_patients(invoke, site):
    first = book(invoke, site, "09:00", patient=0)["json"]
    second = book(invoke, site, "10:00", patient=1, doctor="second")["json"]
    elsewhere = book(invoke, site, "14:00", patient=2)["json"]  # at Uptown
    cancelled = book(invoke, site, "11:00", patient=3)["json"]
    invoke(
        "CancelAppointmentFunction",
        event_for(
            "POST", "/appointments/{appointment_id}/cancel", {"appointment_id": cancelled["id"]}, body={"reason": "r"}
        ),
    )
    sheet = invoke(
        "LocationDayFunction",
        event_for(
            "GET",
            "/locations/{location_id}/day",
            {"location_id": site["downtown"]},
            query={"date": site["day"].isoformat()},
        ),
    )
    assert sheet["statusCode"] == 200, sheet
    body = sheet["json"]
    assert (
        body["date"] == site["day"].isoformat() and body["time_zone"] == NY and body["location_id"] == site["downtown"]
    )
    assert {d["id"] for d in body["doctors"]} == {site["doctor"], site["second"], site["third"]}
    assert [r["id"] for r in body["resources"]] == [site["echo"], site["room_a"], site["room_b"]]
    assert [a["id"] for a in body["appointments"]] == [first["id"], second["id"]]
    assert body["appointments"][0]["patient"] == {
        "id": site["patients"][0],
        "given_name": "P0",
        "family_name": "Room",
        "birth_date": "1980-05-05",
    }
    assert elsewhere["id"] not in {a["id"] for a in body["appointments"]}
    # every patient listed is on their trail
    for patient in site["patients"][:2]:
        trail = invoke(
            "PatientAccessLogFunction",
            event_for("GET", "/patients/{patient_id}/access-log", {"patient_id": patient}),
        )["json"]["items"]
        assert "location.day" in {r["action"] for r in trail}


def test_a_rooms_schedule_lists_the_appointments_that_take_it(invoke, site):
    a = book(invoke, site, "09:00", patient=0)["json"]  # Room A
    book(invoke, site, "09:00", patient=1, doctor="second")  # Room B
    c = book(invoke, site, "10:00", patient=2, doctor="second")["json"]  # Room A again
    day: date = site["day"]
    schedule = invoke(
        "ResourceScheduleFunction",
        event_for(
            "GET",
            "/resources/{resource_id}/schedule",
            {"resource_id": site["room_a"]},
            query={"from": days.at(day, "00:00"), "to": days.at(day + timedelta(days=1), "00:00")},
        ),
    )
    assert schedule["statusCode"] == 200, schedule
    assert [x["id"] for x in schedule["json"]["items"]] == [a["id"], c["id"]]


def snapshot_client():
    import boto3

    return snapshot(boto3.client("dynamodb", region_name="us-east-1"))
