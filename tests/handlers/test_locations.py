"""Locations and resources (rooms and equipment) through their functions (API.md v1.2, "Locations" and
"Rooms and equipment"): create, read, list by name, partial update, the fields fixed once created, the
404s and 422s, and keyed creates answered once."""

from __future__ import annotations

import uuid

import pytest

from tests.claims import claims_of
from tests.handlers.conftest import event_for
from tests.handlers.helpers import in_function, problem, snapshot

ADDRESS = {"line": "100 Main Street", "city": "Springfield", "postal_code": "01101", "country": "US"}
UNKNOWN = "0b7f6c2e-41d5-4e8a-9c3b-6a5d4e3f2a1b"  # a UUID v4 no record has
VERSION_1 = "5df5c668-f1fc-11f1-b24c-02fc00000001"  # a UUID, but not a v4 one
NORTHSIDE = {"name": "Northside", "time_zone": "America/New_York", "address": ADDRESS, "phone": "+14135550100"}


def create_location(invoke, **fields) -> dict:
    response = invoke("CreateLocationFunction", event_for("POST", "/locations", body={**NORTHSIDE, **fields}))
    assert response["statusCode"] == 201, response
    return response["json"]


def create_resource(invoke, location_id: str, **fields) -> dict:
    body = {"location_id": location_id, "name": "Exam room 1", "kind": "exam-room", "category": "room", **fields}
    response = invoke("CreateResourceFunction", event_for("POST", "/resources", body=body))
    assert response["statusCode"] == 201, response
    return response["json"]


def patch_location(invoke, location_id: str, body) -> dict:
    return invoke(
        "UpdateLocationFunction",
        event_for("PATCH", "/locations/{location_id}", {"location_id": location_id}, body=body),
    )


def patch_resource(invoke, resource_id: str, body) -> dict:
    return invoke(
        "UpdateResourceFunction",
        event_for("PATCH", "/resources/{resource_id}", {"resource_id": resource_id}, body=body),
    )


def get_location(invoke, location_id: str, claims=None) -> dict:
    return invoke(
        "GetLocationFunction", event_for("GET", "/locations/{location_id}", {"location_id": location_id}, claims=claims)
    )


def get_resource(invoke, resource_id: str) -> dict:
    return invoke("GetResourceFunction", event_for("GET", "/resources/{resource_id}", {"resource_id": resource_id}))


def listed(invoke, function: str, resource: str, query: dict | None = None) -> tuple[list[list[dict]], list[str]]:
    """Every page of a list (its items per page), following next_token to the end."""
    pages, token = [], None
    while True:
        response = invoke(
            function, event_for("GET", resource, query={**(query or {}), **({"next_token": token} if token else {})})
        )
        assert response["statusCode"] == 200, response
        pages.append(response["json"]["items"])
        token = response["json"]["next_token"]
        if token is None:
            return pages, [i["name"] for page in pages for i in page]


# ------------------------------------------------------------------------------------------ locations
def test_a_location_is_created_active_with_location_header_and_read_back_by_anyone(invoke):
    """Given staff, when they create a location, then 201 with Location, exactly the contract's fields, active;
    and a patient (any authenticated user) reads the same record."""
    response = invoke("CreateLocationFunction", event_for("POST", "/locations", body=NORTHSIDE))
    assert response["statusCode"] == 201, response
    body = response["json"]
    assert response["headers"]["Location"] == f"/locations/{body['id']}"
    assert set(body) == {"id", "name", "time_zone", "address", "phone", "active", "created_at", "updated_at"}
    assert body["active"] is True and body["address"] == ADDRESS and body["time_zone"] == "America/New_York"
    assert uuid.UUID(body["id"]).version == 4 and body["created_at"].endswith("Z")
    read = get_location(invoke, body["id"], claims=claims_of("patient", str(uuid.uuid4()), sub="p"))
    assert read["statusCode"] == 200 and read["json"] == body


def test_address_and_phone_are_optional_and_answered_null(invoke):
    body = create_location(invoke, address=None, phone=None)
    assert body["address"] is None and body["phone"] is None
    minimal = invoke(
        "CreateLocationFunction", event_for("POST", "/locations", body={"name": "Annex", "time_zone": "UTC"})
    )
    assert minimal["statusCode"] == 201 and minimal["json"]["address"] is None, minimal


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "localtime"}, "time_zone"),
        ({"name": ""}, "name"),
        ({"name": "North\u202eside"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"phone": "4135550100"}, "phone"),
        ({"address": {**ADDRESS, "country": "us"}}, "address.country"),
        ({"address": {**ADDRESS, "country": "XX"}}, "address.country"),
        ({"address": {**ADDRESS, "country": "USA"}}, "address.country"),
        ({"address": {**ADDRESS, "line": ""}}, "address.line"),
        ({"address": {**ADDRESS, "line": "x" * 201}}, "address.line"),
        ({"address": {**ADDRESS, "city": "Spring\x00field"}}, "address.city"),
        ({"address": {**ADDRESS, "postal_code": "1" * 21}}, "address.postal_code"),
        ({"address": {"line": "1 Main St", "city": "Springfield", "country": "US"}}, "address.postal_code"),
        ({"address": {**ADDRESS, "floor": 2}}, "address.floor"),
        ({"active": False}, "active"),
        ({"id": str(uuid.uuid4())}, "id"),
        ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_a_bad_location_is_a_422_on_its_field_and_creates_nothing(invoke, aws, fields, field):
    before = snapshot(aws)
    response = invoke("CreateLocationFunction", event_for("POST", "/locations", body={**NORTHSIDE, **fields}))
    body = problem(response, 422, "VALIDATION_ERROR")
    assert field in [e["field"] for e in body["errors"]], body
    assert snapshot(aws) == before


def test_a_patch_changes_name_address_phone_and_active_and_null_clears_address_and_phone(invoke):
    location = create_location(invoke)
    # When staff rename it and move it
    moved = {**ADDRESS, "line": "200 Elm Street"}
    response = patch_location(invoke, location["id"], {"name": "Northside East", "address": moved})
    assert response["statusCode"] == 200, response
    changed = response["json"]
    assert changed["name"] == "Northside East" and changed["address"] == moved and changed["phone"] == location["phone"]
    assert changed["created_at"] == location["created_at"] and changed["updated_at"] >= location["updated_at"]
    # When they clear the phone and the address, and deactivate it
    cleared = patch_location(invoke, location["id"], {"phone": None, "address": None, "active": False})["json"]
    assert cleared["phone"] is None and cleared["address"] is None and cleared["active"] is False
    assert get_location(invoke, location["id"])["json"] == cleared


@pytest.mark.parametrize(
    "body, field",
    [
        ({"time_zone": "Europe/London"}, "time_zone"),
        ({"time_zone": "America/New_York"}, "time_zone"),  # even the zone it has: fixed means not in a PATCH
        ({"id": str(uuid.uuid4())}, "id"),
        ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
        ({"name": None}, "body"),
        ({"active": None}, "body"),
        ({}, "body"),
        ({"phone": "not a phone"}, "phone"),
    ],
)
def test_a_location_patch_of_anything_else_time_zone_included_is_a_422_and_changes_nothing(invoke, aws, body, field):
    location = create_location(invoke)
    before = snapshot(aws)
    answer = problem(patch_location(invoke, location["id"], body), 422, "VALIDATION_ERROR")
    assert field in [e["field"] for e in answer["errors"]], answer
    assert snapshot(aws) == before


@pytest.mark.parametrize("location_id", [UNKNOWN, "not-a-uuid", VERSION_1, "..", UNKNOWN.upper()])
def test_an_unknown_or_malformed_location_id_in_the_path_is_a_404(invoke, location_id):
    problem(get_location(invoke, location_id), 404, "NOT_FOUND")
    problem(patch_location(invoke, location_id, {"name": "Nowhere"}), 404, "NOT_FOUND")


def test_locations_are_listed_by_name_whatever_the_case_page_by_page(invoke):
    """Given five locations created out of order, when listed two at a time, then every page comes in
    name order (case-insensitive), the last with next_token null; a rename moves a location in the list."""
    names = ["delta", "Alpha", "charlie", "Echo", "bravo"]
    ids = {name: create_location(invoke, name=name)["id"] for name in names}
    pages, found = listed(invoke, "ListLocationsFunction", "/locations", {"limit": "2"})
    assert found == ["Alpha", "bravo", "charlie", "delta", "Echo"]
    assert [len(p) for p in pages] == [2, 2, 1]
    patch_location(invoke, ids["Alpha"], {"name": "zulu"})
    assert listed(invoke, "ListLocationsFunction", "/locations")[1] == ["bravo", "charlie", "delta", "Echo", "zulu"]


def test_a_location_list_token_is_bound_to_its_list(invoke):
    for name in ("A", "B"):
        create_location(invoke, name=name)
    token = invoke("ListLocationsFunction", event_for("GET", "/locations", query={"limit": "1"}))["json"]["next_token"]
    assert token
    # the token of another list, and a tampered one, are refused
    other = invoke("ListResourcesFunction", event_for("GET", "/resources", query={"next_token": token}))
    problem(other, 422, "VALIDATION_ERROR")
    tampered = invoke(
        "ListLocationsFunction", event_for("GET", "/locations", query={"next_token": token[:-4] + "AAAA"})
    )
    problem(tampered, 422, "VALIDATION_ERROR")
    problem(
        invoke("ListLocationsFunction", event_for("GET", "/locations", query={"limit": "0"})), 422, "VALIDATION_ERROR"
    )


@pytest.mark.parametrize(
    "function, resource, body",
    [
        ("CreateLocationFunction", "/locations", NORTHSIDE),
        ("CreateResourceFunction", "/resources", None),  # body made with a location below
    ],
)
def test_a_keyed_create_retried_answers_the_same_record_once(invoke, aws, function, resource, body):
    """Given a create with an Idempotency-Key, when it is sent again with the same key and body, then the
    same status and record come back, marked replayed, and only one record exists."""
    if body is None:
        body = {
            "location_id": create_location(invoke)["id"],
            "name": "Echo room",
            "kind": "ultrasound",
            "category": "equipment",
        }
    request = event_for("POST", resource, body=body, claims=claims_of("staff", sub="keyed-staff"))
    request["headers"]["Idempotency-Key"] = "create-once"
    first, again = invoke(function, request), invoke(function, request)
    assert first["statusCode"] == again["statusCode"] == 201, (first, again)
    assert again["json"] == first["json"] and again["headers"]["Idempotent-Replayed"] == "true"
    assert again["headers"]["Location"] == first["headers"]["Location"]
    table = next(
        n
        for n in aws.list_tables()["TableNames"]
        if n.endswith("LocationsTable" if "Location" in function else "ResourcesTable")
    )
    assert len(aws.scan(TableName=table)["Items"]) == 1


def test_a_keyed_create_whose_answer_was_lost_finds_its_own_record(invoke, aws, monkeypatch):
    """Given a keyed create that committed but whose answer never arrived (the idempotency record was
    let go), when the client retries with the key, then it answers the record already written, not a
    second one (its id comes from the key)."""
    from clinic.models.locations import LocationCreate
    from clinic.services import keyed, locations

    in_function(monkeypatch, "CreateLocationFunction")

    with keyed("POST /locations#sub#lost-answer"):
        first = locations.create(LocationCreate.model_validate(NORTHSIDE))
        retried = locations.create(LocationCreate.model_validate(NORTHSIDE))
    assert retried == first
    table = next(n for n in aws.list_tables()["TableNames"] if n.endswith("LocationsTable"))
    assert len(aws.scan(TableName=table)["Items"]) == 1


# ------------------------------------------------------------------------------------------ resources
def test_a_resource_is_created_at_a_location_active_and_read_back(invoke):
    location = create_location(invoke)
    response = invoke(
        "CreateResourceFunction",
        event_for(
            "POST",
            "/resources",
            body={"location_id": location["id"], "name": "Ultrasound A", "kind": "ultrasound", "category": "equipment"},
        ),
    )
    assert response["statusCode"] == 201, response
    body = response["json"]
    assert response["headers"]["Location"] == f"/resources/{body['id']}"
    assert set(body) == {"id", "location_id", "name", "kind", "category", "active", "created_at", "updated_at"}
    assert (body["location_id"], body["kind"], body["category"], body["active"]) == (
        location["id"],
        "ultrasound",
        "equipment",
        True,
    )
    assert get_resource(invoke, body["id"])["json"] == body


def test_a_resource_at_an_unknown_location_is_a_404_and_at_an_inactive_one_a_422(invoke, aws):
    """Given no such location, then 404 naming location_id; given a deactivated location, then 422 naming
    it; neither creates anything."""
    before = snapshot(aws)
    body = {"location_id": str(uuid.uuid4()), "name": "Room", "kind": "exam-room", "category": "room"}
    answer = problem(invoke("CreateResourceFunction", event_for("POST", "/resources", body=body)), 404, "NOT_FOUND")
    assert [e["field"] for e in answer["errors"]] == ["location_id"]
    assert snapshot(aws) == before
    closed = create_location(invoke, name="Closed")
    patch_location(invoke, closed["id"], {"active": False})
    before = snapshot(aws)
    response = invoke(
        "CreateResourceFunction", event_for("POST", "/resources", body={**body, "location_id": closed["id"]})
    )
    answer = problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in answer["errors"]] == ["location_id"]
    assert snapshot(aws) == before


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"kind": "Exam-Room"}, "kind"),
        ({"kind": "exam room"}, "kind"),
        ({"kind": "x" * 41}, "kind"),
        ({"kind": ""}, "kind"),
        ({"category": "desk"}, "category"),
        ({"location_id": "not-a-uuid"}, "location_id"),
        ({"name": "Room\x07"}, "name"),
        ({"active": True}, "active"),
        ({"id": str(uuid.uuid4())}, "id"),
    ],
)
def test_a_bad_resource_is_a_422_on_its_field(invoke, aws, fields, field):
    location = create_location(invoke)
    before = snapshot(aws)
    body = {"location_id": location["id"], "name": "Room", "kind": "exam-room", "category": "room", **fields}
    answer = problem(
        invoke("CreateResourceFunction", event_for("POST", "/resources", body=body)), 422, "VALIDATION_ERROR"
    )
    assert field in [e["field"] for e in answer["errors"]], answer
    assert snapshot(aws) == before


def test_a_resource_patch_renames_and_deactivates(invoke):
    resource = create_resource(invoke, create_location(invoke)["id"])
    renamed = patch_resource(invoke, resource["id"], {"name": "Exam room 1 (east)"})
    assert renamed["statusCode"] == 200 and renamed["json"]["name"] == "Exam room 1 (east)", renamed
    retired = patch_resource(invoke, resource["id"], {"active": False})["json"]
    assert (
        retired["active"] is False
        and retired["kind"] == "exam-room"
        and retired["location_id"] == resource["location_id"]
    )
    assert get_resource(invoke, resource["id"])["json"] == retired


@pytest.mark.parametrize(
    "body, field",
    [
        ({"location_id": str(uuid.uuid4())}, "location_id"),
        ({"kind": "ultrasound"}, "kind"),
        ({"kind": "exam-room"}, "kind"),  # even its own kind: fixed means not in a PATCH
        ({"category": "equipment"}, "category"),
        ({"name": None}, "body"),
        ({}, "body"),
    ],
)
def test_a_resources_location_kind_and_category_are_fixed(invoke, aws, body, field):
    resource = create_resource(invoke, create_location(invoke)["id"])
    before = snapshot(aws)
    answer = problem(patch_resource(invoke, resource["id"], body), 422, "VALIDATION_ERROR")
    assert field in [e["field"] for e in answer["errors"]], answer
    assert snapshot(aws) == before


@pytest.mark.parametrize("resource_id", [UNKNOWN, "junk", VERSION_1])
def test_an_unknown_or_malformed_resource_id_in_the_path_is_a_404(invoke, resource_id):
    problem(get_resource(invoke, resource_id), 404, "NOT_FOUND")
    problem(patch_resource(invoke, resource_id, {"name": "Nothing"}), 404, "NOT_FOUND")


def test_resources_are_listed_by_name_by_location_and_by_kind(invoke):
    """Given rooms and equipment at two locations, then the list is by name (case-insensitive) across all
    of them; ?location_id= lists one location's; ?kind= filters (the pages may then be short, never wrong);
    both filters apply together; a location that does not exist has none."""
    north, south = create_location(invoke, name="North")["id"], create_location(invoke, name="South")["id"]
    for location, name, kind, category in (
        (north, "room b", "exam-room", "room"),
        (south, "Room A", "exam-room", "room"),
        (north, "Echo 1", "ultrasound", "equipment"),
        (north, "Room C", "exam-room", "room"),
        (south, "echo 2", "ultrasound", "equipment"),
    ):
        create_resource(invoke, location, name=name, kind=kind, category=category)
    everything = listed(invoke, "ListResourcesFunction", "/resources", {"limit": "2"})
    assert everything[1] == ["Echo 1", "echo 2", "Room A", "room b", "Room C"]
    assert listed(invoke, "ListResourcesFunction", "/resources", {"location_id": north, "limit": "2"})[1] == [
        "Echo 1",
        "room b",
        "Room C",
    ]
    assert listed(invoke, "ListResourcesFunction", "/resources", {"kind": "ultrasound", "limit": "2"})[1] == [
        "Echo 1",
        "echo 2",
    ]
    assert listed(invoke, "ListResourcesFunction", "/resources", {"location_id": south, "kind": "exam-room"})[1] == [
        "Room A"
    ]
    assert listed(invoke, "ListResourcesFunction", "/resources", {"location_id": str(uuid.uuid4())})[1] == []


def test_a_resource_list_token_is_bound_to_its_query(invoke):
    north, south = create_location(invoke, name="North")["id"], create_location(invoke, name="South")["id"]
    for location in (north, north, south):
        create_resource(invoke, location)
    first = invoke("ListResourcesFunction", event_for("GET", "/resources", query={"location_id": north, "limit": "1"}))
    token = first["json"]["next_token"]
    assert token
    for query in ({"location_id": south}, {}, {"location_id": north, "kind": "exam-room"}):
        response = invoke("ListResourcesFunction", event_for("GET", "/resources", query={**query, "next_token": token}))
        problem(response, 422, "VALIDATION_ERROR")
    for query in ({"location_id": "junk"}, {"kind": "Not A Kind"}):
        problem(invoke("ListResourcesFunction", event_for("GET", "/resources", query=query)), 422, "VALIDATION_ERROR")


def test_deactivating_a_location_keeps_its_resources_and_takes_no_new_ones(invoke):
    location = create_location(invoke)
    room = create_resource(invoke, location["id"])
    patch_location(invoke, location["id"], {"active": False})
    assert get_resource(invoke, room["id"])["json"] == room
    body = {"location_id": location["id"], "name": "Room 2", "kind": "exam-room", "category": "room"}
    problem(invoke("CreateResourceFunction", event_for("POST", "/resources", body=body)), 422, "VALIDATION_ERROR")
    # active again: it takes resources again
    patch_location(invoke, location["id"], {"active": True})
    assert invoke("CreateResourceFunction", event_for("POST", "/resources", body=body))["statusCode"] == 201


@pytest.mark.parametrize("role", ["doctor", "patient"])
def test_only_staff_create_and_change_locations_and_resources(invoke, role):
    location = create_location(invoke)
    resource = create_resource(invoke, location["id"])
    who = claims_of(role, str(uuid.uuid4()), sub=f"{role}-x")
    for function, method, path_template, params, body in (
        ("CreateLocationFunction", "POST", "/locations", None, NORTHSIDE),
        ("UpdateLocationFunction", "PATCH", "/locations/{location_id}", {"location_id": location["id"]}, {"name": "X"}),
        (
            "CreateResourceFunction",
            "POST",
            "/resources",
            None,
            {"location_id": location["id"], "name": "R", "kind": "k", "category": "room"},
        ),
        ("UpdateResourceFunction", "PATCH", "/resources/{resource_id}", {"resource_id": resource["id"]}, {"name": "X"}),
    ):
        response = invoke(function, event_for(method, path_template, params, body=body, claims=who))
        assert response["statusCode"] == 403, (function, response)
