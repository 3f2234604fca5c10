"""Doctors at locations (API.md v1.2, "Locations"): working-hour intervals that name a location, checked
in the doctor's own write (unknown 404; inactive or in another zone 422, also when only the doctor's
zone changes); appointment types' resource_kinds; the doctor item's ``sites`` / ``sites_none``; the
location's membership items kept in the same transaction as the doctor; GET /doctors?location_id= and
``clinic.services.doctors.at_location``."""

from __future__ import annotations

import uuid

import boto3
import pytest
from boto3.dynamodb.conditions import Key

from tests.claims import claims_of
from tests.handlers.conftest import event_for
from tests.handlers.helpers import in_function, problem, snapshot
from tests.handlers.test_locations import create_location, patch_location

NY = "America/New_York"
DOCTOR = {
    "given_name": "Joseph",
    "family_name": "Lister",
    "specialty": "Surgery",
    "time_zone": NY,
    "slot_minutes": 30,
}


def at(location_id: str | None, start: str = "09:00", end: str = "12:00") -> dict:
    return {"start": start, "end": end, **({"location_id": location_id} if location_id else {})}


def create_doctor(invoke, hours: dict, **fields) -> dict:
    response = invoke(
        "CreateDoctorFunction", event_for("POST", "/doctors", body={**DOCTOR, "working_hours": hours, **fields})
    )
    assert response["statusCode"] == 201, response
    return response["json"]


def patch_doctor(invoke, doctor_id: str, body: dict) -> dict:
    return invoke(
        "UpdateDoctorFunction", event_for("PATCH", "/doctors/{doctor_id}", {"doctor_id": doctor_id}, body=body)
    )


def stored_doctor(doctor_id: str) -> dict:
    from clinic.config import settings

    table = boto3.resource("dynamodb", region_name="us-east-1").Table(settings().doctors_table)
    return table.get_item(Key={"id": doctor_id})["Item"]


def members(location_id: str) -> set[str]:
    """The doctors the location's membership items name (location#<id> / #doctor#<id>)."""
    from clinic.config import settings

    table = boto3.resource("dynamodb", region_name="us-east-1").Table(settings().slot_locks_table)
    items = table.query(KeyConditionExpression=Key("owner").eq(f"location#{location_id}"))["Items"]
    assert all(i["hour"] == f"#doctor#{i['doctor_id']}" for i in items), items
    return {i["doctor_id"] for i in items}


def copies(location_id: str) -> dict[str, dict]:
    """The copies of the doctors that the location's membership items carry, by doctor id."""
    from clinic.config import settings
    from clinic.data.dynamo import plain

    table = boto3.resource("dynamodb", region_name="us-east-1").Table(settings().slot_locks_table)
    items = table.query(KeyConditionExpression=Key("owner").eq(f"location#{location_id}"))["Items"]
    return {i["doctor_id"]: plain(i.get("doctor")) for i in items}


def listed_doctors(invoke, query: dict) -> list[str]:
    ids, token = [], None
    while True:
        response = invoke(
            "ListDoctorsFunction",
            event_for("GET", "/doctors", query={**query, **({"next_token": token} if token else {})}),
        )
        assert response["statusCode"] == 200, response
        ids += [d["id"] for d in response["json"]["items"]]
        token = response["json"]["next_token"]
        if token is None:
            return ids


@pytest.fixture
def places(invoke):
    """Two active locations in New York's zone, one in London's, one closed (in New York's)."""
    closed = create_location(invoke, name="Closed")["id"]
    patch_location(invoke, closed, {"active": False})
    return {
        "north": create_location(invoke, name="North")["id"],
        "south": create_location(invoke, name="South")["id"],
        "london": create_location(invoke, name="London", time_zone="Europe/London")["id"],
        "closed": closed,
    }


@pytest.fixture
def transactions(aws, monkeypatch) -> list[list[dict]]:
    """The items of every TransactWriteItems call, in order."""
    from botocore.client import BaseClient

    seen: list[list[dict]] = []
    original = BaseClient._make_api_call

    def record(client, operation, params):
        if operation == "TransactWriteItems":
            seen.append(params["TransactItems"])
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return seen


# ------------------------------------------------------------------------------------------ the answer
def test_every_interval_answers_its_location_or_null_and_types_their_resource_kinds(invoke, places):
    """Given hours with and without a location and types with and without resource kinds, then the answer
    shows location_id on every interval (null where none) and resource_kinds on every type ([] by default)."""
    doctor = create_doctor(
        invoke,
        {"mon": [at(places["north"]), at(None, "13:00", "17:00")], "tue": [at(places["south"])]},
        appointment_types=[
            {"code": "scan", "name": "Scan", "duration_minutes": 30, "resource_kinds": ["ultrasound", "exam-room"]},
            {"code": "talk", "name": "Talk", "duration_minutes": 30},
        ],
    )
    assert doctor["working_hours"] == {
        "mon": [
            {"start": "09:00", "end": "12:00", "location_id": places["north"]},
            {"start": "13:00", "end": "17:00", "location_id": None},
        ],
        "tue": [{"start": "09:00", "end": "12:00", "location_id": places["south"]}],
    }
    assert [t["resource_kinds"] for t in doctor["appointment_types"]] == [["ultrasound", "exam-room"], []]
    read = invoke("GetDoctorFunction", event_for("GET", "/doctors/{doctor_id}", {"doctor_id": doctor["id"]}))
    assert read["json"] == doctor
    assert "sites" not in doctor and "sites_none" not in doctor  # kept on the item, not answered


@pytest.mark.parametrize(
    "kinds",
    [["a", "b", "c", "d"], ["echo", "echo"], ["Exam-Room"], ["x" * 41], [""], "ultrasound"],
    ids=["four", "repeated", "upper case", "too long", "empty", "not a list"],
)
def test_resource_kinds_are_at_most_three_distinct_kinds(invoke, aws, kinds):
    before = snapshot(aws)
    kind = {"code": "scan", "name": "Scan", "duration_minutes": 30, "resource_kinds": kinds}
    response = invoke(
        "CreateDoctorFunction", event_for("POST", "/doctors", body={**DOCTOR, "appointment_types": [kind]})
    )
    answer = problem(response, 422, "VALIDATION_ERROR")
    assert any(e["field"].startswith("appointment_types.0.resource_kinds") for e in answer["errors"]), answer
    assert snapshot(aws) == before


# ------------------------------------------------------------------------------------------ the checks
def test_an_interval_at_an_unknown_location_is_a_404_naming_it(invoke, aws, places):
    before = snapshot(aws)
    nowhere = str(uuid.uuid4())
    hours = {"mon": [at(places["north"]), at(nowhere, "13:00", "14:00")], "wed": [at(nowhere)]}
    response = invoke("CreateDoctorFunction", event_for("POST", "/doctors", body={**DOCTOR, "working_hours": hours}))
    answer = problem(response, 404, "NOT_FOUND")
    assert sorted(e["field"] for e in answer["errors"]) == [
        "working_hours.mon[1].location_id",
        "working_hours.wed[0].location_id",
    ]
    assert snapshot(aws) == before


@pytest.mark.parametrize("where", ["closed", "london"])
def test_an_interval_at_an_inactive_location_or_one_in_another_zone_is_a_422(invoke, aws, places, where):
    before = snapshot(aws)
    hours = {"mon": [at(places["north"])], "fri": [at(places[where])]}
    response = invoke("CreateDoctorFunction", event_for("POST", "/doctors", body={**DOCTOR, "working_hours": hours}))
    answer = problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in answer["errors"]] == ["working_hours.fri[0].location_id"]
    assert snapshot(aws) == before


def test_a_malformed_location_id_in_an_interval_is_a_422(invoke, aws):
    hours = {"mon": [{"start": "09:00", "end": "12:00", "location_id": "north"}]}
    response = invoke("CreateDoctorFunction", event_for("POST", "/doctors", body={**DOCTOR, "working_hours": hours}))
    answer = problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in answer["errors"]] == ["working_hours.mon.0.location_id"]


def test_a_patch_of_the_hours_checks_their_locations_the_same_way(invoke, aws, places):
    doctor = create_doctor(invoke, {"mon": [at(places["north"])]})
    before = snapshot(aws)
    problem(patch_doctor(invoke, doctor["id"], {"working_hours": {"tue": [at(str(uuid.uuid4()))]}}), 404, "NOT_FOUND")
    for where in ("closed", "london"):
        answer = problem(
            patch_doctor(invoke, doctor["id"], {"working_hours": {"tue": [at(places[where])]}}), 422, "VALIDATION_ERROR"
        )
        assert [e["field"] for e in answer["errors"]] == ["working_hours.tue[0].location_id"]
    assert snapshot(aws) == before


def test_changing_only_the_doctors_zone_away_from_its_locations_zone_is_a_422(invoke, aws, places):
    """Given a doctor whose hours name New York locations, when a PATCH changes only the doctor's zone,
    then 422 naming every interval at a location in the old zone; nothing changes. A doctor without
    located hours changes zone freely; one whose hours name London's site may move to London's zone."""
    doctor = create_doctor(
        invoke, {"mon": [at(places["north"]), at(None, "13:00", "14:00")], "thu": [at(places["south"])]}
    )
    before = snapshot(aws)
    answer = problem(patch_doctor(invoke, doctor["id"], {"time_zone": "Europe/London"}), 422, "VALIDATION_ERROR")
    assert sorted(e["field"] for e in answer["errors"]) == [
        "working_hours.mon[0].location_id",
        "working_hours.thu[0].location_id",
    ]
    assert snapshot(aws) == before
    # the zone and the hours changed together, to London's site: accepted
    moved = patch_doctor(
        invoke, doctor["id"], {"time_zone": "Europe/London", "working_hours": {"mon": [at(places["london"])]}}
    )
    assert moved["statusCode"] == 200, moved
    free = create_doctor(invoke, {"mon": [at(None)]})
    assert patch_doctor(invoke, free["id"], {"time_zone": "Asia/Tokyo"})["statusCode"] == 200


def test_a_patch_that_leaves_hours_and_zone_alone_does_not_recheck_their_locations(invoke, places):
    """A location deactivated after a doctor's hours named it: a rename of the doctor is not refused for
    it (only a PATCH of working_hours or time_zone checks the locations); booking there is what refuses."""
    doctor = create_doctor(invoke, {"mon": [at(places["south"])]})
    patch_location(invoke, places["south"], {"active": False})
    response = patch_doctor(invoke, doctor["id"], {"family_name": "Lister-Smith", "active": False})
    assert response["statusCode"] == 200, response
    # but hours sent again that still name it are checked
    again = patch_doctor(invoke, doctor["id"], {"working_hours": {"mon": [at(places["south"])]}})
    problem(again, 422, "VALIDATION_ERROR")


# ------------------------------------------------------------------------------------------ sites
def test_sites_are_the_union_of_every_location_ever_named_and_sites_none_sticks(invoke, places):
    """sites: every location the hours ever named (never shrinks); sites_none: true once an interval without
    a location was stored, and true for ever after."""
    doctor = create_doctor(invoke, {"mon": [at(places["north"])]})
    item = stored_doctor(doctor["id"])
    assert (item["sites"], item["sites_none"]) == ([places["north"]], False)
    patch_doctor(invoke, doctor["id"], {"working_hours": {"tue": [at(places["south"])]}})
    item = stored_doctor(doctor["id"])
    assert (item["sites"], item["sites_none"]) == (sorted([places["north"], places["south"]]), False)
    patch_doctor(invoke, doctor["id"], {"working_hours": {"tue": [at(None)]}})
    patch_doctor(invoke, doctor["id"], {"working_hours": {"wed": [at(places["north"])]}})
    item = stored_doctor(doctor["id"])
    assert (item["sites"], item["sites_none"]) == (sorted([places["north"], places["south"]]), True)
    # a doctor with no hours at all has named no site and worked nowhere in particular yet
    empty = stored_doctor(create_doctor(invoke, {})["id"])
    assert (empty["sites"], empty["sites_none"]) == ([], False)


def test_a_doctor_stored_before_locations_is_read_as_sites_none(invoke, places):
    """A doctor item without sites/sites_none (written before this change) keeps sites_none true when its
    hours are first given a location: its earlier hours named none."""
    from clinic.config import settings

    doctor = create_doctor(invoke, {"mon": [at(None)]})
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(settings().doctors_table)
    table.update_item(Key={"id": doctor["id"]}, UpdateExpression="REMOVE sites, sites_none")
    patch_doctor(invoke, doctor["id"], {"working_hours": {"mon": [at(places["north"])]}})
    item = stored_doctor(doctor["id"])
    assert (item["sites"], item["sites_none"]) == ([places["north"]], True)
    assert members(places["north"]) == {doctor["id"]}


# ------------------------------------------------------------------------------------------ membership
def test_membership_follows_the_hours_in_the_doctors_own_transaction(invoke, places, transactions):
    """Given a doctor created at North and South, then both list it, written in the one transaction that
    puts the doctor (with a check of each location); when its hours leave North for South alone,
    North's item is deleted in the PATCH's one transaction and South's stays."""
    doctor = create_doctor(invoke, {"mon": [at(places["north"])], "tue": [at(places["south"])]})
    assert members(places["north"]) == members(places["south"]) == {doctor["id"]}
    (created,) = transactions
    kinds = sorted((next(iter(a)), a[next(iter(a))]["TableName"].split("-")[-1]) for a in created)
    assert [k for k, _ in kinds].count("Put") == 3 and [k for k, _ in kinds].count("ConditionCheck") == 2, kinds
    transactions.clear()
    response = patch_doctor(invoke, doctor["id"], {"working_hours": {"tue": [at(places["south"])], "wed": [at(None)]}})
    assert response["statusCode"] == 200, response
    assert members(places["north"]) == set() and members(places["south"]) == {doctor["id"]}
    (moved,) = transactions
    deleted = [a["Delete"]["Key"] for a in moved if "Delete" in a]
    assert deleted == [{"owner": f"location#{places['north']}", "hour": f"#doctor#{doctor['id']}"}]
    assert any("Put" in a and a["Put"]["Item"]["id"] == doctor["id"] for a in moved)


def test_a_refused_write_changes_no_membership(invoke, aws, places):
    doctor = create_doctor(invoke, {"mon": [at(places["north"])]})
    before = snapshot(aws)
    # moving to South and to a closed site at once: refused as a whole, North keeps the doctor
    response = patch_doctor(
        invoke, doctor["id"], {"working_hours": {"mon": [at(places["south"])], "tue": [at(places["closed"])]}}
    )
    problem(response, 422, "VALIDATION_ERROR")
    assert snapshot(aws) == before and members(places["north"]) == {doctor["id"]}


def test_time_off_leaves_membership_and_sites_alone(invoke, places):
    doctor = create_doctor(invoke, {"mon": [at(places["north"])]})
    before = stored_doctor(doctor["id"])
    away = {"start": "2099-01-05T00:00:00Z", "end": "2099-01-06T00:00:00Z", "kind": "training"}
    response = invoke(
        "CreateTimeOffFunction",
        event_for("POST", "/doctors/{doctor_id}/time-off", {"doctor_id": doctor["id"]}, body=away),
    )
    assert response["statusCode"] == 201, response
    after = stored_doctor(doctor["id"])
    assert (after["sites"], after["sites_none"]) == (before["sites"], before["sites_none"])
    assert members(places["north"]) == {doctor["id"]}


def test_every_write_of_a_doctor_leaves_the_copies_on_its_membership_items_equal_to_it(invoke, places):
    """Given a doctor at North and South, after each kind of write — create, a PATCH of other fields, time
    off added and deleted, deactivation, hours moved off North — every membership item of the doctor
    carries a copy equal to the doctor as stored (the search and the day sheet read the copies alone)."""
    from clinic.data.dynamo import plain

    doctor = create_doctor(invoke, {"mon": [at(places["north"])], "tue": [at(places["south"])]})
    path = {"doctor_id": doctor["id"]}

    def copies_match(where: tuple[str, ...]) -> None:
        stored = plain(stored_doctor(doctor["id"]))
        for name in ("north", "south"):
            expected = {doctor["id"]: stored} if name in where else {}
            assert copies(places[name]) == expected, name

    copies_match(("north", "south"))
    assert patch_doctor(invoke, doctor["id"], {"given_name": "Joe"})["statusCode"] == 200
    copies_match(("north", "south"))
    away = {"start": "2099-01-05T00:00:00Z", "end": "2099-01-06T00:00:00Z", "kind": "training"}
    added = invoke("CreateTimeOffFunction", event_for("POST", "/doctors/{doctor_id}/time-off", path, body=away))
    assert added["statusCode"] == 201, added
    copies_match(("north", "south"))
    assert copies(places["north"])[doctor["id"]]["time_off"][0]["id"] == added["json"]["id"]
    deleted = invoke(
        "DeleteTimeOffFunction",
        event_for(
            "DELETE", "/doctors/{doctor_id}/time-off/{time_off_id}", {**path, "time_off_id": added["json"]["id"]}
        ),
    )
    assert deleted["statusCode"] == 204, deleted
    copies_match(("north", "south"))
    assert patch_doctor(invoke, doctor["id"], {"active": False})["statusCode"] == 200
    copies_match(("north", "south"))
    assert patch_doctor(invoke, doctor["id"], {"working_hours": {"tue": [at(places["south"])]}})["statusCode"] == 200
    copies_match(("south",))


def test_a_membership_item_without_a_copy_is_read_from_the_doctors_table(invoke, places, monkeypatch):
    """Membership items written before they carried copies: at_location and the list read those doctors'
    records instead, and answer the same doctors as with copies."""
    from clinic.config import settings
    from clinic.services import doctors

    with_copy, without = (create_doctor(invoke, {"mon": [at(places["north"])]})["id"] for _ in range(2))
    expected = sorted([with_copy, without])
    in_function(monkeypatch, "ListDoctorsFunction")
    before = [d["id"] for d in doctors.at_location(places["north"])]
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(settings().slot_locks_table)
    table.update_item(
        Key={"owner": f"location#{places['north']}", "hour": f"#doctor#{without}"}, UpdateExpression="REMOVE doctor"
    )
    assert copies(places["north"])[without] is None
    found = doctors.at_location(places["north"])
    assert before == [d["id"] for d in found] == expected
    assert all("version" in d and d["working_hours"]["mon"][0]["location_id"] == places["north"] for d in found)
    assert listed_doctors(invoke, {"location_id": places["north"]}) == expected


def test_a_keyed_create_with_locations_retried_answers_the_same_doctor_once(invoke, aws, places):
    request = event_for(
        "POST",
        "/doctors",
        body={**DOCTOR, "working_hours": {"mon": [at(places["north"])]}},
        claims=claims_of("staff", sub="k"),
    )
    request["headers"]["Idempotency-Key"] = "doctor-at-north"
    first, again = invoke("CreateDoctorFunction", request), invoke("CreateDoctorFunction", request)
    assert first["statusCode"] == again["statusCode"] == 201 and again["json"] == first["json"], (first, again)
    assert again["headers"]["Idempotent-Replayed"] == "true"
    assert members(places["north"]) == {first["json"]["id"]}


def test_a_keyed_create_whose_answer_was_lost_finds_its_own_doctor(invoke, places, monkeypatch):
    """The transaction committed, the answer was lost: the retry (same key → same id) fails on the doctor's
    own condition and answers the doctor already there."""
    from clinic.models.doctors import DoctorCreate
    from clinic.services import doctors, keyed

    in_function(monkeypatch, "CreateDoctorFunction")

    body = DoctorCreate.model_validate({**DOCTOR, "working_hours": {"mon": [at(places["north"])]}})
    with keyed("POST /doctors#sub#lost"):
        first = doctors.create(body)
        assert doctors.create(body) == first
    assert members(places["north"]) == {first["id"]}


# ------------------------------------------------------------------------------------------ the lists
def test_doctors_are_listed_by_location_and_by_specialty_too(invoke, places):
    """GET /doctors?location_id= lists exactly the doctors whose hours name it now (paginated, any page
    size); with ?specialty= as well, both filters apply; an unknown location has none; a malformed one
    is a 422; a doctor whose hours leave the location leaves the list."""
    surgeons = [create_doctor(invoke, {"mon": [at(places["north"])]})["id"] for _ in range(3)]
    gp = create_doctor(
        invoke, {"fri": [at(places["north"]), at(places["south"], "13:00", "15:00")]}, specialty="General Practice"
    )
    elsewhere = create_doctor(invoke, {"mon": [at(places["south"])]})["id"]
    assert sorted(listed_doctors(invoke, {"location_id": places["north"], "limit": "2"})) == sorted(
        [*surgeons, gp["id"]]
    )
    assert listed_doctors(invoke, {"location_id": places["south"]}) == sorted([gp["id"], elsewhere])
    assert sorted(
        listed_doctors(invoke, {"location_id": places["north"], "specialty": "SURGERY", "limit": "1"})
    ) == sorted(surgeons)
    assert listed_doctors(invoke, {"location_id": places["north"], "specialty": "general practice"}) == [gp["id"]]
    assert listed_doctors(invoke, {"location_id": str(uuid.uuid4())}) == []
    patch_doctor(invoke, surgeons[0], {"working_hours": {"mon": [at(None)]}})
    assert sorted(listed_doctors(invoke, {"location_id": places["north"]})) == sorted([*surgeons[1:], gp["id"]])
    bad = invoke("ListDoctorsFunction", event_for("GET", "/doctors", query={"location_id": "north"}))
    problem(bad, 422, "VALIDATION_ERROR")


def test_a_doctors_by_location_token_is_bound_to_its_location_and_specialty(invoke, places):
    for _ in range(2):
        create_doctor(invoke, {"mon": [at(places["north"])], "tue": [at(places["south"])]})
    first = invoke(
        "ListDoctorsFunction", event_for("GET", "/doctors", query={"location_id": places["north"], "limit": "1"})
    )
    token = first["json"]["next_token"]
    assert token
    for query in ({"location_id": places["south"]}, {}, {"location_id": places["north"], "specialty": "Surgery"}):
        response = invoke("ListDoctorsFunction", event_for("GET", "/doctors", query={**query, "next_token": token}))
        problem(response, 422, "VALIDATION_ERROR")


def test_at_location_answers_every_doctor_working_there_read_consistently(invoke, places, monkeypatch):
    """clinic.services.doctors.at_location (for the availability search): the records of every doctor
    whose hours name the location now, over as many pages as it takes, nobody else."""
    from clinic.services import doctors

    there = {create_doctor(invoke, {"mon": [at(places["north"])]})["id"] for _ in range(5)}
    create_doctor(invoke, {"mon": [at(places["south"])]})
    moved = create_doctor(invoke, {"mon": [at(places["north"])]})["id"]
    patch_doctor(invoke, moved, {"working_hours": {"mon": [at(places["south"])]}})
    in_function(monkeypatch, "ListDoctorsFunction")  # what at_location needs, ListDoctors has
    monkeypatch.setattr(doctors, "_MEMBERS_PAGE", 2)  # three pages
    found = doctors.at_location(places["north"])
    assert {d["id"] for d in found} == there and len(found) == 5
    assert all(d["working_hours"]["mon"][0]["location_id"] == places["north"] and "version" in d for d in found)
    assert doctors.at_location(str(uuid.uuid4())) == []
