"""Locations, resources and doctors at locations over real HTTP, on DynamoDB Local: the checks inside the
writes' transactions (unknown 404, inactive or another zone 422), and a location's doctor items in step
with the doctor's hours however many changes race."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

DOCTOR = {"given_name": "Lena", "family_name": "Located", "specialty": "Sited medicine", "time_zone": "UTC"}


def post(stack, path: str, body: dict) -> requests.Response:
    return requests.post(stack.url + path, json=body, headers=stack.headers("staff"), timeout=60)


def patch(stack, path: str, body: dict) -> requests.Response:
    return requests.patch(stack.url + path, json=body, headers=stack.headers("staff"), timeout=60)


def hours_at(location_id: str) -> dict:
    return {"mon": [{"start": "09:00", "end": "12:00", "location_id": location_id}]}


def doctors_at(stack, location_id: str) -> set[str]:
    found, token = set(), None
    while True:
        query = {"location_id": location_id, "limit": "2", **({"next_token": token} if token else {})}
        answer = requests.get(stack.url + "/doctors", params=query, headers=stack.headers("staff"), timeout=60)
        assert answer.status_code == 200, answer.text
        found |= {d["id"] for d in answer.json()["items"]}
        token = answer.json()["next_token"]
        if token is None:
            return found


def test_locations_resources_and_a_doctors_hours_are_checked_in_the_write(stack):
    north = post(stack, "/locations", {"name": "HTTP North", "time_zone": "UTC"}).json()["id"]
    closed = post(stack, "/locations", {"name": "HTTP Closed", "time_zone": "UTC"}).json()["id"]
    london = post(stack, "/locations", {"name": "HTTP London", "time_zone": "Europe/London"}).json()["id"]
    assert patch(stack, f"/locations/{closed}", {"active": False}).status_code == 200
    # resources: at an active location only
    room = {"name": "Room", "kind": "exam-room", "category": "room"}
    assert post(stack, "/resources", {**room, "location_id": north}).status_code == 201
    assert post(stack, "/resources", {**room, "location_id": closed}).json()["code"] == "VALIDATION_ERROR"
    unknown = post(stack, "/resources", {**room, "location_id": str(uuid.uuid4())})
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "location_id"
    # a doctor's hours: unknown 404, closed or another zone 422, an active one in the zone 201
    nowhere = post(stack, "/doctors", {**DOCTOR, "working_hours": hours_at(str(uuid.uuid4()))})
    assert nowhere.status_code == 404, nowhere.text
    assert nowhere.json()["errors"][0]["field"] == "working_hours.mon[0].location_id"
    for where in (closed, london):
        refused = post(stack, "/doctors", {**DOCTOR, "working_hours": hours_at(where)})
        assert refused.status_code == 422 and refused.json()["code"] == "VALIDATION_ERROR", refused.text
    doctor = post(stack, "/doctors", {**DOCTOR, "working_hours": hours_at(north)})
    assert doctor.status_code == 201, doctor.text
    doctor_id = doctor.json()["id"]
    assert doctors_at(stack, north) == {doctor_id}
    # the doctor's zone alone cannot leave its locations' zone
    moved_zone = patch(stack, f"/doctors/{doctor_id}", {"time_zone": "Europe/London"})
    assert moved_zone.status_code == 422, moved_zone.text
    both = patch(stack, f"/doctors/{doctor_id}", {"time_zone": "Europe/London", "working_hours": hours_at(london)})
    assert both.status_code == 200, both.text
    assert doctors_at(stack, north) == set() and doctors_at(stack, london) == {doctor_id}


def test_a_locations_doctors_follow_racing_changes_of_the_hours(stack):
    """Twenty PATCHes of one doctor's hours race, each to one of three locations: whichever wins last, the
    locations' doctor lists name the doctor exactly where its hours now are (never two, never none)."""
    sites = [post(stack, "/locations", {"name": f"Race site {i}", "time_zone": "UTC"}).json()["id"] for i in range(3)]
    doctor_id = post(stack, "/doctors", {**DOCTOR, "working_hours": hours_at(sites[0])}).json()["id"]
    rng = random.Random(19)
    targets = [rng.choice(sites) for _ in range(20)]

    def move(site: str) -> int:
        return patch(stack, f"/doctors/{doctor_id}", {"working_hours": hours_at(site)}).status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(move, targets))
    assert set(statuses) <= {200, 503} and 200 in statuses, statuses  # 503: changed concurrently, retry
    now = requests.get(f"{stack.url}/doctors/{doctor_id}", headers=stack.headers("staff"), timeout=60).json()
    (where,) = {i["location_id"] for i in now["working_hours"]["mon"]}
    assert {site: doctors_at(stack, site) for site in sites} == {
        site: ({doctor_id} if site == where else set()) for site in sites
    }
